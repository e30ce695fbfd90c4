"""Moon phase (name, illumination, age) and exact times of the next four lunar quarters.

* **Elongation** = (λ_Moon − λ_Sun) mod 360°, from the apparent ecliptic longitudes of date
  (:mod:`shared.astro.ephemeris` conventions). 0° is new moon, 90° first quarter, 180° full moon, 270° last
  quarter.
* **Names**: eight 45° sectors *centred* on 0°, 45°, …, 315° (``domain.md`` §8): new moon is
  [337.5°, 22.5°), waxing crescent [22.5°, 67.5°), first quarter [67.5°, 112.5°), and so on.
* **Illumination**: illuminated fraction of the disc, ``(1 + cos i) / 2`` with the phase angle ``i`` from
  PyEphem's geometry (``Moon.moon_phase``), 0 at new moon and 1 at full moon.
* **Age**: elongation divided by the mean synodic rate (360° / 29.530589 d); an approximation good to
  about ±0.6 day (the true rate varies between ~10 and ~15°/day).
* **Next phases**: roots of ``wrap180(elongation(t) − target)`` found with Brent's method from a bracket of
  ±2.5 days around the mean-motion estimate, to 0.5 s (the elongation is strictly increasing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared.astro._core import apparent_longitude, from_djd, new_body, require_aware, to_djd, wrap180
from shared.astro._roots import brent

__all__ = [
    "LUNAR_PHASE_TARGETS",
    "PHASE_NAMES",
    "SYNODIC_MONTH_DAYS",
    "MoonPhase",
    "NextLunarPhases",
    "elongation_at",
    "moon_phase",
    "next_lunar_phases",
    "phase_name",
]

#: Eight phase names, index = sector centred on 45° × index.
PHASE_NAMES: Final[tuple[str, ...]] = (
    "new moon",
    "waxing crescent",
    "first quarter",
    "waxing gibbous",
    "full moon",
    "waning gibbous",
    "last quarter",
    "waning crescent",
)
#: Mean synodic month (days).
SYNODIC_MONTH_DAYS: Final[float] = 29.530588853
#: Mean rate of the elongation (degrees per day).
MEAN_ELONGATION_RATE: Final[float] = 360.0 / SYNODIC_MONTH_DAYS
#: Quarter keys and their elongation targets.
LUNAR_PHASE_TARGETS: Final[tuple[tuple[str, float], ...]] = (
    ("new_moon", 0.0),
    ("first_quarter", 90.0),
    ("full_moon", 180.0),
    ("last_quarter", 270.0),
)

_XTOL_DAYS: Final[float] = 0.5 / 86400.0
_BRACKET_DAYS: Final[float] = 2.5


def phase_name(elongation: float) -> str:
    """Name of the 45° sector (centred on multiples of 45°) containing ``elongation`` (degrees)."""
    return PHASE_NAMES[int(((elongation % 360.0) + 22.5) // 45.0) % 8]


@dataclass(frozen=True, slots=True)
class MoonPhase:
    """The Moon's phase at one instant.

    Attributes:
        name: one of :data:`PHASE_NAMES`.
        index: 0..7, the position of ``name`` in :data:`PHASE_NAMES`.
        elongation: (λ_Moon − λ_Sun) mod 360, degrees.
        illumination: illuminated fraction of the disc, 0..1.
        age_days: approximate days since new moon (elongation / mean synodic rate).
        waxing: True while the elongation is below 180°.
        moon_longitude, sun_longitude: the apparent longitudes used (degrees).
    """

    name: str
    index: int
    elongation: float
    illumination: float
    age_days: float
    waxing: bool
    moon_longitude: float
    sun_longitude: float

    def to_dict(self) -> dict[str, Any]:
        """camelCase wire view."""
        return {
            "name": self.name,
            "phaseIndex": self.index,
            "elongation": self.elongation,
            "illumination": self.illumination,
            "ageDays": self.age_days,
            "waxing": self.waxing,
        }


@dataclass(frozen=True, slots=True)
class NextLunarPhases:
    """Exact UTC times of the next new moon, first quarter, full moon and last quarter after an instant."""

    new_moon: datetime
    first_quarter: datetime
    full_moon: datetime
    last_quarter: datetime

    def ordered(self) -> list[tuple[str, datetime]]:
        """``(key, time)`` pairs sorted by time (keys as in :data:`LUNAR_PHASE_TARGETS`)."""
        pairs = [(key, getattr(self, key)) for key, _ in LUNAR_PHASE_TARGETS]
        return sorted(pairs, key=lambda pair: pair[1])

    def to_dict(self) -> dict[str, str]:
        """camelCase keys with ISO 8601 UTC strings, in time order."""
        camel = {
            "new_moon": "newMoon",
            "first_quarter": "firstQuarter",
            "full_moon": "fullMoon",
            "last_quarter": "lastQuarter",
        }
        return {camel[key]: when.isoformat().replace("+00:00", "Z") for key, when in self.ordered()}


def _elongation(sun: Any, moon: Any, djd: float) -> float:
    return (apparent_longitude(moon, djd) - apparent_longitude(sun, djd)) % 360.0


def elongation_at(at: datetime) -> float:
    """(λ_Moon − λ_Sun) mod 360 in degrees at the aware instant ``at``."""
    djd = to_djd(require_aware(at))
    return _elongation(new_body("Sun"), new_body("Moon"), djd)


def moon_phase(at: datetime) -> MoonPhase:
    """Phase of the Moon at the aware instant ``at`` (naive → :class:`ValueError`)."""
    djd = to_djd(require_aware(at))
    sun = new_body("Sun")
    moon = new_body("Moon")
    sun_lon = apparent_longitude(sun, djd)
    moon_lon = apparent_longitude(moon, djd)
    elongation = (moon_lon - sun_lon) % 360.0
    illumination = min(1.0, max(0.0, float(moon.moon_phase)))
    name = phase_name(elongation)
    return MoonPhase(
        name=name,
        index=PHASE_NAMES.index(name),
        elongation=elongation,
        illumination=illumination,
        age_days=elongation / MEAN_ELONGATION_RATE,
        waxing=elongation < 180.0,
        moon_longitude=moon_lon,
        sun_longitude=sun_lon,
    )


def next_phase_djd(sun: Any, moon: Any, djd: float, target: float) -> float:
    """First instant at or after ``djd`` (PyEphem date) when the elongation equals ``target`` degrees."""
    elongation = _elongation(sun, moon, djd)
    ahead = (target - elongation) % 360.0
    guess = djd + ahead / MEAN_ELONGATION_RATE
    lo = max(djd, guess - _BRACKET_DAYS)
    hi = guess + _BRACKET_DAYS

    def offset(t: float) -> float:
        return wrap180(_elongation(sun, moon, t) - target)

    f_lo = -ahead if lo == djd and ahead < 180.0 else offset(lo)
    return brent(offset, lo, hi, _XTOL_DAYS, fa=f_lo)


def next_lunar_phases(at: datetime) -> NextLunarPhases:
    """Exact UTC times of the next new, first-quarter, full and last-quarter moon at or after ``at``."""
    djd = to_djd(require_aware(at))
    sun = new_body("Sun")
    moon = new_body("Moon")
    times = {key: from_djd(next_phase_djd(sun, moon, djd, target)) for key, target in LUNAR_PHASE_TARGETS}
    return NextLunarPhases(**times)
