"""Input parsing shared by the services: instants, locations (with IANA zones), coordinates.

Each parser raises :class:`shared.errors.InvalidInput` naming the field, so every bad input is a 422
with a clear reason (never a 500).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import InvalidInput
from shared.settings import Settings

#: Field names of a location given as query parameters (``?lat=&lon=&tz=``).
QUERY_NAMES = ("lat", "lon", "tz")

MIN_INSTANT = datetime(1800, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(2200, 12, 31, 23, 59, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    tz: str
    tz_inferred: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"latitude": self.latitude, "longitude": self.longitude, "timezone": self.tz}
        if self.tz_inferred:
            out["timezoneInferred"] = True
        return out


_ZONES: dict[str, ZoneInfo] = {}


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name (memoised; raises ZoneInfoNotFoundError/ValueError when unknown)."""
    found = _ZONES.get(name)
    if found is None:
        found = ZoneInfo(name)
        if len(_ZONES) < 1024:
            _ZONES[name] = found
    return found


def parse_instant(value: Any, field: str = "at", *, default_now: bool = True) -> datetime:
    """An aware UTC datetime from an ISO 8601 string (``Z`` or offset; naive means UTC) or epoch ms."""
    if value is None or value == "":
        if default_now:
            return datetime.now(UTC)
        raise InvalidInput(field, "required")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InvalidInput(field, "must be a finite number of milliseconds since 1970-01-01")
        try:
            dt = datetime.fromtimestamp(value / 1000.0, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidInput(field, "epoch milliseconds out of range") from exc
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInput(field, f"not an ISO 8601 date-time: {value[:64]!r}") from exc
    else:
        raise InvalidInput(field, "must be an ISO 8601 date-time string or epoch milliseconds")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    if not MIN_INSTANT <= dt <= MAX_INSTANT:
        raise InvalidInput(field, "must be between 1800-01-01 and 2200-12-31")
    return dt


def _coordinate(value: Any, field: str, limit: float) -> float:
    if isinstance(value, bool):
        raise InvalidInput(field, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, "must be a number") from exc
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise InvalidInput(field, f"must be between {-limit:g} and {limit:g}")
    return number


def parse_location(
    settings: Settings,
    latitude: Any = None,
    longitude: Any = None,
    tz: Any = None,
    *,
    prefix: str = "",
    names: tuple[str, str, str] = ("latitude", "longitude", "tz"),
) -> Location:
    """A location from optional latitude/longitude/tz; defaults from settings (New York).

    Latitude and longitude go together: giving one without the other is an error. When coordinates come
    without a zone (the legacy frontend calls do that), the zone is the local mean solar one, the IANA
    ``Etc/GMT±h`` zone with offset round(longitude/15) h, and the answer says ``timezoneInferred``.
    The zone only decides the local date (the weekday of the planetary day)."""
    lat_field, lon_field, tz_field = (f"{prefix}{n}" for n in names)
    if (latitude is None) != (longitude is None):
        missing = lon_field if longitude is None else lat_field
        raise InvalidInput(missing, "latitude and longitude must be given together")
    inferred = False
    if latitude is None:
        lat, lon = settings.default_latitude, settings.default_longitude
        zone_name = tz if tz not in (None, "") else settings.default_timezone
    else:
        lat = _coordinate(latitude, lat_field, 90.0)
        lon = _coordinate(longitude, lon_field, 180.0)
        if tz not in (None, ""):
            zone_name = tz
        elif (lat, lon) == (settings.default_latitude, settings.default_longitude):
            zone_name = settings.default_timezone
        else:
            zone_name = solar_zone(lon)
            inferred = True
    if not isinstance(zone_name, str) or len(zone_name) > 64:
        raise InvalidInput(tz_field, "must be an IANA time zone name")
    try:
        zone(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(tz_field, f"unknown IANA time zone {zone_name!r}") from exc
    return Location(lat, lon, zone_name, inferred)


def solar_zone(longitude: float) -> str:
    """The IANA fixed-offset zone nearest to local mean solar time (note IANA's inverted Etc sign)."""
    offset = max(-12, min(12, round(longitude / 15.0)))
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
