"""Glue between the pure engines (``shared.astro``, ``shared.alchemy``) and the realtime payloads.

Everything here is synchronous and pure apart from small caches; the hub and the producer call it through
``asyncio.to_thread`` when a computation may take more than a millisecond or two.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any

from shared.alchemy import alchemize
from shared.astro import find_events, is_diurnal, planetary_hour, positions_for_minute
from shared.astro.events import CelestialEvent
from shared.astro.hours import PlanetaryHour
from shared.bus import utc_iso
from shared.sky import chart_from_positions  # the same chart as alchemical-core: energy == /alchemize

from .protocol import Location

#: ``CelestialEvent.type`` → the ``type`` the UI has an icon for (frontend-contract-analysis §2.2).
_UI_TYPES = {
    "lunar_phase": "lunar_phase",
    "ingress": "planetary_transition",
    "station_retrograde": "retrograde",
    "station_direct": "retrograde",
}
_UI_ASPECTS = frozenset({"conjunction", "opposition", "trine", "square"})


def iso(at: datetime) -> str:
    return utc_iso(at)


# --------------------------------------------------------------------------------------------------
# Planetary hours
# --------------------------------------------------------------------------------------------------


def current_hour(location: Location, at: datetime) -> PlanetaryHour:
    """The planetary hour containing ``at`` (an instant exactly on a boundary belongs to the new hour)."""
    hour = planetary_hour(at, location.latitude, location.longitude, location.timezone)
    if hour.end <= at:  # float edge exactly at a boundary
        hour = planetary_hour(hour.end, location.latitude, location.longitude, location.timezone)
    return hour


def hour_payload(hour: PlanetaryHour, location: Location, at: datetime) -> dict[str, Any]:
    """Canonical planetary-hour ``data``: the fields of every dialect (planet, isDaytime, start, end,
    hourNumber, dayRuler; D2's optional ``timestamp``) plus the rest of the hour and the location."""
    data = hour.to_dict()
    data["timestamp"] = iso(at)
    data["location"] = {**location.to_dict(), "key": location.key}
    return data


class HourCache:
    """The current hour per location, recomputed only when the cached one has ended."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._data: OrderedDict[str, PlanetaryHour] = OrderedDict()
        self._lock = Lock()

    def peek(self, location: Location, at: datetime) -> PlanetaryHour | None:
        """The cached hour when it contains ``at`` (no computation)."""
        hour = self._data.get(location.key)
        return hour if hour is not None and hour.start <= at < hour.end else None

    def get(self, location: Location, at: datetime) -> PlanetaryHour:
        with self._lock:
            hour = self._data.get(location.key)
            if hour is not None and hour.start <= at < hour.end:
                self._data.move_to_end(location.key)
                return hour
        hour = current_hour(location, at)
        with self._lock:
            self._data[location.key] = hour
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return hour


# --------------------------------------------------------------------------------------------------
# Energy
# --------------------------------------------------------------------------------------------------


def minute_of(at: datetime) -> datetime:
    return datetime.fromtimestamp(math.floor(at.timestamp() / 60.0) * 60, UTC)


def energy_payload(at: datetime, location: Location) -> dict[str, Any]:
    """The sky's energy for the UTC minute of ``at``: positions → chart → alchemize, sect from the Sun's
    altitude at ``location``. ``data`` carries D2's ``{Fire, Water, Earth, Air}`` (display fractions), the
    thermodynamics (heat, entropy, reactivity, gregsEnergy, kalchm, monica) and ESMS."""
    minute = minute_of(at)
    positions = positions_for_minute(minute)
    chart = chart_from_positions(positions)
    diurnal = is_diurnal(minute, location.latitude, location.longitude)
    result = alchemize(chart, diurnal)
    thermo = result.thermodynamics
    elements = result.elemental_properties
    return {
        "Fire": elements["Fire"],
        "Water": elements["Water"],
        "Earth": elements["Earth"],
        "Air": elements["Air"],
        "heat": thermo.heat,
        "entropy": thermo.entropy,
        "reactivity": thermo.reactivity,
        "gregsEnergy": thermo.gregs_energy,
        "kalchm": thermo.kalchm,
        "monica": thermo.monica,
        "esms": result.esms.totals,
        "elementTotals": dict(result.element_totals),
        "dominantElement": result.dominant_element,
        "dominantModality": result.dominant_modality,
        "sunSign": result.sun_sign,
        "isDiurnal": diurnal,
        "score": result.score,
        "degraded": list(result.degraded),
        "at": iso(minute),
        "timestamp": iso(minute),
        "location": location.to_dict(),
    }


class EnergyCache:
    """Energy per (minute, location key); a handful of entries is plenty (one per minute in use)."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._data: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        self._lock = Lock()

    def get(self, at: datetime, location: Location) -> dict[str, Any]:
        key = (math.floor(at.timestamp() / 60.0), location.key)
        with self._lock:
            cached = self._data.get(key)
            if cached is not None:
                return cached
        payload = energy_payload(at, location)
        with self._lock:
            self._data[key] = payload
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return payload


# --------------------------------------------------------------------------------------------------
# Celestial events
# --------------------------------------------------------------------------------------------------


def ui_type(event: CelestialEvent) -> str:
    if event.type == "aspect":
        return event.subtype if event.subtype in _UI_ASPECTS else "planetary_aspect"
    return _UI_TYPES.get(event.type, "default")


def event_payload(event: CelestialEvent) -> dict[str, Any]:
    """One event as the UI reads it: ``type`` from the UI's icon set, ``timestamp`` ISO (D2),
    ``timestamp_ms`` epoch milliseconds (``CelestialEventNotifications``), ``detail`` = the short text."""
    return {
        "id": event.id,
        "type": ui_type(event),
        "eventType": event.type,
        "subtype": event.subtype,
        "bodies": list(event.bodies),
        "sign": event.sign,
        "timestamp": iso(event.at),
        "timestamp_ms": int(round(event.at.timestamp() * 1000)),
        "at": iso(event.at),
        "detail": event.description,
        "description": event.description,
        "intensity": event.intensity,
        "longitude": event.longitude,
    }


def events_between(start: datetime, end: datetime) -> list[CelestialEvent]:
    return find_events(start, end)


class EventsCache:
    """The events around "now" for snapshots: recomputed when the cached window no longer covers
    ``[now − window/3, now + window·2/3]`` comfortably."""

    def __init__(self, window_s: float = 3 * 86400) -> None:
        self.window = timedelta(seconds=window_s)
        self._start: datetime | None = None
        self._end: datetime | None = None
        self._events: list[CelestialEvent] = []
        self._lock = Lock()

    def around(self, at: datetime) -> list[CelestialEvent]:
        with self._lock:
            if (
                self._start is not None
                and self._end is not None
                and self._start <= at - self.window / 4
                and at + self.window / 2 <= self._end
            ):
                return self._events
        start = at - self.window / 3
        end = at + self.window * 2 / 3
        events = find_events(start, end)
        with self._lock:
            self._start, self._end, self._events = start, end, events
        return events


def events_snapshot(events: list[CelestialEvent], at: datetime, upcoming: int) -> dict[str, Any]:
    """Snapshot ``data`` of ``celestial_events``: the latest past event's fields at the top level (so a D2
    client shows it like any event), plus ``recent`` (last 24 h) and ``upcoming`` lists."""
    past = [e for e in events if e.at <= at]
    future = [e for e in events if e.at > at]
    recent = [event_payload(e) for e in past if e.at >= at - timedelta(days=1)]
    head = past[-1] if past else (future[0] if future else None)
    data: dict[str, Any] = event_payload(head) if head is not None else {"type": "default", "detail": None}
    data["recent"] = recent
    data["upcoming"] = [event_payload(e) for e in future[:upcoming]]
    return data
