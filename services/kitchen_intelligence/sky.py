"""The sky-dependent part of a request, computed once per (instant, place) and cached.

The live sky as alchemical-core builds it (``services/alchemical_core/sky.py``): positions of Sun..Pluto at
the instant's UTC minute (``shared.astro.positions_for_minute``), a chart of exact longitudes **without
distances** (Λ = mass weight, domain.md §3), the sect at the observer (``is_diurnal``) and ``alchemize`` for
the ESMS; plus what the kitchen needs: the planetary hour at the observer, the mass-weighted sign elements
(the sky share of a dish, domain.md §5), the body-weighted sign elements (the elemental alignment, §6), the
sign-level dignity of each classical planet and the sky score of each possible ruling planet.

Recommendations use an *effective instant*: the request's instant floored to the 5-minute cache bucket, but
never before the start of the planetary hour that contains it (:func:`effective_instant`). The cache key
carries that instant, so a cached answer equals a fresh computation for the same key.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any

from shared.alchemy import (
    CLASSICAL_PLANETS,
    ELEMENTS,
    ChartPoint,
    alchemize,
    face_ruler,
    mass_weighted_sign_elements,
)
from shared.alchemy.alchemize import AlchemizeResult
from shared.astro import is_diurnal, planetary_hour, positions_for_minute
from shared.astro.ephemeris import PlanetPosition
from shared.astro.hours import PlanetaryHour

from .inputs import Location, zone
from .scoring import PlanetSky, planet_sky, sign_dignity, weighted_sky_elements

__all__ = ["BUCKET_S", "HourMemo", "SkyCache", "SkyContext", "build_sky", "effective_instant", "season_at"]

#: Cache bucket of recommendations (and the TTL of a cached answer): 5 minutes.
BUCKET_S = 300

_SEASON_BY_MONTH = {
    12: "winter",
    1: "winter",
    2: "winter",
    3: "spring",
    4: "spring",
    5: "spring",
    6: "summer",
    7: "summer",
    8: "summer",
    9: "autumn",
    10: "autumn",
    11: "autumn",
}
_OPPOSITE_SEASON = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


def season_at(local: datetime, latitude: float) -> str:
    """Meteorological season of the local date (domain-analysis §9: Mar–May spring …), flipped in the
    southern hemisphere."""
    season = _SEASON_BY_MONTH[local.month]
    return _OPPOSITE_SEASON[season] if latitude < 0 else season


def bucket_start(at: datetime) -> datetime:
    ts = math.floor(at.timestamp() / BUCKET_S) * BUCKET_S
    return datetime.fromtimestamp(ts, tz=UTC)


def effective_instant(at: datetime, hour: PlanetaryHour) -> datetime:
    """``max(floor(at, 5 min), start of the planetary hour containing at)`` (``hour`` must contain ``at``)."""
    start = bucket_start(at)
    return max(start, hour.start.astimezone(UTC))


class HourMemo:
    """The planetary hour at a place, memoised: the last hour per (lat, lon, tz) is reused while it contains
    the instant (a comparison), otherwise recomputed (``shared.astro.planetary_hour``, ~60 µs)."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._data: OrderedDict[tuple[float, float, str], PlanetaryHour] = OrderedDict()
        self._lock = Lock()

    def get(self, at: datetime, location: Location) -> PlanetaryHour:
        key = (location.latitude, location.longitude, location.tz)
        hour = self._data.get(key)
        if hour is not None and hour.start <= at < hour.end:
            return hour
        hour = planetary_hour(at, location.latitude, location.longitude, location.tz)
        with self._lock:
            self._data[key] = hour
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return hour


@dataclass(frozen=True, slots=True)
class SkyContext:
    """Everything a request scores against (one instant, one observer)."""

    at: datetime
    location: Location
    positions: Mapping[str, PlanetPosition]
    diurnal: bool
    alchemy: AlchemizeResult
    hour: PlanetaryHour
    season: str
    mass_elements: Mapping[str, float]  # mass-weighted sign elements (dish pipeline, §5)
    s3: tuple[float, float, float, float]  # 0.3 × mass-weighted sign elements
    weighted: tuple[float, float, float, float]  # body-weighted sign elements (alignment, §6)
    weighted_norm: float
    dignity: Mapping[str, float]  # classical planet → sign-level dignity now
    planets: Mapping[str, PlanetSky]  # classical planet → its sky score as a ruling planet
    planet_dicts: Mapping[str, dict[str, Any]]  # the same, rendered once for the answers
    dominant: str  # dominant element of the weighted sky

    @property
    def esms(self) -> tuple[float, float, float, float]:
        e = self.alchemy.esms
        return (e.spirit, e.essence, e.matter, e.substance)

    def hour_dict(self) -> dict[str, Any]:
        h = self.hour
        return {
            "planet": h.planet,
            "hourNumber": h.hour_number,
            "isDaytime": h.is_daytime,
            "start": h.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "end": h.end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "dayRuler": h.day_ruler,
            "hourSystem": h.hour_system,
        }

    def elements_dict(self) -> dict[str, float]:
        return {el: round(v, 6) for el, v in zip(ELEMENTS, self.weighted, strict=True)}

    def summary(self) -> dict[str, Any]:
        """The sky as reported in ``request_context``."""
        return {
            "elements": self.elements_dict(),
            "elementsRegime": "sign_elements_body_weighted",
            "dominantElement": self.dominant,
            "esms": {k: round(v, 6) for k, v in self.alchemy.esms.totals.items()},
            "isDiurnal": self.diurnal,
            "season": self.season,
            # each classical planet's condition now as a ruling planet (the items' breakdowns refer to it)
            "planets": dict(self.planet_dicts),
        }


def chart_from_positions(positions: Mapping[str, PlanetPosition]) -> dict[str, ChartPoint]:
    return {
        name: ChartPoint(sign=p.sign, degree=p.degree_in_sign, longitude=p.longitude)
        for name, p in positions.items()
    }


def build_sky(at: datetime, location: Location, hour: PlanetaryHour | None = None) -> SkyContext:
    """Compute the sky for ``at`` at ``location`` (positions at ``at``'s UTC minute)."""
    positions = positions_for_minute(at)
    chart = chart_from_positions(positions)
    diurnal = is_diurnal(at, location.latitude, location.longitude)
    result = alchemize(chart, diurnal)
    if hour is None or not (hour.start <= at < hour.end):
        hour = planetary_hour(at, location.latitude, location.longitude, location.tz)
    mass = mass_weighted_sign_elements(chart)
    signs = {name: p.sign for name, p in positions.items()}
    weighted = weighted_sky_elements(signs)
    norm = math.sqrt(
        0
        + weighted[0] * weighted[0]
        + weighted[1] * weighted[1]
        + weighted[2] * weighted[2]
        + weighted[3] * weighted[3]
    )
    dignity: dict[str, float] = {}
    planets: dict[str, PlanetSky] = {}
    for planet in CLASSICAL_PLANETS:
        pos = positions[planet]
        dignity[planet] = sign_dignity(planet, pos.sign)
        planets[planet] = planet_sky(
            planet,
            pos.sign,
            pos.degree_in_sign,
            pos.longitude,
            pos.retrograde,
            face_ruler(pos.longitude),
            hour.planet,
        )
    best = 0
    for i in range(1, 4):
        if weighted[i] > weighted[best]:
            best = i
    dominant = ELEMENTS[best]
    local = at.astimezone(zone(location.tz))
    return SkyContext(
        at=at,
        location=location,
        positions=positions,
        diurnal=diurnal,
        alchemy=result,
        hour=hour,
        season=season_at(local, location.latitude),
        mass_elements=mass,
        s3=(0.3 * mass["Fire"], 0.3 * mass["Water"], 0.3 * mass["Earth"], 0.3 * mass["Air"]),
        weighted=weighted,
        weighted_norm=norm,
        dignity=dignity,
        planets=planets,
        planet_dicts={p: ps.as_dict() for p, ps in planets.items()},
        dominant=dominant,
    )


class SkyCache:
    """A small thread-safe LRU of :class:`SkyContext` keyed by (instant, place)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._data: OrderedDict[tuple[float, float, float, str], SkyContext] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def get(self, at: datetime, location: Location, hour: PlanetaryHour | None = None) -> SkyContext:
        key = (at.timestamp(), location.latitude, location.longitude, location.tz)
        found = self._data.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        sky = build_sky(at, location, hour)
        with self._lock:
            self._data[key] = sky
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return sky


def next_boundary(hour: PlanetaryHour) -> timedelta:
    """Time from now until the end of ``hour`` (≥ 0)."""
    return max(timedelta(0), hour.end - datetime.now(UTC))
