"""Low-level helpers shared by the astro engines (private module).

Everything here is pure: time-scale conversions between aware :class:`datetime` objects and PyEphem's
"Dublin Julian Day" floats, the of-date apparent ecliptic longitude of a body, and small angle helpers.

Conventions (see ``docs/astro.md``):

* Instants are handled internally as PyEphem dates: float days since 1899-12-31 12:00 UT
  ("Dublin Julian Day", DJD). The Unix epoch is DJD 25567.5. PyEphem treats the date as UT and applies
  its own ΔT (TT − UT) model internally.
* Longitudes are **apparent geocentric, true ecliptic and equinox of date** (light time, aberration,
  precession and nutation applied). PyEphem's obvious ``ephem.Ecliptic(body)`` is astrometric J2000 and
  is wrong by up to 0.7° over 1950–2050; we instead take ``g_ra``/``g_dec`` computed with
  ``epoch=date`` (apparent, true equator and equinox of date) and rotate them to the ecliptic ourselves.
  ``ephem.Ecliptic(ephem.Equatorial(g_ra, g_dec, epoch=d), epoch=d)`` does the same rotation with the
  IAU 1976 *mean* obliquity (we reproduce it to 1e-10 rad), which leaves up to ~10″ of error in ecliptic
  latitude against the true ecliptic and costs ~6 µs per body; we rotate by the *true* obliquity
  (mean + nutation in obliquity) in pure Python instead. Longitudes differ from that call by ≤ 3″
  (Pluto, at high ecliptic latitude), latitudes by up to ~10″.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import ephem

from shared.zodiac import PLANETS, SIGNS

#: Body names in canonical order (Sun..Pluto).
BODY_NAMES: Final[tuple[str, ...]] = PLANETS

_BODY_FACTORIES: Final[dict[str, Callable[[], Any]]] = {
    "Sun": ephem.Sun,
    "Moon": ephem.Moon,
    "Mercury": ephem.Mercury,
    "Venus": ephem.Venus,
    "Mars": ephem.Mars,
    "Jupiter": ephem.Jupiter,
    "Saturn": ephem.Saturn,
    "Uranus": ephem.Uranus,
    "Neptune": ephem.Neptune,
    "Pluto": ephem.Pluto,
}

#: PyEphem date (DJD) of the Unix epoch 1970-01-01T00:00:00Z.
DJD_UNIX_EPOCH: Final[float] = 25567.5
#: PyEphem date of J2000.0 (2000-01-01T12:00).
DJD_J2000: Final[float] = 36525.0
SECONDS_PER_DAY: Final[float] = 86400.0

_UNIX_EPOCH_DT: Final[datetime] = datetime(1970, 1, 1, tzinfo=UTC)
_TWO_PI: Final[float] = 2.0 * math.pi
_ARCSEC: Final[float] = math.pi / (180.0 * 3600.0)


def new_body(name: str) -> Any:
    """Return a fresh PyEphem body object for ``name`` (``"Sun"``..``"Pluto"``).

    PyEphem's ``compute()`` mutates the body, so every call site that may run concurrently must use its
    own object (the objects are cheap: ~0.2 µs).
    """
    try:
        factory = _BODY_FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown body {name!r}; expected one of {', '.join(BODY_NAMES)}") from None
    return factory()


def require_aware(at: datetime, name: str = "at") -> datetime:
    """Return ``at`` converted to UTC; raise :class:`ValueError` when it is naive.

    A naive datetime is ambiguous (server-local? UTC?), which is exactly the bug upstream had, so we refuse
    it instead of guessing.
    """
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got naive {at.isoformat()})")
    return at.astimezone(UTC)


def to_djd(at: datetime) -> float:
    """Convert an aware datetime to a PyEphem date (float DJD, UT)."""
    return at.timestamp() / SECONDS_PER_DAY + DJD_UNIX_EPOCH


def from_djd(djd: float) -> datetime:
    """Convert a PyEphem date (float DJD) to an aware UTC datetime (microsecond resolution)."""
    return _UNIX_EPOCH_DT + timedelta(days=djd - DJD_UNIX_EPOCH)


def mean_obliquity(djd: float) -> float:
    """IAU 1976 mean obliquity of the ecliptic (radians), as used by PyEphem's ``Ecliptic`` conversion."""
    t = (djd - DJD_J2000) / 36525.0
    return (84381.448 + t * (-46.8150 + t * (-0.00059 + t * 0.001813))) * _ARCSEC


def true_obliquity(djd: float) -> float:
    """True obliquity of date (radians): mean obliquity + nutation in obliquity Δε.

    Δε uses the four largest IAU 1980 terms (Meeus, *Astronomical Algorithms*, ch. 22), good to ~0.1″.
    PyEphem's apparent RA/Dec are referred to the true equator of date, so rotating them by the *true*
    obliquity gives the true ecliptic of date; using the mean obliquity (as ``ephem.Ecliptic`` does)
    leaves up to ~10″ of error in ecliptic latitude (longitude is affected far less).
    """
    t = (djd - DJD_J2000) / 36525.0
    node = math.radians(125.04452 - 1934.136261 * t)
    sun = math.radians(280.4665 + 36000.7698 * t)
    moon = math.radians(218.3165 + 481267.8813 * t)
    d_eps = (
        9.20 * math.cos(node)
        + 0.57 * math.cos(2.0 * sun)
        + 0.10 * math.cos(2.0 * moon)
        - 0.09 * math.cos(2.0 * node)
    )
    return mean_obliquity(djd) + d_eps * _ARCSEC


#: PyEphem's Pluto (libastro's fit of an analytical theory to older JPL ephemerides) drifts against
#: JPL DE421: ephem − DE421 in geocentric apparent longitude, arcseconds, averaged over ±1 year (which
#: removes a ±0.4″ semi-annual wiggle), on 1 January of 1900, 1905, …, 2050. Without it Pluto is off by
#: up to 12.5″ in 2050 (−0.16″/yr since ~1990), which at Pluto's ~0.02°/day near an ingress is a 3-hour
#: error in the ingress time. ``scripts/ephemeris_report.py --pluto-knots`` recomputes the table.
PLUTO_DRIFT_KNOTS_ARCSEC: Final[tuple[float, ...]] = (
    0.73, 0.54, 0.31, 0.16, 0.01, -0.11, -0.18, -0.18, -0.17, -0.15, -0.09,
    0.01, 0.09, 0.12, 0.05, -0.10, -0.42, -1.01, -1.77, -2.62, -3.59, -4.64,
    -5.65, -6.59, -7.52, -8.47, -9.34, -10.12, -10.90, -11.70, -12.45,
)  # fmt: skip
PLUTO_DRIFT_FIRST_YEAR: Final[int] = 1900
PLUTO_DRIFT_STEP_YEARS: Final[int] = 5
#: Slope used after the last knot (arcsec per year), from the last 10 years of the table.
PLUTO_DRIFT_FINAL_SLOPE: Final[float] = -0.155
_DJD_1900: Final[float] = -0.5  # 1900-01-01T00:00Z
_KNOT_STEP_DAYS: Final[float] = PLUTO_DRIFT_STEP_YEARS * 365.2425


def pluto_drift_arcsec(djd: float) -> float:
    """PyEphem − DE421 Pluto longitude drift at ``djd`` (arcsec), linearly interpolated in the table.

    Constant before 1900 (where the drift is below 1″); extrapolated linearly after 2050 with the slope of
    the last decade (a best guess: no reference exists beyond DE421's 2053 limit).
    """
    x = (djd - _DJD_1900) / _KNOT_STEP_DAYS
    knots = PLUTO_DRIFT_KNOTS_ARCSEC
    last = len(knots) - 1
    if x <= 0.0:
        return knots[0]
    if x >= last:
        return knots[last] + PLUTO_DRIFT_FINAL_SLOPE * (x - last) * PLUTO_DRIFT_STEP_YEARS
    i = int(x)
    frac = x - i
    return knots[i] + (knots[i + 1] - knots[i]) * frac


def apparent_ecliptic(body: Any, djd: float) -> tuple[float, float]:
    """Apparent geocentric ecliptic longitude and latitude of date, in degrees (lon in [0, 360)).

    ``body.compute(d, epoch=d)`` gives apparent RA/Dec referred to the true equator and equinox of date;
    they are rotated to the true ecliptic of date with the true obliquity. Pluto's longitude is corrected
    for PyEphem's drift against DE421 (:func:`pluto_drift_arcsec`).
    """
    body.compute(djd, epoch=djd)
    ra = float(body.g_ra)
    dec = float(body.g_dec)
    eps = true_obliquity(djd)
    sin_eps = math.sin(eps)
    cos_eps = math.cos(eps)
    sin_ra = math.sin(ra)
    cos_dec = math.cos(dec)
    sin_dec = math.sin(dec)
    lon = math.atan2(sin_ra * cos_dec * cos_eps + sin_dec * sin_eps, math.cos(ra) * cos_dec)
    lat = math.asin(max(-1.0, min(1.0, sin_dec * cos_eps - cos_dec * sin_eps * sin_ra)))
    lon_deg = math.degrees(lon)
    if isinstance(body, ephem.Pluto):
        lon_deg -= pluto_drift_arcsec(djd) / 3600.0
    return norm360(lon_deg), math.degrees(lat)


def apparent_longitude(body: Any, djd: float) -> float:
    """Apparent geocentric ecliptic longitude of date (degrees in [0, 360))."""
    return apparent_ecliptic(body, djd)[0]


def norm360(angle: float) -> float:
    """Normalise an angle in degrees to [0, 360)."""
    a = angle % 360.0
    # ``x % 360.0`` can return exactly 360.0 for tiny negative x.
    return 0.0 if a >= 360.0 else a


def wrap180(angle: float) -> float:
    """Normalise an angle in degrees to [-180, 180)."""
    return (angle + 180.0) % 360.0 - 180.0


def wrap_pi(angle: float) -> float:
    """Normalise an angle in radians to [-π, π)."""
    return (angle + math.pi) % _TWO_PI - math.pi


def sign_of(longitude: float) -> str:
    """Lowercase tropical sign of an ecliptic longitude in degrees."""
    return SIGNS[min(11, int(norm360(longitude) // 30.0))]


def format_degree(longitude: float) -> str:
    """Human text such as ``"27°13′ Aries"`` (degrees and minutes truncated, never rounded up)."""
    lon = norm360(longitude)
    in_sign = lon - 30.0 * int(lon // 30.0)
    deg = int(in_sign)
    minute = min(59, int((in_sign - deg) * 60.0))
    return f"{deg}°{minute:02d}′ {sign_of(lon).capitalize()}"
