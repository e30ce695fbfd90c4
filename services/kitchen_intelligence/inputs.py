"""Instants and locations of kitchen requests: the fleet's parsers (``shared.inputs``) with the kitchen's
conventions — an absent instant is ``None`` (meaning "now", resolved by the sky layer) and location fields
are reported under ``location.``. Every parser raises :class:`shared.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.inputs import Location, solar_zone, zone
from shared.inputs import parse_instant as _parse_instant
from shared.inputs import parse_location as _parse_location
from shared.settings import Settings

__all__ = ["Location", "parse_instant", "parse_location", "solar_zone", "zone"]


def parse_instant(value: Any, field: str) -> datetime | None:
    """An aware UTC datetime, or ``None`` when the value is absent (meaning "now")."""
    if value is None or value == "":
        return None
    return _parse_instant(value, field)


def parse_location(
    settings: Settings,
    latitude: Any = None,
    longitude: Any = None,
    tz: Any = None,
    *,
    prefix: str = "location.",
    names: tuple[str, str, str] = ("latitude", "longitude", "tz"),
) -> Location:
    """A location from optional latitude/longitude/tz (default New York City); fields under ``location.``."""
    return _parse_location(settings, latitude, longitude, tz, prefix=prefix, names=names)
