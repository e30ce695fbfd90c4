"""Fixtures for the astro tests (skyfield/DE421 reference, loaded once per session, offline)."""

from __future__ import annotations

import pytest

from tests.unit.astro.skyref import SkyRef


@pytest.fixture(scope="session")
def sky() -> SkyRef:
    """The DE421 reference (see ``skyref.py``)."""
    return SkyRef()


@pytest.fixture(autouse=True)
def _fresh_astro_caches() -> None:
    """Every test starts with empty LRU caches, so results never depend on test order."""
    from shared.astro import clear_hour_cache, clear_position_cache

    clear_hour_cache()
    clear_position_cache()
