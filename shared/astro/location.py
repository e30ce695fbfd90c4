"""Observer-location validation shared by the sun and planetary-hour engines.

Every public function that takes a place validates it with these helpers and raises
:class:`LocationError` (a :class:`ValueError`) naming the offending field, so an API layer can turn it into
a 422 with a clear message. Field names are those of the query parameters: ``lat``, ``lon``, ``tz``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "LocationError",
    "TzLike",
    "resolve_timezone",
    "validate_lat",
    "validate_location",
    "validate_lon",
]

#: A time zone given as an IANA key (``"America/New_York"``) or a :class:`ZoneInfo`.
TzLike = str | ZoneInfo


class LocationError(ValueError):
    """Invalid observer location; ``field`` is ``"lat"``, ``"lon"`` or ``"tz"``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _as_float(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LocationError(field, f"must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise LocationError(field, f"must be a finite number, got {value!r}")
    return result


def validate_lat(lat: float) -> float:
    """Return ``lat`` as a float, or raise :class:`LocationError` unless it lies in [-90, 90]."""
    value = _as_float(lat, "lat")
    if not -90.0 <= value <= 90.0:
        raise LocationError("lat", f"latitude must be between -90 and 90 degrees, got {value}")
    return value


def validate_lon(lon: float) -> float:
    """Return ``lon`` as a float, or raise :class:`LocationError` unless it lies in [-180, 180]."""
    value = _as_float(lon, "lon")
    if not -180.0 <= value <= 180.0:
        raise LocationError("lon", f"longitude must be between -180 and 180 degrees, got {value}")
    return value


@lru_cache(maxsize=512)
def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


def resolve_timezone(tz: TzLike) -> ZoneInfo:
    """Return the :class:`ZoneInfo` for an IANA key (or pass a ZoneInfo through).

    Raises :class:`LocationError` with ``field="tz"`` for an unknown or malformed key. Zone data come from
    the ``tzdata`` package when the system has no zoneinfo database (slim images).
    """
    if isinstance(tz, ZoneInfo):
        if not tz.key:
            raise LocationError("tz", "a ZoneInfo without an IANA key (loaded from a file) is not supported")
        return tz
    if not isinstance(tz, str):
        raise LocationError("tz", f"must be an IANA time-zone name, got {type(tz).__name__}")
    key = tz.strip()
    if not key:
        raise LocationError("tz", "must be an IANA time-zone name such as 'America/New_York'")
    try:
        return _zone(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise LocationError("tz", f"unknown IANA time zone {tz!r}") from None


def validate_location(
    lat: float, lon: float, tz: TzLike | None = None
) -> tuple[float, float, ZoneInfo | None]:
    """Validate a whole location at once; ``tz`` may be omitted (returns ``None`` for it)."""
    lat_ok = validate_lat(lat)
    lon_ok = validate_lon(lon)
    zone = resolve_timezone(tz) if tz is not None else None
    return lat_ok, lon_ok, zone
