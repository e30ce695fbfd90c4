"""Independent reference for the astro tests: skyfield + JPL DE421 (skyfield-data), strictly offline.

* ``Loader(skyfield_data.get_skyfield_data_path())`` and ``timescale(builtin=True)``: DE421 and the
  built-in ΔT/leap-second tables ship with the packages; nothing is downloaded. ``skyfield.iokit.download``
  is replaced by a function that raises, so an accidental download fails loudly instead of touching the
  network.
* Positions: apparent geocentric ``frame_latlon(ecliptic_frame)`` (true ecliptic and equinox of date),
  with the IAU 2000B nutation (≤ 1 mas from 2000A; skyfield's almanac does the same) for speed.
  DE421 has only system barycentres for Mars..Pluto (≤ 0.2″ from the planet, irrelevant here).
* Everything here is written from the definitions, without importing ``shared.astro``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

with warnings.catch_warnings():
    # skyfield-data warns that its bundled finals2000A.all has expired; we use the builtin timescale.
    warnings.simplefilter("ignore")
    import skyfield.iokit
    import skyfield_data
    from skyfield import almanac
    from skyfield.api import Loader, wgs84
    from skyfield.framelib import ecliptic_frame
    from skyfield.nutationlib import iau2000b_radians

    _DATA_PATH = skyfield_data.get_skyfield_data_path()


def _fast_nutation(t: Any) -> Any:
    """Use the IAU 2000B nutation series (≤ 1 mas from 2000A), as skyfield's own almanac functions do.

    The full IAU 2000A series dominates the cost of a vectorised position; the difference is three orders
    of magnitude below the arcsecond tolerances tested here.
    """
    t._nutation_angles_radians = iau2000b_radians(t)
    return t


def _no_download(url: str, *args: Any, **kwargs: Any) -> None:
    raise RuntimeError(f"the astro tests must never download anything (tried {url})")


skyfield.iokit.download = _no_download

SKYFIELD_NAMES = {
    "Sun": "sun",
    "Moon": "moon",
    "Mercury": "mercury",
    "Venus": "venus",
    "Mars": "mars barycenter",
    "Jupiter": "jupiter barycenter",
    "Saturn": "saturn barycenter",
    "Uranus": "uranus barycenter",
    "Neptune": "neptune barycenter",
    "Pluto": "pluto barycenter",
}
SUNRISE_HORIZON_DEG = -0.8333


def wrap180(x: Any) -> Any:
    """Angle difference folded into [-180, 180)."""
    return (x + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    tz: str


#: 22 places: both hemispheres, odd offsets (+05:30, +05:45, +12:45, +14, -09:30), high latitudes.
CITIES: tuple[City, ...] = (
    City("New York", 40.71, -74.01, "America/New_York"),
    City("London", 51.51, -0.13, "Europe/London"),
    City("Sydney", -33.87, 151.21, "Australia/Sydney"),
    City("Buenos Aires", -34.60, -58.38, "America/Argentina/Buenos_Aires"),
    City("Cape Town", -33.92, 18.42, "Africa/Johannesburg"),
    City("Mumbai", 19.08, 72.88, "Asia/Kolkata"),
    City("Kathmandu", 27.72, 85.32, "Asia/Kathmandu"),
    City("Kiritimati", 1.87, -157.43, "Pacific/Kiritimati"),
    City("Tokyo", 35.68, 139.65, "Asia/Tokyo"),
    City("Reykjavik", 64.15, -21.94, "Atlantic/Reykjavik"),
    City("Anchorage", 61.22, -149.90, "America/Anchorage"),
    City("Singapore", 1.35, 103.82, "Asia/Singapore"),
    City("Quito", -0.18, -78.47, "America/Guayaquil"),
    City("Nairobi", -1.29, 36.82, "Africa/Nairobi"),
    City("Moscow", 55.76, 37.62, "Europe/Moscow"),
    City("Los Angeles", 34.05, -118.24, "America/Los_Angeles"),
    City("Auckland", -36.85, 174.76, "Pacific/Auckland"),
    City("Santiago", -33.45, -70.67, "America/Santiago"),
    City("Ushuaia", -54.80, -68.30, "America/Argentina/Ushuaia"),
    City("Chatham", -43.95, -176.55, "Pacific/Chatham"),
    City("Marquesas", -9.00, -139.50, "Pacific/Marquesas"),
    City("Tromso", 69.65, 18.96, "Europe/Oslo"),
)
CITY = {c.name: c for c in CITIES}


def local_midnight(d: date, tz: str) -> datetime:
    """UTC instant at which local date ``d`` starts (written independently of shared.astro)."""
    return datetime.combine(d, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True)
class RefSunDay:
    sunrise: datetime | None
    sunset: datetime | None
    next_sunrise: datetime | None


class SkyRef:
    """Lazily loaded DE421 reference."""

    @cached_property
    def _load(self) -> Any:
        return Loader(_DATA_PATH, verbose=False)

    @cached_property
    def ts(self) -> Any:
        return self._load.timescale(builtin=True)

    @cached_property
    def eph(self) -> Any:
        return self._load("de421.bsp")

    @cached_property
    def earth(self) -> Any:
        return self.eph["earth"]

    def t(self, instants: datetime | Sequence[datetime]) -> Any:
        if isinstance(instants, datetime):
            return _fast_nutation(self.ts.from_datetime(instants))
        return _fast_nutation(self.ts.from_datetimes(list(instants)))

    def tt_time(self, tt: Any) -> Any:
        """A skyfield Time for TT Julian dates (reuse it across bodies: nutation is computed once)."""
        return _fast_nutation(self.ts.tt_jd(np.asarray(tt)))

    def lon_at(self, body: str, t: Any) -> Any:
        """Apparent ecliptic longitude of date at a skyfield Time, degrees."""
        apparent = self.earth.at(t).observe(self.eph[SKYFIELD_NAMES[body]]).apparent()
        _, lon, _ = apparent.frame_latlon(ecliptic_frame)
        return lon.degrees

    def lon(self, body: str, instants: datetime | Sequence[datetime]) -> Any:
        """Apparent ecliptic longitude of date, degrees (float or array)."""
        return self.lon_at(body, self.t(instants))

    def lon_tt(self, body: str, tt: Any) -> Any:
        """Apparent ecliptic longitude of date at TT Julian dates (vectorised), degrees."""
        return self.lon_at(body, self.tt_time(tt))

    def speed(self, body: str, instants: datetime | Sequence[datetime], h_days: float = 0.01) -> Any:
        """Central-difference longitude speed, degrees/day."""
        if isinstance(instants, datetime):
            lo = self.lon(body, instants - timedelta(days=h_days))
            hi = self.lon(body, instants + timedelta(days=h_days))
        else:
            lo = self.lon(body, [i - timedelta(days=h_days) for i in instants])
            hi = self.lon(body, [i + timedelta(days=h_days) for i in instants])
        return wrap180(np.asarray(hi) - np.asarray(lo)) / (2.0 * h_days)

    def elongation(self, instants: datetime | Sequence[datetime]) -> Any:
        return (np.asarray(self.lon("Moon", instants)) - np.asarray(self.lon("Sun", instants))) % 360.0

    def _events(
        self, finder: Callable[..., Any], lat: float, lon: float, start: datetime, end: datetime
    ) -> list[datetime]:
        observer = self.earth + wgs84.latlon(lat, lon)
        times, flags = finder(
            observer, self.eph["sun"], self.t(start), self.t(end), horizon_degrees=SUNRISE_HORIZON_DEG
        )
        return [t.utc_datetime() for t, ok in zip(times, flags, strict=True) if ok]

    def risings(self, lat: float, lon: float, start: datetime, end: datetime) -> list[datetime]:
        return self._events(almanac.find_risings, lat, lon, start, end)

    def settings(self, lat: float, lon: float, start: datetime, end: datetime) -> list[datetime]:
        return self._events(almanac.find_settings, lat, lon, start, end)

    @cached_property
    def _sun_days(self) -> dict[tuple[float, float, str, date], RefSunDay]:
        return {}

    def sun_day(self, lat: float, lon: float, tz: str, d: date) -> RefSunDay:
        """Reference sunrise (first in the local date), sunset after it, next sunrise after it (memoised)."""
        key = (lat, lon, tz, d)
        if key not in self._sun_days:
            self._sun_days[key] = self._sun_day(lat, lon, tz, d)
        return self._sun_days[key]

    def _sun_day(self, lat: float, lon: float, tz: str, d: date) -> RefSunDay:
        m0, m1, m2 = (local_midnight(d + timedelta(days=k), tz) for k in range(3))
        rises = self.risings(lat, lon, m0, m2)
        sets = self.settings(lat, lon, m0, m2)
        sunrise = next((r for r in rises if m0 <= r < m1), None)
        sunset = next((s for s in sets if sunrise and s > sunrise), None)
        nxt = next((r for r in rises if sunset and r > sunset), None)
        return RefSunDay(sunrise, sunset, nxt)

    def moon_quarters(self, start: datetime, end: datetime) -> list[tuple[int, datetime]]:
        """(quarter 0..3, time) from skyfield's ``moon_phases`` + ``find_discrete``."""
        times, quarters = almanac.find_discrete(self.t(start), self.t(end), almanac.moon_phases(self.eph))
        return [(int(q), t.utc_datetime()) for t, q in zip(times, quarters, strict=True)]

    def fraction_illuminated(self, at: datetime) -> float:
        e = self.earth.at(self.t(at))
        return float(e.observe(self.eph["moon"]).apparent().fraction_illuminated(self.eph["sun"]))


def bisect_root(f: Callable[[datetime], float], lo: datetime, hi: datetime, tol_s: float = 1.0) -> datetime:
    """Root of a scalar function of time by plain bisection (f(lo) and f(hi) must differ in sign)."""
    f_lo = f(lo)
    f_hi = f(hi)
    assert (f_lo < 0) != (f_hi < 0), f"not bracketed: f({lo})={f_lo}, f({hi})={f_hi}"
    while (hi - lo).total_seconds() > tol_s:
        mid = lo + (hi - lo) / 2
        f_mid = f(mid)
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return lo + (hi - lo) / 2


def secant_roots(
    f: Callable[[Any], Any], tt_a: Any, tt_b: Any, iterations: int = 6, verify_s: float = 1.0
) -> Any:
    """Vectorised secant iteration for many simple roots at once (TT Julian dates in, TT out).

    ``f`` maps an array of TT dates to an array of values. Each result is checked to be a genuine root:
    ``f`` must change sign across ``root ± verify_s`` seconds, so the answer is as trustworthy as a
    bisection to that tolerance.
    """
    a = np.asarray(tt_a, dtype=float)
    b = np.asarray(tt_b, dtype=float)
    fa = np.asarray(f(a), dtype=float)
    fb = np.asarray(f(b), dtype=float)
    for _ in range(iterations):
        same = fb == fa  # converged (or flat): stay put
        step = np.where(same, 0.0, fb * (b - a) / np.where(same, 1.0, fb - fa))
        c = b - step
        a, fa = b, fb
        b, fb = c, np.asarray(f(c), dtype=float)
    eps = verify_s / 86400.0
    lo = np.asarray(f(b - eps), dtype=float)
    hi = np.asarray(f(b + eps), dtype=float)
    assert np.all(np.sign(lo) != np.sign(hi)), "secant iteration did not converge to a sign change"
    return b


CHALDEAN = ["Saturn", "Jupiter", "Mars", "Sun", "Venus", "Mercury", "Moon"]
WEEKDAY_RULER = {
    "Sunday": "Sun",
    "Monday": "Moon",
    "Tuesday": "Mars",
    "Wednesday": "Mercury",
    "Thursday": "Jupiter",
    "Friday": "Venus",
    "Saturday": "Saturn",
}


def expected_ruler(planetary_date: date, k: int) -> str:
    """Ruler of hour k (0 = first hour after sunrise) of the planetary day starting on ``planetary_date``."""
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[
        planetary_date.isoweekday() - 1
    ]
    first = WEEKDAY_RULER[weekday]
    return CHALDEAN[(CHALDEAN.index(first) + k) % 7]
