"""Planetary routes: current hour, the hours of a day, positions, celestial events."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from threading import Lock
from typing import Annotated, Any

from fastapi import Body, Depends, Query, Request

from shared.alchemy import CLASSICAL_PLANETS, dignity_score
from shared.app import api_router
from shared.astro import (
    LocationError,
    compute_positions,
    find_events,
    moon_phase,
    planetary_hour,
    planetary_hours_for_date,
)
from shared.errors import InvalidInput
from shared.http import ORJSONResponse
from shared.inputs import QUERY_NAMES, Location, parse_instant, parse_location
from shared.ratelimit import heavy_calculation
from shared.validation import openapi_query

from .deps import SettingsDep
from .schemas import PositionsRequest

router = api_router(tags=["planetary"])

MAX_EVENT_WINDOW = timedelta(days=31)
DEFAULT_EVENT_WINDOW = timedelta(days=7)
EVENT_TYPES = ("lunar_phase", "ingress", "station_retrograde", "station_direct", "aspect")


def _hour_call(at: datetime, location: Location) -> Any:
    try:
        return planetary_hour(at, location.latitude, location.longitude, location.zone)
    except LocationError as exc:  # astro names the query fields: lat, lon, tz
        raise InvalidInput(exc.field, exc.reason) from exc


def influences(hour: Any, chart: Any, diurnal: bool) -> dict[str, float]:
    """The legacy ``all_influences``: for each classical planet, 0.5 if it rules the hour + 0.3 if it rules
    the day + 0.2 × its current degree-level dignity mapped from [−9, +11] onto [0, 1] (docs/api-core.md)."""
    out: dict[str, float] = {}
    for planet in CLASSICAL_PLANETS:
        point = chart.get(planet)
        dignity = 0.0
        if point is not None:
            score = dignity_score(planet, point.resolved_sign, point.lon, diurnal)
            dignity = min(1.0, max(0.0, (score + 9.0) / 20.0))
        value = 0.2 * dignity
        if planet == hour.planet:
            value += 0.5
        if planet == hour.day_ruler:
            value += 0.3
        out[planet] = round(value, 6)
    return out


_LOCATION_QUERY = [
    ("lat", "number", "latitude, −90..90 (default New York, 40.7128)"),
    ("lon", "number", "longitude, −180..180 (default −74.0060)"),
    ("tz", "string", "IANA zone, e.g. America/New_York (default: inferred from lon, or New York's)"),
]


@router.get(
    "/planetary/current-hour",
    summary="The planetary hour now (or at `at`) for a place",
    openapi_extra=openapi_query([*_LOCATION_QUERY, ("at", "string", "ISO 8601 instant; default now")]),
)
async def current_hour(request: Request) -> ORJSONResponse:
    q = request.query_params
    state = request.app.state
    return ORJSONResponse(
        _current_hour(state.settings, state.sky, q.get("lat"), q.get("lon"), q.get("tz"), q.get("at"), "at")
    )


@router.get(
    "/api/planetary/current",
    summary="Legacy alias of /planetary/current-hour (timestamp, lat, lon)",
    openapi_extra=openapi_query([*_LOCATION_QUERY, ("timestamp", "string", "ISO 8601 instant; default now")]),
)
async def current_hour_legacy(request: Request) -> ORJSONResponse:
    q = request.query_params
    state = request.app.state
    return ORJSONResponse(
        _current_hour(
            state.settings,
            state.sky,
            q.get("lat"),
            q.get("lon"),
            q.get("tz"),
            q.get("timestamp"),
            "timestamp",
        )
    )


@lru_cache(maxsize=1024)
def _hour_dict(hour: Any) -> dict[str, Any]:
    """The wire form of a planetary hour (cached: an hour object is shared by all requests in it)."""
    return hour.to_dict()


def _current_hour(
    settings: Any, sky: Any, lat: Any, lon: Any, tz: Any, at: Any, at_field: str
) -> dict[str, Any]:
    location = parse_location(settings, lat, lon, tz, names=QUERY_NAMES)
    when = parse_instant(at, at_field) if at else datetime.now(UTC)
    hour = _hour_call(when, location)
    moment = sky.moment(when if at else None, location)
    key = ("influences", hour.planet, hour.day_ruler)
    all_influences = moment.memo.get(key)
    if all_influences is None:
        all_influences = moment.memo[key] = influences(hour, moment.chart, moment.diurnal)
    payload = _hour_dict(hour)
    payload = dict(payload)
    payload.update(
        {
            "at": when,
            "location": location.as_dict(),
            # legacy fields read by the frontend (AlchemicalApiClient A3)
            "current_time": when.isoformat().replace("+00:00", "Z"),
            "dominant_planet": hour.planet,
            "influence_strength": all_influences.get(hour.planet, 0.0),
            "all_influences": all_influences,
        }
    )
    return payload


@router.get("/planetary/hours", summary="The 24 planetary hours of a local date at a place")
async def hours_of_day(
    settings: SettingsDep,
    day: Annotated[str | None, Query(alias="date", description="YYYY-MM-DD, local; default today")] = None,
    lat: Annotated[float | None, Query()] = None,
    lon: Annotated[float | None, Query()] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> ORJSONResponse:
    location = parse_location(settings, lat, lon, tz, names=QUERY_NAMES)
    if day:
        try:
            local_date = date.fromisoformat(day)
        except ValueError as exc:
            raise InvalidInput("date", f"not a YYYY-MM-DD date: {day[:32]!r}") from exc
        if not 1800 <= local_date.year <= 2200:
            raise InvalidInput("date", "must be between 1800-01-01 and 2200-12-31")
    else:
        local_date = datetime.now(location.zone).date()
    try:
        planetary_day = planetary_hours_for_date(
            local_date, location.latitude, location.longitude, location.zone
        )
    except LocationError as exc:
        raise InvalidInput(exc.field, exc.reason) from exc
    payload = planetary_day.to_dict()
    payload["location"] = location.as_dict()
    return ORJSONResponse(payload)


def _positions_payload(at: datetime) -> dict[str, Any]:
    positions = compute_positions(at)
    phase = moon_phase(at)
    return {
        "at": at,
        "planets": {name: p.to_dict() for name, p in positions.items()},
        "moonPhase": phase.to_dict(),
        "zodiacSystem": "tropical",
        "frame": "apparent geocentric ecliptic of date",
    }


@router.get("/planetary/positions", summary="Apparent geocentric positions of Sun..Pluto at an instant")
async def positions_get(
    at: Annotated[str | None, Query(max_length=64, description="ISO 8601 instant; default now")] = None,
) -> ORJSONResponse:
    return ORJSONResponse(_positions_payload(parse_instant(at, "at")))


@router.post("/planetary/positions", summary="Positions at an instant given as ISO or as date parts")
async def positions_post(settings: SettingsDep, body: Annotated[PositionsRequest, Body()]) -> ORJSONResponse:
    if body.zodiacSystem not in (None, "", "tropical"):
        raise InvalidInput("zodiacSystem", "only the tropical zodiac is supported")
    if body.at is not None:
        at = parse_instant(body.at, "at")
    elif body.year is not None:
        if body.month is None or body.day is None:
            raise InvalidInput("month" if body.month is None else "day", "required with year")
        zone_name = body.tz or "UTC"
        location = (
            parse_location(settings, None, None, zone_name)
            if body.latitude is None
            else parse_location(settings, body.latitude, body.longitude, zone_name)
        )
        try:
            local = datetime(
                body.year, body.month, body.day, body.hour or 0, body.minute or 0, tzinfo=location.zone
            )
        except ValueError as exc:
            raise InvalidInput("day", str(exc)) from exc
        at = local.astimezone(UTC)
    else:
        at = datetime.now(UTC)
    return ORJSONResponse(_positions_payload(at))


class _EventCache:
    def __init__(self, size: int = 64) -> None:
        self._data: OrderedDict[tuple[datetime, datetime], list[Any]] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def events(self, start: datetime, end: datetime) -> list[Any]:
        """Events of whole UTC days covering [start, end) (pure: cached by day range)."""
        day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
        day1 = end.replace(hour=0, minute=0, second=0, microsecond=0)
        if day1 < end:
            day1 += timedelta(days=1)
        key = (day0, day1)
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit
        found = find_events(day0, day1)
        with self._lock:
            self._data[key] = found
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return found


_EVENTS = _EventCache()


@router.get(
    "/celestial/events",
    summary="Celestial events in a window (≤ 31 days), by exact root search",
    dependencies=[Depends(heavy_calculation)],
)
async def celestial_events(
    start: Annotated[str | None, Query(max_length=64, description="ISO 8601; default now")] = None,
    end: Annotated[str | None, Query(max_length=64, description="ISO 8601; default start + 7 days")] = None,
    types: Annotated[
        str | None, Query(max_length=200, description=f"comma list of {', '.join(EVENT_TYPES)}")
    ] = None,
) -> ORJSONResponse:
    t0 = parse_instant(start, "start")
    t1 = parse_instant(end, "end") if end else t0 + DEFAULT_EVENT_WINDOW
    if t1 <= t0:
        raise InvalidInput("end", "must be after start")
    if t1 - t0 > MAX_EVENT_WINDOW:
        raise InvalidInput("end", f"the window must not exceed {MAX_EVENT_WINDOW.days} days")
    wanted: set[str] | None = None
    if types:
        wanted = {t.strip() for t in types.split(",") if t.strip()}
        unknown = wanted - set(EVENT_TYPES)
        if unknown:
            raise InvalidInput("types", f"unknown event type(s): {', '.join(sorted(unknown))}")
    events = [e for e in _EVENTS.events(t0, t1) if t0 <= e.at < t1 and (wanted is None or e.type in wanted)]
    return ORJSONResponse(
        {"start": t0, "end": t1, "count": len(events), "events": [e.to_dict() for e in events]}
    )
