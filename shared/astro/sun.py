"""The Sun at an observer: apparent altitude (sect) and sunrise/sunset for a local date.

Definitions (see ``docs/astro.md``):

* **Altitude / sect.** :func:`sun_altitude` is the *apparent* (refraction-corrected) topocentric altitude of
  the Sun's centre, with PyEphem's refraction model at a standard atmosphere (1010 mbar, 10 °C).
  :func:`is_diurnal` is ``altitude > 0``.
* **Sunrise / sunset.** The instant the *geometric* altitude of the Sun's centre crosses −0.8333°
  (34′ of standard horizon refraction + 16′ of solar semi-diameter), with no further refraction
  (PyEphem ``pressure = 0``), the USNO convention. (PyEphem's defaults — 1010 mbar, horizon 0, upper
  limb — are 13–80 s off. Its ``horizon='-0:34'`` upper-limb recipe is equivalent only while the solar
  radius is exactly 16′; we search for the centre directly.)
* **Local date.** Sunrise is the first rise after local midnight (``zoneinfo``, converted to UTC) and
  before the next local midnight; sunset is the first set after that sunrise, even on the next local
  date (Reykjavik in June); ``next_sunrise`` is the first rise after that sunset. All arithmetic is done
  on UTC instants, so DST days need no special care.
* **Polar day and night.** When there is no rise during the local date the status is ``midnight_sun``
  (Sun above the horizon at local midnight) or ``polar_night``; transition days are
  ``midnight_sun_begins`` (rises, then does not set before the end of the next local date) and
  ``polar_night_begins`` (rises and sets, then does not rise again before the end of the next local
  date). Missing times are ``None``; nothing is invented.

The rise/set search does not rely on PyEphem's ``next_rising`` iteration (which gives up or jumps on
transition days). It brackets every crossing between consecutive culminations (upper and lower transits,
where the altitude is extremal, so it is monotonic in between) and solves each bracket with a safeguarded
Newton iteration on the altitude, to 0.05 s.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import ephem

from shared.astro._core import from_djd, require_aware, to_djd, wrap_pi
from shared.astro._roots import safe_newton
from shared.astro.location import TzLike, resolve_timezone, validate_lat, validate_lon

__all__ = [
    "REFRACTION_PRESSURE_MBAR",
    "REFRACTION_TEMPERATURE_C",
    "SUNRISE_ALTITUDE_DEG",
    "SunDay",
    "SunStatus",
    "is_diurnal",
    "local_midnight_utc",
    "sun_altitude",
    "sun_events",
]

#: Geometric altitude of the Sun's centre at sunrise and sunset (degrees).
SUNRISE_ALTITUDE_DEG: Final[float] = -0.8333
#: Standard atmosphere used for the apparent (refracted) altitude.
REFRACTION_PRESSURE_MBAR: Final[float] = 1010.0
REFRACTION_TEMPERATURE_C: Final[float] = 10.0

SunStatus = Literal["normal", "midnight_sun", "polar_night", "midnight_sun_begins", "polar_night_begins"]

_H0: Final[float] = math.radians(SUNRISE_ALTITUDE_DEG)
_TWO_PI: Final[float] = 2.0 * math.pi
#: Rate of the Sun's hour angle, radians per day (one revolution per mean solar day).
_OMEGA: Final[float] = _TWO_PI
#: Root tolerance for rise/set times: 0.05 s, in days.
_XTOL_DAYS: Final[float] = 0.05 / 86400.0


@dataclass(frozen=True, slots=True)
class SunDay:
    """Sunrise, sunset and next sunrise for one local date at one place (UTC datetimes or ``None``)."""

    local_date: date
    latitude: float
    longitude: float
    tz: str
    status: SunStatus
    sunrise: datetime | None
    sunset: datetime | None
    next_sunrise: datetime | None

    @property
    def complete(self) -> bool:
        """True when sunrise, sunset and the next sunrise all exist (unequal hours are possible)."""
        return self.sunrise is not None and self.sunset is not None and self.next_sunrise is not None

    @property
    def day_length(self) -> timedelta | None:
        """Sunset minus sunrise, when both exist."""
        if self.sunrise is None or self.sunset is None:
            return None
        return self.sunset - self.sunrise

    @property
    def night_length(self) -> timedelta | None:
        """Next sunrise minus sunset, when both exist."""
        if self.sunset is None or self.next_sunrise is None:
            return None
        return self.next_sunrise - self.sunset

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly camelCase view (ISO 8601 UTC strings)."""
        return {
            "date": self.local_date.isoformat(),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "tz": self.tz,
            "status": self.status,
            "sunrise": _iso(self.sunrise),
            "sunset": _iso(self.sunset),
            "nextSunrise": _iso(self.next_sunrise),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _observer(lat: float, lon: float, refraction: bool) -> Any:
    obs = ephem.Observer()
    # Radians, never float degrees (PyEphem reads a float as radians).
    obs.lat = math.radians(lat)
    obs.lon = math.radians(lon)
    obs.elevation = 0.0
    if refraction:
        obs.pressure = REFRACTION_PRESSURE_MBAR
        obs.temp = REFRACTION_TEMPERATURE_C
    else:
        obs.pressure = 0.0
    return obs


def sun_altitude(at: datetime, lat: float, lon: float) -> float:
    """Apparent (refraction-corrected) altitude of the Sun's centre in degrees at ``at`` and the place.

    Raises :class:`ValueError` for a naive datetime and :class:`~shared.astro.location.LocationError`
    for coordinates out of range.
    """
    lat = validate_lat(lat)
    lon = validate_lon(lon)
    djd = to_djd(require_aware(at))
    obs = _observer(lat, lon, refraction=True)
    obs.date = djd
    sun = ephem.Sun()
    sun.compute(obs)
    return math.degrees(float(sun.alt))


def is_diurnal(at: datetime, lat: float, lon: float) -> bool:
    """Sect: True when the apparent altitude of the Sun's centre is above 0°."""
    return sun_altitude(at, lat, lon) > 0.0


class _Altitude:
    """Geometric altitude of the Sun's centre minus −0.8333° at one place (one instance per call)."""

    __slots__ = ("_cos_lat", "_obs", "_sun")

    def __init__(self, lat: float, lon: float) -> None:
        self._obs = _observer(lat, lon, refraction=False)
        self._sun = ephem.Sun()
        self._cos_lat = math.cos(math.radians(lat))

    def state(self, djd: float) -> tuple[float, float, float]:
        """``(altitude − h0, hour angle, declination)`` in radians."""
        self._obs.date = djd
        sun = self._sun
        sun.compute(self._obs)
        return float(sun.alt) - _H0, float(sun.ha), float(sun.dec)

    def value_and_slope(self, djd: float) -> tuple[float, float]:
        """Altitude offset and its time derivative (radians per day) from the hour angle."""
        g, ha, dec = self.state(djd)
        cos_alt = max(math.cos(g + _H0), 1e-9)
        return g, -self._cos_lat * math.cos(dec) * math.sin(ha) * _OMEGA / cos_alt

    def crossings(self, start: float, end: float) -> Iterator[tuple[float, bool]]:
        """Yield ``(djd, rising)`` for every crossing of −0.8333° in ``[start, end)``, in time order.

        The altitude is monotonic between consecutive culminations (hour angle 0 or π), so each such
        interval holds at most one crossing, bracketed by the sign of the altitude at its ends.
        """
        g_prev, ha0, _ = self.state(start)
        t_prev = start
        phase = ha0 % _TWO_PI
        to_lower = ((math.pi - phase) % _TWO_PI) / _OMEGA
        to_upper = ((-phase) % _TWO_PI) / _OMEGA
        if to_lower < to_upper:
            t_est, target = start + to_lower, math.pi
        else:
            t_est, target = start + to_upper, 0.0
        while t_est < end:
            _, ha, _ = self.state(t_est)
            t_ext = t_est + wrap_pi(target - ha) / _OMEGA
            if t_prev < t_ext < end:
                g_ext = self.state(t_ext)[0]
                yield from self._segment(t_prev, g_prev, t_ext, g_ext)
                t_prev, g_prev = t_ext, g_ext
            t_est = t_ext + 0.5
            target = 0.0 if target else math.pi
        g_end = self.state(end)[0]
        yield from self._segment(t_prev, g_prev, end, g_end)

    def _segment(self, a: float, ga: float, b: float, gb: float) -> Iterator[tuple[float, bool]]:
        if ga < 0.0 <= gb:
            yield safe_newton(self.value_and_slope, a, b, ga, gb, _XTOL_DAYS), True
        elif gb < 0.0 <= ga:
            yield safe_newton(self.value_and_slope, a, b, ga, gb, _XTOL_DAYS), False

    def up(self, djd: float) -> bool:
        """True when the Sun's centre is at or above −0.8333° at ``djd``."""
        return self.state(djd)[0] >= 0.0


def local_midnight_utc(local_date: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``local_date`` begins in ``zone``.

    A midnight skipped by a DST gap maps to the transition instant (the first instant of that date); an
    ambiguous midnight maps to its first occurrence.
    """
    return datetime.combine(local_date, time(0), tzinfo=zone).astimezone(UTC)


def compute_sun_day(local_date: date, lat: float, lon: float, zone: ZoneInfo) -> SunDay:
    """:func:`sun_events` without validation (inputs already checked)."""
    t0 = to_djd(local_midnight_utc(local_date, zone))
    t1 = to_djd(local_midnight_utc(local_date + timedelta(days=1), zone))
    t2 = to_djd(local_midnight_utc(local_date + timedelta(days=2), zone))
    altitude = _Altitude(lat, lon)
    sunrise: float | None = None
    sunset: float | None = None
    next_sunrise: float | None = None
    for t, rising in altitude.crossings(t0, t2):
        if sunrise is None:
            if not rising:
                continue
            if t >= t1:
                break
            sunrise = t
        elif sunset is None:
            if not rising:
                sunset = t
        elif rising:
            next_sunrise = t
            break
    status: SunStatus
    if sunrise is None:
        status = "midnight_sun" if altitude.up(t0) else "polar_night"
    elif sunset is None:
        status = "midnight_sun_begins"
    elif next_sunrise is None:
        status = "polar_night_begins"
    else:
        status = "normal"
    return SunDay(
        local_date=local_date,
        latitude=lat,
        longitude=lon,
        tz=zone.key,
        status=status,
        sunrise=None if sunrise is None else from_djd(sunrise),
        sunset=None if sunset is None else from_djd(sunset),
        next_sunrise=None if next_sunrise is None else from_djd(next_sunrise),
    )


def sun_events(local_date: date, lat: float, lon: float, tz: TzLike) -> SunDay:
    """Sunrise, sunset and next sunrise of ``local_date`` at the place (see the module docstring).

    Raises :class:`~shared.astro.location.LocationError` for an invalid latitude, longitude or zone.
    """
    if isinstance(local_date, datetime) or not isinstance(local_date, date):
        raise TypeError("local_date must be a datetime.date (not a datetime)")
    lat = validate_lat(lat)
    lon = validate_lon(lon)
    zone = resolve_timezone(tz)
    return compute_sun_day(local_date, lat, lon, zone)
