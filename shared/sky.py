"""The live sky, cached: positions → chart → sect → alchemize, per minute and rounded location.

Thin glue over the pure engines (``shared.astro``, ``shared.alchemy``). The live sky has minute
resolution: "now" is floored to the UTC minute so every request in that minute shares one computation
(positions cached by ``shared.astro.positions_for_minute``; the alchemize result here, keyed by the minute
and the location rounded to 0.01°, which is what decides the sect). An explicit instant is computed exactly.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from shared.alchemy import ChartPoint, alchemize
from shared.alchemy.alchemize import AlchemizeResult
from shared.astro import compute_positions, is_diurnal, positions_for_minute
from shared.astro.ephemeris import PlanetPosition
from shared.inputs import Location

_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class SkyMoment:
    """Everything computed about the sky at one instant for one observer."""

    at: datetime
    positions: Mapping[str, PlanetPosition]
    chart: Mapping[str, ChartPoint]
    diurnal: bool
    result: AlchemizeResult
    #: per-moment memo for derived values (e.g. the legacy influences per hour/day ruler pair)
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False)


def chart_from_positions(positions: Mapping[str, PlanetPosition]) -> dict[str, ChartPoint]:
    """The live-sky chart: exact longitudes, no distances (Λ = mass weight, as the frontend's live path)."""
    return {
        name: ChartPoint(sign=p.sign, degree=p.degree_in_sign, longitude=p.longitude)
        for name, p in positions.items()
    }


class SkyCache:
    """A small thread-safe LRU of :class:`SkyMoment` keyed by (minute, lat, lon rounded to 0.01°)."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._data: OrderedDict[tuple[int, float, float], SkyMoment] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def moment(self, at: datetime | None, location: Location) -> SkyMoment:
        """The sky for ``at`` (exact) or, when ``at`` is None, for the current UTC minute (cached)."""
        if at is not None:
            positions = compute_positions(at)
            return _build(at, positions, location)
        minute = int(time.time() // 60)
        key = (minute, round(location.latitude, 2), round(location.longitude, 2))
        with self._lock:
            cached = self._data.get(key)
            if cached is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return cached
        self.misses += 1
        now = datetime.fromtimestamp(minute * 60, UTC)
        moment = _build(now, positions_for_minute(now), location)
        with self._lock:
            self._data[key] = moment
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return moment


def _build(at: datetime, positions: Mapping[str, PlanetPosition], location: Location) -> SkyMoment:
    chart = chart_from_positions(positions)
    diurnal = is_diurnal(at, location.latitude, location.longitude)
    return SkyMoment(
        at=at, positions=positions, chart=chart, diurnal=diurnal, result=alchemize(chart, diurnal)
    )
