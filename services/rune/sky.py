"""The sky facts the rune engine needs, taken from :mod:`shared.astro` (no astronomy of our own here).

* :func:`day_sky` — for a local date and zone: the day ruler (weekday ruler, domain.md §7), and the Moon's
  sign, element and phase at **local noon** of that date. It does not depend on the observer's
  coordinates (the Moon's geocentric sign and phase are the same for everybody at one instant), so the
  daily rune is the same for everybody in one zone.
* :func:`moment_sky` — for an instant and a place: the sect (apparent altitude of the Sun's centre > 0°)
  and the planetary hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from shared.alchemy.constants import SIGN_ELEMENT
from shared.astro import (
    LocationError,
    compute_positions,
    day_ruler,
    is_diurnal,
    moon_phase,
    planetary_hour,
    resolve_timezone,
    validate_lat,
    validate_lon,
)

__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "DaySky",
    "LocationError",
    "MomentSky",
    "check_date",
    "day_sky",
    "moment_sky",
    "resolve_timezone",
    "validate_lat",
    "validate_lon",
]

#: Dates the service answers for (the ephemeris is validated over 1950–2050; ±150 years stays sane).
MIN_DATE: Final[date] = date(1800, 1, 1)
MAX_DATE: Final[date] = date(2200, 12, 31)
LOCAL_NOON: Final[time] = time(12, 0)


def check_date(local_date: date, field: str = "date") -> date:
    """Return ``local_date`` or raise :class:`LocationError`-like ValueError naming ``field``."""
    if not MIN_DATE <= local_date <= MAX_DATE:
        raise LocationError(field, f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
    return local_date


@dataclass(frozen=True, slots=True)
class DaySky:
    local_date: date
    timezone: str
    noon_utc: datetime
    day_ruler: str
    moon_sign: str
    moon_element: str
    moon_phase: str
    moon_illumination: float

    def to_dict(self) -> dict[str, object]:
        return {
            "day_ruler": self.day_ruler,
            "moon_sign": self.moon_sign,
            "moon_element": self.moon_element,
            "moon_phase": self.moon_phase,
            "moon_illumination": round(self.moon_illumination, 4),
            "computed_at": self.noon_utc.isoformat().replace("+00:00", "Z"),
        }


@lru_cache(maxsize=4096)
def _day_sky(local_date: date, tz_key: str) -> DaySky:
    zone = resolve_timezone(tz_key)
    noon = datetime.combine(local_date, LOCAL_NOON, tzinfo=zone)
    moon = compute_positions(noon)["Moon"]
    phase = moon_phase(noon)
    return DaySky(
        local_date=local_date,
        timezone=zone.key,
        noon_utc=noon.astimezone(ZoneInfo("UTC")),
        day_ruler=day_ruler(local_date),
        moon_sign=moon.sign,
        moon_element=SIGN_ELEMENT[moon.sign],
        moon_phase=phase.name,
        moon_illumination=phase.illumination,
    )


def day_sky(local_date: date, tz: str | ZoneInfo) -> DaySky:
    """Sky facts of a local date in a zone (memoised per date and zone)."""
    zone = resolve_timezone(tz)
    check_date(local_date)
    return _day_sky(local_date, zone.key)


@dataclass(frozen=True, slots=True)
class MomentSky:
    at: datetime
    sect: str  # "diurnal" | "nocturnal"
    hour_ruler: str
    day_ruler: str
    hour_number: int
    is_daytime: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "sect": self.sect,
            "planetaryHour": self.hour_ruler,
            "hourNumber": self.hour_number,
            "dayRuler": self.day_ruler,
            "isDaytime": self.is_daytime,
        }


def moment_sky(at: datetime, lat: float, lon: float, tz: str | ZoneInfo) -> MomentSky:
    """Sect and planetary hour at an aware instant and a place."""
    lat = validate_lat(lat)
    lon = validate_lon(lon)
    hour = planetary_hour(at, lat, lon, tz)
    return MomentSky(
        at=at,
        sect="diurnal" if is_diurnal(at, lat, lon) else "nocturnal",
        hour_ruler=hour.planet,
        day_ruler=hour.day_ruler,
        hour_number=hour.hour_number,
        is_daytime=hour.is_daytime,
    )
