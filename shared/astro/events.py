"""Celestial events in a time window, each with an exact UTC time found by root search.

Event types (``CelestialEvent.type``):

* ``lunar_phase``: the elongation λ_Moon − λ_Sun reaches 0°, 90°, 180°, 270° (subtypes ``new_moon``,
  ``first_quarter``, ``full_moon``, ``last_quarter``; ``sign`` is the Moon's sign).
* ``ingress``: a body (Sun..Pluto, Moon included) crosses a sign cusp (multiple of 30°). ``subtype`` is
  ``"direct"`` or ``"retrograde"`` (direction of motion while crossing); ``sign`` is the sign entered.
* ``station_retrograde`` / ``station_direct``: the longitude speed of Mercury..Pluto changes sign
  (subtype ``"retrograde"`` / ``"direct"``; ``sign`` is where the planet stands still).
* ``aspect``: the longitude difference of two of Sun..Saturn reaches 0°, ±60°, ±90°, ±120° or 180°
  (subtypes ``conjunction``, ``sextile``, ``square``, ``trine``, ``opposition``). Sun–Moon conjunction,
  squares and opposition are *not* repeated as aspects: they are the lunar phases.

Method (never mean daily motion):

1. Each body is sampled on a grid anchored at fixed UT instants (multiples of 6 h since the PyEphem epoch,
   so the same event found from overlapping windows gets the same brackets, time and ``id``), with a step
   chosen by speed: Moon 6 h, Mercury 12 h, Sun/Venus/Mars 1 day, Jupiter..Pluto 2 days. A pair uses the
   finer step of its two bodies; the lunar phases use the Moon's.
2. Turning points of each sampled function (stations of a planet; maxima of a pair's separation) are
   detected from sign changes of consecutive differences and refined with Brent's method on the speed
   (central difference over ±0.01 d). They are the station events, and they split the function into
   monotonic pieces.
3. Within a monotonic piece each target level (cusp, phase angle, aspect angle) is crossed at most once;
   the crossing is solved with Brent's method to 0.5 s (stations to 30 s; a station is flat, so its time is
   only meaningful to minutes: measured agreement with DE421 over 2024 is ≤ 1 min for Mercury..Jupiter
   and ≤ 8 min for Saturn..Pluto).

Intensity (0..1), a documented heuristic: with rarity ``r`` = log(mean days per sign) / log(Pluto's mean
days per sign) clipped to [0, 1] (Moon 0.09, Sun/Mercury/Venus 0.38, Mars 0.45, Jupiter 0.66, Saturn
0.76, Uranus 0.88, Neptune 0.96, Pluto 1):
lunar phases: new and full moon 1.0, quarters 0.7; ingress: 0.3 + 0.7·r; station: 0.5 + 0.5·r; aspect:
weight(aspect) × (0.4 + 0.6·mean(r_A, r_B)) with weights conjunction 1.0, opposition 0.9, square 0.8,
trine 0.7, sextile 0.5. Rounded to 3 decimals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from shared.astro._core import (
    BODY_NAMES,
    SIGNS,
    apparent_longitude,
    format_degree,
    from_djd,
    new_body,
    require_aware,
    sign_of,
    to_djd,
    wrap180,
)
from shared.astro._roots import RootNotBracketedError, brent

__all__ = [
    "ASPECT_BODIES",
    "ASPECTS",
    "EVENT_TYPES",
    "MAX_WINDOW_DAYS",
    "SAMPLE_STEP_DAYS",
    "STATION_BODIES",
    "CelestialEvent",
    "EventType",
    "find_events",
]

EventType = Literal["lunar_phase", "ingress", "station_retrograde", "station_direct", "aspect"]

#: All event types, in the order of :data:`EventType`.
EVENT_TYPES: Final[tuple[str, ...]] = (
    "lunar_phase",
    "ingress",
    "station_retrograde",
    "station_direct",
    "aspect",
)
#: Longest window accepted by :func:`find_events`.
MAX_WINDOW_DAYS: Final[int] = 366
#: Grid unit (days); each body samples every ``stride`` units.
BASE_STEP_DAYS: Final[float] = 0.25
_STRIDES: Final[dict[str, int]] = {
    "Sun": 4,
    "Moon": 1,
    "Mercury": 2,
    "Venus": 4,
    "Mars": 4,
    "Jupiter": 8,
    "Saturn": 8,
    "Uranus": 8,
    "Neptune": 8,
    "Pluto": 8,
}
#: Sampling step per body (days).
SAMPLE_STEP_DAYS: Final[dict[str, float]] = {name: s * BASE_STEP_DAYS for name, s in _STRIDES.items()}
#: Bodies whose mutual aspects are searched (Sun..Saturn).
ASPECT_BODIES: Final[tuple[str, ...]] = BODY_NAMES[:7]
#: Bodies that can station (Mercury..Pluto).
STATION_BODIES: Final[tuple[str, ...]] = BODY_NAMES[2:]
#: Major aspects: (name, angle, weight for the intensity).
ASPECTS: Final[tuple[tuple[str, float, float], ...]] = (
    ("conjunction", 0.0, 1.0),
    ("sextile", 60.0, 0.5),
    ("square", 90.0, 0.8),
    ("trine", 120.0, 0.7),
    ("opposition", 180.0, 0.9),
)
_ASPECT_BY_SEPARATION: Final[dict[int, tuple[str, float]]] = {
    0: ("conjunction", 1.0),
    60: ("sextile", 0.5),
    300: ("sextile", 0.5),
    90: ("square", 0.8),
    270: ("square", 0.8),
    120: ("trine", 0.7),
    240: ("trine", 0.7),
    180: ("opposition", 0.9),
}
_LUNAR_PHASES: Final[dict[int, tuple[str, str, float]]] = {
    0: ("new_moon", "New moon", 1.0),
    90: ("first_quarter", "First quarter moon", 0.7),
    180: ("full_moon", "Full moon", 1.0),
    270: ("last_quarter", "Last quarter moon", 0.7),
}
#: Mean sidereal period of each body (days): the mean time in a sign is a twelfth of it (Mercury and Venus
#: accompany the Sun, one zodiac a year).
_MEAN_PERIOD_DAYS: Final[dict[str, float]] = {
    "Sun": 365.25,
    "Moon": 27.321661,
    "Mercury": 365.25,
    "Venus": 365.25,
    "Mars": 686.98,
    "Jupiter": 4332.59,
    "Saturn": 10759.22,
    "Uranus": 30688.5,
    "Neptune": 60182.0,
    "Pluto": 90560.0,
}
_RARITY: Final[dict[str, float]] = {
    name: min(1.0, max(0.0, math.log(p / 12.0) / math.log(_MEAN_PERIOD_DAYS["Pluto"] / 12.0)))
    for name, p in _MEAN_PERIOD_DAYS.items()
}
_DERIV_STEP_DAYS: Final[float] = 0.01
_XTOL_CROSSING_DAYS: Final[float] = 0.5 / 86400.0
_XTOL_STATION_DAYS: Final[float] = 30.0 / 86400.0


@dataclass(frozen=True, slots=True)
class CelestialEvent:
    """One celestial event.

    Attributes:
        id: deterministic ``"{type}:{bodies joined by '-'}:{subtype}:{UTC minute, ISO}"``.
        type: one of :data:`EVENT_TYPES`.
        subtype: e.g. ``"full_moon"``, ``"trine"``, ``"direct"``.
        bodies: the bodies involved, in Sun..Pluto order.
        at: exact UTC instant (rounded to the second).
        sign: the relevant sign (lowercase) or ``None`` (aspects).
        description: short human text.
        intensity: 0..1 (see the module docstring for the rule).
        longitude: the relevant ecliptic longitude (degrees): the cusp, the station point, the Moon at a
            phase, the first body of an aspect.
    """

    id: str
    type: str
    subtype: str
    bodies: tuple[str, ...]
    at: datetime
    sign: str | None
    description: str
    intensity: float
    longitude: float

    def to_dict(self) -> dict[str, Any]:
        """Wire view: ISO 8601 ``at`` plus epoch-milliseconds ``timestamp`` (both dialects of the UI)."""
        return {
            "id": self.id,
            "type": self.type,
            "subtype": self.subtype,
            "bodies": list(self.bodies),
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "timestamp": int(round(self.at.timestamp() * 1000.0)),
            "sign": self.sign,
            "description": self.description,
            "intensity": self.intensity,
            "longitude": self.longitude,
        }


class _Sky:
    """Per-call body objects plus a memo of grid samples (thread-safe because it is per call)."""

    def __init__(self) -> None:
        self._bodies = {name: new_body(name) for name in BODY_NAMES}
        self._grid: dict[tuple[str, int], float] = {}

    def lon(self, name: str, djd: float) -> float:
        return apparent_longitude(self._bodies[name], djd)

    def fill(self, needs: dict[int, set[str]]) -> None:
        """Evaluate the grid samples date by date (PyEphem caches per-date quantities)."""
        for index in sorted(needs):
            djd = index * BASE_STEP_DAYS
            for name in BODY_NAMES:
                if name in needs[index] and (name, index) not in self._grid:
                    self._grid[(name, index)] = self.lon(name, djd)

    def grid(self, name: str, index: int) -> float:
        return self._grid[(name, index)]


@dataclass(frozen=True, slots=True)
class _Crossing:
    djd: float
    level: float
    increasing: bool


@dataclass(frozen=True, slots=True)
class _Extremum:
    djd: float
    value: float
    is_max: bool


class _Track:
    """An angle function of time (a body's longitude, or a difference of two) on a grid.

    ``f(djd)`` returns degrees (any branch); the samples are unwrapped into a continuous series.
    """

    def __init__(
        self,
        sky: _Sky,
        bodies: tuple[str, ...],
        stride: int,
        first_index: int,
        last_index: int,
        f: Callable[[float], float],
    ) -> None:
        self.sky = sky
        self.bodies = bodies
        self.f = f
        indices = list(range(first_index, last_index + 1, stride))
        self.times = [i * BASE_STEP_DAYS for i in indices]
        self.indices = indices
        self._values: list[float] | None = None

    def needs(self, out: dict[int, set[str]]) -> None:
        for index in self.indices:
            out[index].update(self.bodies)

    def values(self) -> list[float]:
        """Unwrapped samples."""
        if self._values is None:
            raw = [self._sample(i) for i in self.indices]
            unwrapped = [raw[0]]
            for v in raw[1:]:
                unwrapped.append(unwrapped[-1] + wrap180(v - unwrapped[-1]))
            self._values = unwrapped
        return self._values

    def _sample(self, index: int) -> float:
        if len(self.bodies) == 1:
            return self.sky.grid(self.bodies[0], index)
        return self.sky.grid(self.bodies[0], index) - self.sky.grid(self.bodies[1], index)

    def derivative(self, djd: float) -> float:
        h = _DERIV_STEP_DAYS
        return wrap180(self.f(djd + h) - self.f(djd - h)) / (2.0 * h)

    def extrema(self) -> list[_Extremum]:
        """Refined turning points, in time order."""
        u = self.values()
        t = self.times
        out: list[_Extremum] = []
        for j in range(1, len(u) - 1):
            d_before = u[j] - u[j - 1]
            d_after = u[j + 1] - u[j]
            if (d_before > 0.0 and d_after <= 0.0) or (d_before < 0.0 and d_after >= 0.0):
                is_max = d_before > 0.0
                root = self._refine_extremum(t[j - 1], t[j], t[j + 1])
                if root is None:
                    continue
                value = u[j] + wrap180(self.f(root) - u[j])
                if out and abs(out[-1].djd - root) < _XTOL_STATION_DAYS:
                    continue  # same turning point seen from two neighbouring triples
                out.append(_Extremum(root, value, is_max))
        return out

    def _refine_extremum(self, a: float, m: float, b: float) -> float | None:
        da = self.derivative(a)
        db = self.derivative(b)
        try:
            return brent(self.derivative, a, b, _XTOL_STATION_DAYS, fa=da, fb=db)
        except RootNotBracketedError:
            pass
        dm = self.derivative(m)
        for lo, hi, dlo, dhi in ((a, m, da, dm), (m, b, dm, db)):
            try:
                return brent(self.derivative, lo, hi, _XTOL_STATION_DAYS, fa=dlo, fb=dhi)
            except RootNotBracketedError:
                continue
        return None

    def crossings(
        self, extrema: list[_Extremum], levels: Callable[[float, float], list[float]]
    ) -> list[_Crossing]:
        """Times at which the function crosses each level, piece by monotonic piece."""
        knots = [(t, v) for t, v in zip(self.times, self.values(), strict=True)]
        knots.extend((e.djd, e.value) for e in extrema)
        knots.sort()
        out: list[_Crossing] = []
        for (a, ua), (b, ub) in zip(knots, knots[1:], strict=False):
            if b - a <= 0.0 or ua == ub:
                continue
            increasing = ub > ua
            lo, hi = (ua, ub) if increasing else (ub, ua)
            for level in levels(lo, hi):
                # Half-open: a piece owns the levels strictly past its starting value, up to its end value.
                if level == ua:
                    continue

                def offset(x: float, level: float = level) -> float:
                    return wrap180(self.f(x) - level)

                try:
                    root = brent(offset, a, b, _XTOL_CROSSING_DAYS, fa=ua - level, fb=ub - level)
                except RootNotBracketedError:
                    continue
                out.append(_Crossing(root, level, increasing))
        return out


def _levels(offsets: tuple[float, ...], period: float) -> Callable[[float, float], list[float]]:
    def levels(lo: float, hi: float) -> list[float]:
        found: list[float] = []
        for offset in offsets:
            m = math.ceil((lo - offset) / period)
            while offset + m * period <= hi:
                found.append(offset + m * period)
                m += 1
        return sorted(found)

    return levels


def _round_second(djd: float) -> datetime:
    at = from_djd(djd)
    micro = at.microsecond
    at = at.replace(microsecond=0)
    return at + timedelta(seconds=1) if micro >= 500_000 else at


def _event_id(kind: str, bodies: tuple[str, ...], subtype: str, at: datetime) -> str:
    return f"{kind}:{'-'.join(bodies)}:{subtype}:{at.strftime('%Y-%m-%dT%H:%MZ')}"


def _make_event(
    kind: str,
    subtype: str,
    bodies: tuple[str, ...],
    djd: float,
    sign: str | None,
    description: str,
    intensity: float,
    longitude: float,
) -> tuple[datetime, CelestialEvent]:
    at = _round_second(djd)
    event = CelestialEvent(
        id=_event_id(kind, bodies, subtype, at),
        type=kind,
        subtype=subtype,
        bodies=bodies,
        at=at,
        sign=sign,
        description=description,
        intensity=round(min(1.0, max(0.0, intensity)), 3),
        longitude=longitude % 360.0,
    )
    return at, event


def _normalise_types(types: Iterable[str] | None) -> set[str]:
    if types is None:
        return set(EVENT_TYPES)
    if isinstance(types, str):
        types = [types]
    wanted: set[str] = set()
    for kind in types:
        if kind == "station":
            wanted.update(("station_retrograde", "station_direct"))
        elif kind in EVENT_TYPES:
            wanted.add(kind)
        else:
            raise ValueError(
                f"unknown event type {kind!r}; expected one of {', '.join(EVENT_TYPES)} or 'station'"
            )
    return wanted


def find_events(start: datetime, end: datetime, types: Iterable[str] | None = None) -> list[CelestialEvent]:
    """Events with ``start <= at < end``, sorted by time (then type and bodies).

    ``types`` restricts the search (any of :data:`EVENT_TYPES`, or ``"station"`` for both stations).
    Raises :class:`ValueError` for naive datetimes, ``end < start``, a window over
    :data:`MAX_WINDOW_DAYS` days, or an unknown type.
    """
    start_utc = require_aware(start, "start")
    end_utc = require_aware(end, "end")
    if end_utc < start_utc:
        raise ValueError("end must not be before start")
    if end_utc - start_utc > timedelta(days=MAX_WINDOW_DAYS):
        raise ValueError(f"window too long: at most {MAX_WINDOW_DAYS} days")
    wanted = _normalise_types(types)
    if end_utc == start_utc or not wanted:
        return []
    s, e = to_djd(start_utc), to_djd(end_utc)
    sky = _Sky()

    def span(stride: int) -> tuple[int, int]:
        first = (math.floor(s / BASE_STEP_DAYS) // stride - 2) * stride
        last = (math.ceil(e / BASE_STEP_DAYS) // stride + 3) * stride
        return first, last

    def body_track(name: str) -> _Track:
        stride = _STRIDES[name]
        return _Track(sky, (name,), stride, *span(stride), lambda t: sky.lon(name, t))

    def pair_track(a: str, b: str) -> _Track:
        stride = min(_STRIDES[a], _STRIDES[b])
        return _Track(sky, (a, b), stride, *span(stride), lambda t: sky.lon(a, t) - sky.lon(b, t))

    want_stations = bool(wanted & {"station_retrograde", "station_direct"})
    body_tracks: dict[str, _Track] = {}
    if "ingress" in wanted:
        body_tracks = {name: body_track(name) for name in BODY_NAMES}
    elif want_stations:
        body_tracks = {name: body_track(name) for name in STATION_BODIES}
    lunar_track = pair_track("Moon", "Sun") if "lunar_phase" in wanted else None
    pair_tracks: dict[tuple[str, str], _Track] = {}
    if "aspect" in wanted:
        for i, a in enumerate(ASPECT_BODIES):
            for b in ASPECT_BODIES[i + 1 :]:
                pair_tracks[(a, b)] = pair_track(a, b)

    needs: dict[int, set[str]] = defaultdict(set)
    for track in [*body_tracks.values(), *pair_tracks.values(), *([lunar_track] if lunar_track else [])]:
        track.needs(needs)
    sky.fill(needs)

    found: list[tuple[datetime, CelestialEvent]] = []
    window_start, window_end = start_utc, end_utc

    def keep(item: tuple[datetime, CelestialEvent]) -> None:
        if window_start <= item[0] < window_end:
            found.append(item)

    # Stations and ingresses.
    for name, track in body_tracks.items():
        extrema = track.extrema() if name in STATION_BODIES else []
        if want_stations:
            for ext in extrema:
                kind = "station_retrograde" if ext.is_max else "station_direct"
                if kind not in wanted:
                    continue
                subtype = "retrograde" if ext.is_max else "direct"
                keep(
                    _make_event(
                        kind,
                        subtype,
                        (name,),
                        ext.djd,
                        sign_of(ext.value),
                        f"{name} stations {subtype} at {format_degree(ext.value)}",
                        0.5 + 0.5 * _RARITY[name],
                        ext.value,
                    )
                )
        if "ingress" in wanted:
            for cross in track.crossings(extrema, _levels((0.0,), 30.0)):
                index = round(cross.level / 30.0)
                sign = SIGNS[index % 12] if cross.increasing else SIGNS[(index - 1) % 12]
                subtype = "direct" if cross.increasing else "retrograde"
                text = f"{name} enters {sign.capitalize()}" + ("" if cross.increasing else " (retrograde)")
                keep(
                    _make_event(
                        "ingress",
                        subtype,
                        (name,),
                        cross.djd,
                        sign,
                        text,
                        0.3 + 0.7 * _RARITY[name],
                        cross.level,
                    )
                )

    # Lunar phases.
    if lunar_track is not None:
        for cross in lunar_track.crossings([], _levels((0.0, 90.0, 180.0, 270.0), 360.0)):
            key, label, intensity = _LUNAR_PHASES[round(cross.level) % 360]
            moon_lon = sky.lon("Moon", cross.djd)
            moon_sign = sign_of(moon_lon)
            keep(
                _make_event(
                    "lunar_phase",
                    key,
                    ("Sun", "Moon"),
                    cross.djd,
                    moon_sign,
                    f"{label} in {moon_sign.capitalize()}",
                    intensity,
                    moon_lon,
                )
            )

    # Aspects.
    offsets = (0.0, 60.0, 90.0, 120.0, 180.0, 240.0, 270.0, 300.0)
    for (a, b), track in pair_tracks.items():
        pair_offsets = (60.0, 120.0, 240.0, 300.0) if (a, b) == ("Sun", "Moon") else offsets
        for cross in track.crossings(track.extrema(), _levels(pair_offsets, 360.0)):
            separation = round(cross.level) % 360
            aspect, weight = _ASPECT_BY_SEPARATION[separation]
            intensity = weight * (0.4 + 0.6 * (_RARITY[a] + _RARITY[b]) / 2.0)
            keep(
                _make_event(
                    "aspect",
                    aspect,
                    (a, b),
                    cross.djd,
                    None,
                    f"{a} {aspect} {b} (exact)",
                    intensity,
                    sky.lon(a, cross.djd),
                )
            )

    type_order = {kind: i for i, kind in enumerate(EVENT_TYPES)}
    found.sort(key=lambda item: (item[0], type_order[item[1].type], item[1].bodies, item[1].subtype))
    return [event for _, event in found]
