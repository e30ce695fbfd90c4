"""Chaldean planetary hours (traditional unequal hours), per ``domain.md`` §7.

Rules:

* Chaldean order: Saturn, Jupiter, Mars, Sun, Venus, Mercury, Moon. Day rulers: Sunday Sun, Monday Moon,
  Tuesday Mars, Wednesday Mercury, Thursday Jupiter, Friday Venus, Saturday Saturn.
* The **planetary day** starts at local sunrise (:mod:`shared.astro.sun`: Sun's centre at −0.8333°). Its
  *planetary date* is the local date of that sunrise, which gives the weekday and so the day ruler; between
  local midnight and sunrise it is still the previous planetary date's night.
* Hour ``k`` (0..23 from sunrise) is ruled by ``CHALDEAN[(index(day ruler) + k) mod 7]``. Hours 1–12 divide
  sunrise→sunset into twelve equal parts, hours 13–24 divide sunset→next sunrise.
* **Polar fallback.** When the date has no complete sunrise→sunset→sunrise cycle (midnight sun, polar
  night and their transition days) no sunrise is invented: the day is answered with 12 equal hours from
  06:00 local and 12 from 18:00 local to 06:00 the next day, ``hour_system="equal_fallback"``, and
  ``reason`` says why. An instant is always answered by an hour that contains it: the unequal day of its
  local date or of the previous date when one covers it, else the fallback day (the previous date's when
  before 06:00 local).
* Planetary days are memoised in an LRU cache keyed by (local date, latitude and longitude rounded to
  0.01°, zone). All results use the rounded coordinates, so they do not depend on the cache state.
  0.01° is ≈ 1.1 km: the rounding (≤ 0.005° per axis) moves sunrise/sunset by ≤ 1.2 s through
  longitude; with latitude, measured worst cases (``scripts/ephemeris_report.py``, solstices and equinox)
  are ≤ 2.4 s below 45° of latitude, ≤ 3.5 s below 56°, 5.3 s at 61° (Anchorage) and 9 s at 64°
  (Reykjavik at the June solstice); close to polar-day transitions, when the Sun grazes the horizon, it
  can be larger. Sunrise itself is computed to ~0.2 s of DE421.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from shared.astro._core import require_aware
from shared.astro.location import (
    LocationError,
    TzLike,
    resolve_timezone,
    validate_lat,
    validate_location,
    validate_lon,
)
from shared.astro.sun import SunDay, SunStatus, compute_sun_day

__all__ = [
    "CHALDEAN_ORDER",
    "DAY_RULERS",
    "FALLBACK_DAY_START",
    "FALLBACK_NIGHT_START",
    "HOUR_CACHE_SIZE",
    "HourSystem",
    "LocationError",
    "PlanetaryDay",
    "PlanetaryHour",
    "clear_hour_cache",
    "day_ruler",
    "hour_cache_info",
    "hour_ruler",
    "planetary_hour",
    "planetary_hours_for_date",
    "resolve_timezone",
    "round_coordinate",
    "validate_lat",
    "validate_location",
    "validate_lon",
]

#: Chaldean order, slowest to fastest.
CHALDEAN_ORDER: Final[tuple[str, ...]] = ("Saturn", "Jupiter", "Mars", "Sun", "Venus", "Mercury", "Moon")
#: Day ruler by ``date.weekday()`` (Monday = 0).
DAY_RULERS: Final[tuple[str, ...]] = ("Moon", "Mars", "Mercury", "Jupiter", "Venus", "Saturn", "Sun")
#: Local start of the fallback day and night hours.
FALLBACK_DAY_START: Final[time] = time(6, 0)
FALLBACK_NIGHT_START: Final[time] = time(18, 0)
#: Planetary days kept in the LRU cache.
HOUR_CACHE_SIZE: Final[int] = 4096
#: Coordinates are rounded to this many decimals for the cache key and the computation.
COORDINATE_DECIMALS: Final[int] = 2

HourSystem = Literal["unequal", "equal_fallback"]

_STATUS_REASONS: Final[dict[str, str]] = {
    "midnight_sun": "midnight sun: the Sun does not rise on this local date (it is above the horizon)",
    "polar_night": "polar night: the Sun does not rise on this local date",
    "midnight_sun_begins": (
        "midnight sun begins: the Sun rises but does not set again before the next local date ends"
    ),
    "polar_night_begins": (
        "polar night begins: the Sun sets and does not rise again before the next local date ends"
    ),
}


def day_ruler(planetary_date: date) -> str:
    """Ruler of the planetary day that begins at sunrise on ``planetary_date`` (by its weekday)."""
    return DAY_RULERS[planetary_date.weekday()]


def hour_ruler(ruler_of_day: str, hour_index: int) -> str:
    """Ruler of hour ``hour_index`` (0..23, 0 = the hour from sunrise) of a day ruled by ``ruler_of_day``."""
    return CHALDEAN_ORDER[(CHALDEAN_ORDER.index(ruler_of_day) + hour_index) % 7]


def round_coordinate(value: float) -> float:
    """Round a coordinate to 0.01° (the planetary-day cache resolution)."""
    return round(value, COORDINATE_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class PlanetaryHour:
    """One planetary hour.

    Attributes:
        planet: ruler of the hour.
        hour_number: 1..24 counted from the start of the planetary day (1..12 day, 13..24 night).
        period_hour: 1..12 within the day half or the night half.
        is_daytime: True for hours 1..12 (between sunrise and sunset, or 06:00–18:00 in the fallback).
        start, end: aware UTC datetimes, ``start <= t < end``.
        day_ruler: ruler of the planetary day.
        planetary_date: local date whose sunrise (or 06:00, in the fallback) started the planetary day.
        sunrise, sunset: of the planetary day (UTC), ``None`` in the fallback.
        hour_system: ``"unequal"`` or ``"equal_fallback"``.
        reason: why the fallback was used (``None`` for unequal hours).
    """

    planet: str
    hour_number: int
    period_hour: int
    is_daytime: bool
    start: datetime
    end: datetime
    day_ruler: str
    planetary_date: date
    sunrise: datetime | None
    sunset: datetime | None
    hour_system: HourSystem
    reason: str | None

    def contains(self, at: datetime) -> bool:
        """True when ``start <= at < end``."""
        return self.start <= at < self.end

    def to_dict(self) -> dict[str, Any]:
        """camelCase wire view with ISO 8601 UTC strings."""
        return {
            "planet": self.planet,
            "hourNumber": self.hour_number,
            "periodHour": self.period_hour,
            "isDaytime": self.is_daytime,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "dayRuler": self.day_ruler,
            "planetaryDate": self.planetary_date.isoformat(),
            "sunrise": _iso(self.sunrise),
            "sunset": _iso(self.sunset),
            "hourSystem": self.hour_system,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class PlanetaryDay:
    """The 24 planetary hours starting on ``planetary_date`` at one (rounded) place."""

    planetary_date: date
    latitude: float
    longitude: float
    tz: str
    day_ruler: str
    hour_system: HourSystem
    reason: str | None
    sun_status: SunStatus
    sunrise: datetime | None
    sunset: datetime | None
    next_sunrise: datetime | None
    hours: tuple[PlanetaryHour, ...]

    @property
    def start(self) -> datetime:
        """Start of the first hour (sunrise, or 06:00 local in the fallback)."""
        return self.hours[0].start

    @property
    def end(self) -> datetime:
        """End of the last hour (next sunrise, or 06:00 local the next day in the fallback)."""
        return self.hours[-1].end

    def contains(self, at: datetime) -> bool:
        """True when the instant falls inside this planetary day."""
        return self.start <= at < self.end

    def hour_at(self, at: datetime) -> PlanetaryHour:
        """The hour containing the aware instant ``at`` (which must be inside the day)."""
        at = require_aware(at)
        if not self.contains(at):
            raise ValueError(f"{at.isoformat()} is outside the planetary day {self.planetary_date}")
        return self.hours[bisect.bisect_right(self.hours, at, key=_hour_start) - 1]

    def to_dict(self) -> dict[str, Any]:
        """camelCase wire view."""
        return {
            "planetaryDate": self.planetary_date.isoformat(),
            "location": {"latitude": self.latitude, "longitude": self.longitude, "tz": self.tz},
            "dayRuler": self.day_ruler,
            "hourSystem": self.hour_system,
            "reason": self.reason,
            "sunStatus": self.sun_status,
            "sunrise": _iso(self.sunrise),
            "sunset": _iso(self.sunset),
            "nextSunrise": _iso(self.next_sunrise),
            "hours": [h.to_dict() for h in self.hours],
        }


def _hour_start(hour: PlanetaryHour) -> datetime:
    return hour.start


def _split(start: datetime, end: datetime) -> list[datetime]:
    """13 boundaries dividing ``[start, end]`` into 12 equal parts (exact end points)."""
    span = end - start
    return [start + span * k / 12 for k in range(12)] + [end]


def _build_day(
    planetary_date: date,
    sun_day: SunDay,
    day_start: datetime,
    day_end: datetime,
    night_end: datetime,
    hour_system: HourSystem,
    reason: str | None,
) -> PlanetaryDay:
    ruler = day_ruler(planetary_date)
    bounds = _split(day_start, day_end) + _split(day_end, night_end)[1:]
    sunrise = sun_day.sunrise if hour_system == "unequal" else None
    sunset = sun_day.sunset if hour_system == "unequal" else None
    hours = tuple(
        PlanetaryHour(
            planet=hour_ruler(ruler, k),
            hour_number=k + 1,
            period_hour=k % 12 + 1,
            is_daytime=k < 12,
            start=bounds[k],
            end=bounds[k + 1],
            day_ruler=ruler,
            planetary_date=planetary_date,
            sunrise=sunrise,
            sunset=sunset,
            hour_system=hour_system,
            reason=reason,
        )
        for k in range(24)
    )
    return PlanetaryDay(
        planetary_date=planetary_date,
        latitude=sun_day.latitude,
        longitude=sun_day.longitude,
        tz=sun_day.tz,
        day_ruler=ruler,
        hour_system=hour_system,
        reason=reason,
        sun_status=sun_day.status,
        sunrise=sunrise,
        sunset=sunset,
        next_sunrise=sun_day.next_sunrise if hour_system == "unequal" else None,
        hours=hours,
    )


def _local_utc(local_date: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(local_date, at, tzinfo=zone).astimezone(UTC)


def _fallback_day(planetary_date: date, sun_day: SunDay, zone: ZoneInfo, reason: str) -> PlanetaryDay:
    day_start = _local_utc(planetary_date, FALLBACK_DAY_START, zone)
    day_end = _local_utc(planetary_date, FALLBACK_NIGHT_START, zone)
    night_end = _local_utc(planetary_date + timedelta(days=1), FALLBACK_DAY_START, zone)
    return _build_day(planetary_date, sun_day, day_start, day_end, night_end, "equal_fallback", reason)


@lru_cache(maxsize=HOUR_CACHE_SIZE)
def _sun_day(local_date: date, lat: float, lon: float, tz_key: str) -> SunDay:
    return compute_sun_day(local_date, lat, lon, resolve_timezone(tz_key))


@lru_cache(maxsize=HOUR_CACHE_SIZE)
def _planetary_day(local_date: date, lat: float, lon: float, tz_key: str) -> PlanetaryDay:
    zone = resolve_timezone(tz_key)
    sun_day = _sun_day(local_date, lat, lon, tz_key)
    if sun_day.sunrise is not None and sun_day.sunset is not None and sun_day.next_sunrise is not None:
        # The next sunrise found from this date's search and the sunrise found from the next date's search
        # are the same root from different brackets (they differ by microseconds). Use the next date's
        # value so consecutive planetary days share their boundary exactly.
        sunrise, sunset, end = sun_day.sunrise, sun_day.sunset, sun_day.next_sunrise
        following = _sun_day(local_date + timedelta(days=1), lat, lon, tz_key).sunrise
        if following is not None and abs(following - end) < timedelta(seconds=1):
            end = following
            sun_day = replace(sun_day, next_sunrise=end)
        return _build_day(local_date, sun_day, sunrise, sunset, end, "unequal", None)
    return _fallback_day(
        local_date,
        sun_day,
        zone,
        _STATUS_REASONS[sun_day.status] + "; 12 equal hours from 06:00 and from 18:00 local",
    )


def _check_date(local_date: date) -> None:
    if isinstance(local_date, datetime) or not isinstance(local_date, date):
        raise TypeError("local_date must be a datetime.date (not a datetime)")


def planetary_hours_for_date(local_date: date, lat: float, lon: float, tz: TzLike) -> PlanetaryDay:
    """The 24 planetary hours of the planetary day that starts at sunrise on ``local_date``.

    Coordinates are rounded to 0.01° (the result's ``latitude``/``longitude`` are the rounded values).
    Raises :class:`LocationError` (``field`` = ``lat`` | ``lon`` | ``tz``) for invalid input.
    """
    _check_date(local_date)
    lat = validate_lat(lat)
    lon = validate_lon(lon)
    zone = resolve_timezone(tz)
    return _planetary_day(local_date, round_coordinate(lat), round_coordinate(lon), zone.key)


def planetary_hour(at: datetime, lat: float, lon: float, tz: TzLike) -> PlanetaryHour:
    """The planetary hour containing the aware instant ``at`` at the place.

    Raises :class:`ValueError` for a naive datetime and :class:`LocationError` for an invalid place.
    """
    lat = validate_lat(lat)
    lon = validate_lon(lon)
    zone = resolve_timezone(tz)
    at_utc = require_aware(at)
    lat_r, lon_r = round_coordinate(lat), round_coordinate(lon)
    local = at_utc.astimezone(zone)
    today = local.date()
    current = _planetary_day(today, lat_r, lon_r, zone.key)
    if current.hour_system == "unequal" and current.contains(at_utc):
        return current.hour_at(at_utc)
    previous = _planetary_day(today - timedelta(days=1), lat_r, lon_r, zone.key)
    if previous.contains(at_utc) and (previous.hour_system == "unequal" or not current.contains(at_utc)):
        return previous.hour_at(at_utc)
    if current.contains(at_utc):
        return current.hour_at(at_utc)
    # Transition days: neither the unequal day nor the fallback of today/yesterday covers the instant.
    fallback_date = today if local.time() >= FALLBACK_DAY_START else today - timedelta(days=1)
    sun_day = _sun_day(fallback_date, lat_r, lon_r, zone.key)
    reason = (
        "no complete sunrise-to-sunrise cycle covers this instant (sunrise/sunset sequence around a polar "
        f"transition, sun status of {fallback_date}: {sun_day.status}); 12 equal hours from 06:00 and "
        "from 18:00 local"
    )
    return _fallback_day(fallback_date, sun_day, zone, reason).hour_at(at_utc)


def clear_hour_cache() -> None:
    """Empty the planetary-day and sun-day caches (tests, benchmarks)."""
    _planetary_day.cache_clear()
    _sun_day.cache_clear()


def hour_cache_info() -> Any:
    """``functools`` statistics of the planetary-day cache."""
    return _planetary_day.cache_info()
