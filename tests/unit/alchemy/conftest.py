"""Shared fixtures of the alchemy tests: the golden files, loaded from the project copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

GOLDEN_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "golden"


def load_golden(name: str) -> Any:
    with (GOLDEN_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


ESMS_CONFORMANCE = load_golden("esms_conformance.json")
KALCHM_GOLDEN = load_golden("kalchm_golden_vectors.json")
ASPECT_GOLDEN = load_golden("aspect_effects_golden.json")


@pytest.fixture(scope="session")
def esms_conformance() -> Any:
    return ESMS_CONFORMANCE


@pytest.fixture(scope="session")
def kalchm_golden() -> Any:
    return KALCHM_GOLDEN
