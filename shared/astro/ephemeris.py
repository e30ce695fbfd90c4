"""Geocentric positions of Sun..Pluto (PyEphem behind a small, thread-safe wrapper).

Positions are **apparent geocentric tropical ecliptic coordinates of date** (true equinox and ecliptic of
date; light time, aberration, precession and nutation applied), the frame astrologers use and the one of
the JPL DE421 reference used by the tests (skyfield ``ecliptic_frame``). Accuracy measured against DE421
over 1950–2050 is ≤ 3.5″ for the Sun, the planets and Pluto (Pluto after the drift correction in
``shared.astro._core``) and ≲ 25″ for the Moon (the Moon's error after 2025 is dominated by PyEphem's ΔT
extrapolation); see ``docs/astro.md`` and ``scripts/ephemeris_report.py``.

* Speed is a central difference of the longitude over ±``SPEED_STEP_DAYS`` (0.01 d = 14.4 min); its
  truncation error is ≈ 1e-6 °/day for the Moon (h²/6 · λ‴) and far smaller for the other bodies.
* ``retrograde`` is ``speed < 0`` for Mercury..Pluto; the Sun and Moon are never retrograde.
* Thread safety: every call creates its own PyEphem body objects (``compute()`` mutates them).
* :func:`positions_for_minute` floors the instant to the UTC minute and memoises the result in a bounded
  LRU cache: the live sky is served at minute resolution (the Moon moves ≈ 0.5′ per minute, every other
  body far less), and a cache hit costs a few microseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from shared.astro._core import (
    BODY_NAMES,
    DJD_UNIX_EPOCH,
    SIGNS,
    apparent_ecliptic,
    from_djd,
    new_body,
    require_aware,
    to_djd,
    wrap180,
)

__all__ = [
    "BODY_NAMES",
    "POSITION_CACHE_SIZE",
    "SIGNS",
    "SPEED_STEP_DAYS",
    "PlanetPosition",
    "clear_position_cache",
    "minute_floor",
    "compute_positions",
    "position_cache_info",
    "positions_for_minute",
]

#: Half-width of the central difference used for ``speed`` (days).
SPEED_STEP_DAYS: Final[float] = 0.01
#: Number of distinct minutes kept by :func:`positions_for_minute` (≈ 3 days of live sky).
POSITION_CACHE_SIZE: Final[int] = 4096

_NEVER_RETROGRADE: Final[frozenset[str]] = frozenset({"Sun", "Moon"})


@dataclass(frozen=True, slots=True)
class PlanetPosition:
    """Position of one body at one instant.

    Attributes:
        name: body name (``"Sun"``..``"Pluto"``).
        longitude: apparent ecliptic longitude of date, degrees in [0, 360).
        sign: lowercase tropical sign (``"aries"``..``"pisces"``).
        degree: whole degrees within the sign, 0–29.
        minute: whole arcminutes within the degree, 0–59 (truncated, never rounded up into the next sign).
        degree_in_sign: ``longitude mod 30`` as a float.
        retrograde: geocentric longitude speed < 0 (always ``False`` for the Sun and Moon).
        speed: longitude speed in degrees per day (central difference, see ``SPEED_STEP_DAYS``).
        distance_au: geocentric distance in astronomical units.
        latitude: apparent ecliptic latitude of date, degrees.
    """

    name: str
    longitude: float
    sign: str
    degree: int
    minute: int
    degree_in_sign: float
    retrograde: bool
    speed: float
    distance_au: float
    latitude: float

    @classmethod
    def from_longitude(
        cls,
        name: str,
        longitude: float,
        speed: float,
        distance_au: float,
        latitude: float,
    ) -> PlanetPosition:
        """Build a record from a longitude, deriving sign, degree, minute and the retrograde flag."""
        lon = longitude % 360.0
        if lon >= 360.0:
            lon = 0.0
        index = min(11, int(lon // 30.0))
        in_sign = lon - 30.0 * index
        degree = min(29, int(in_sign))
        minute = min(59, int((in_sign - degree) * 60.0))
        return cls(
            name=name,
            longitude=lon,
            sign=SIGNS[index],
            degree=degree,
            minute=minute,
            degree_in_sign=in_sign,
            retrograde=name not in _NEVER_RETROGRADE and speed < 0.0,
            speed=speed,
            distance_au=distance_au,
            latitude=latitude,
        )

    def to_dict(self) -> dict[str, Any]:
        """Wire format: ``longitude, sign, degree, minute, degreeInSign, retrograde, speed, distanceAu``."""
        return {
            "longitude": self.longitude,
            "sign": self.sign,
            "degree": self.degree,
            "minute": self.minute,
            "degreeInSign": self.degree_in_sign,
            "retrograde": self.retrograde,
            "speed": self.speed,
            "distanceAu": self.distance_au,
        }


def _positions_at_djd(djd: float) -> dict[str, PlanetPosition]:
    bodies = [new_body(name) for name in BODY_NAMES]
    h = SPEED_STEP_DAYS
    # Date-major order: PyEphem caches per-date quantities (nutation, precession, Earth), so computing all
    # bodies at one date before moving to the next is ~2x faster than body-major order.
    before = [apparent_ecliptic(b, djd - h)[0] for b in bodies]
    after = [apparent_ecliptic(b, djd + h)[0] for b in bodies]
    result: dict[str, PlanetPosition] = {}
    for name, body, lon_before, lon_after in zip(BODY_NAMES, bodies, before, after, strict=True):
        lon, lat = apparent_ecliptic(body, djd)
        distance = float(body.earth_distance)
        speed = wrap180(lon_after - lon_before) / (2.0 * h)
        result[name] = PlanetPosition.from_longitude(name, lon, speed, distance, lat)
    return result


def compute_positions(at: datetime) -> dict[str, PlanetPosition]:
    """Positions of Sun..Pluto at the aware instant ``at`` (dict in Sun..Pluto order).

    Raises :class:`ValueError` for a naive datetime. Pure and thread-safe; uncached (≈ 1 ms).
    """
    return _positions_at_djd(to_djd(require_aware(at)))


@lru_cache(maxsize=POSITION_CACHE_SIZE)
def _positions_for_minute_index(minute_index: int) -> dict[str, PlanetPosition]:
    return _positions_at_djd(minute_index / 1440.0 + DJD_UNIX_EPOCH)


def positions_for_minute(at: datetime) -> dict[str, PlanetPosition]:
    """Positions at ``at`` floored to the start of its UTC minute, memoised (LRU, ``POSITION_CACHE_SIZE``).

    The live sky is computed at minute resolution: every caller within the same UTC minute gets identical
    values. Returns a fresh dict each time (the records themselves are immutable), so callers may mutate
    it freely.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        require_aware(at)  # raises the standard ValueError
    minute_index = math.floor(at.timestamp() / 60.0)
    return dict(_positions_for_minute_index(minute_index))


def minute_floor(at: datetime) -> datetime:
    """The UTC instant :func:`positions_for_minute` actually computes for ``at``."""
    require_aware(at)
    return from_djd(math.floor(at.timestamp() / 60.0) / 1440.0 + DJD_UNIX_EPOCH)


def clear_position_cache() -> None:
    """Empty the per-minute position cache (tests, benchmarks)."""
    _positions_for_minute_index.cache_clear()


def position_cache_info() -> Any:
    """``functools`` cache statistics of the per-minute position cache."""
    return _positions_for_minute_index.cache_info()
