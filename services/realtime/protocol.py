"""The realtime wire protocol: channel names, client frames, server frames (docs/realtime.md).

Canonical server frame::

    {"channel": "planetary_hours", "type": "snapshot"|"update"|"event"|"ack"|"error",
     "id": "<stream id>"|null, "ts": "2025-01-01T12:00:00.000Z", "data": {...}}

plus, for the legacy clients (design/reference/frontend-contract-analysis.md §2.2):

* D1 (``AlchemicalApiClient``; sends ``{"action":"subscribe","channel":"planetary_hours"}``) reads
  ``current_hour`` → every planetary-hour frame also carries ``current_hour`` (the hour + ``gregsEnergy``);
* D2 (``alchmWs``; sends nothing) reads ``data.{planet,start,end,timestamp}``, ``data.{Fire,Water,Air,Earth}``
  and ``data.{type,timestamp,detail}`` → the canonical ``data`` already holds those fields;
* D3 (``usePlanetaryWebSocket``; sends ``{"type":"subscribe","channel":"planetary-hours",...}``) keeps only
  ``{type:"update", channel:"planetary-hours", data:{planet: str, isDaytime: bool}}`` → a connection that
  subscribed with the hyphenated alias gets its planetary-hour frames named ``planetary-hours`` and typed
  ``update`` (snapshots included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from shared.bus import (
    CELESTIAL_EVENTS,
    CHANNELS,
    ENERGY_UPDATES,
    PLANETARY_HOURS,
    RECOMMENDATIONS_REFRESH,
)

__all__ = [
    "ALIASES",
    "CHANNEL_BITS",
    "CHANNELS",
    "ClientRequest",
    "Location",
    "ProtocolError",
    "parse_client_frame",
    "parse_location",
    "render",
]

PLANETARY_HOURS_ALIAS: Final = "planetary-hours"
#: Accepted channel names → canonical name.
ALIASES: Final[dict[str, str]] = {
    **{c: c for c in CHANNELS},
    PLANETARY_HOURS_ALIAS: PLANETARY_HOURS,
    "celestial-events": CELESTIAL_EVENTS,
    "energy-updates": ENERGY_UPDATES,
    "recommendations-refresh": RECOMMENDATIONS_REFRESH,
}
CHANNEL_BITS: Final[dict[str, int]] = {c: 1 << i for i, c in enumerate(CHANNELS)}
ALL_CHANNELS_MASK: Final = sum(CHANNEL_BITS.values())
#: The channel of frames about the connection itself (errors not tied to a channel, replay summary, pong).
SYSTEM: Final = "system"

ACTIONS: Final = frozenset({"subscribe", "unsubscribe", "ping"})


class ProtocolError(ValueError):
    """A client frame we cannot act on; ``field`` names the offending field (``data.location.latitude``)."""

    def __init__(
        self, field: str, reason: str, *, code: str = "INVALID_FRAME", channel: str = SYSTEM
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code
        self.channel = channel


@dataclass(frozen=True, slots=True)
class Location:
    """An observer for planetary hours: coordinates rounded to 0.01° (as ``shared.astro.hours`` computes
    them) and an IANA zone. ``key`` identifies it across instances."""

    latitude: float
    longitude: float
    timezone: str

    @property
    def key(self) -> str:
        return f"{self.latitude:.2f},{self.longitude:.2f},{self.timezone}"

    def to_dict(self) -> dict[str, Any]:
        return {"latitude": self.latitude, "longitude": self.longitude, "timezone": self.timezone}

    @staticmethod
    def of(latitude: float, longitude: float, timezone: str) -> Location:
        return Location(_round(latitude), _round(longitude), timezone)

    @staticmethod
    def from_key(key: str) -> Location:
        lat, lon, tz = key.split(",", 2)
        return Location.of(float(lat), float(lon), tz)


def _round(value: float) -> float:
    return round(value, 2) + 0.0


def _number(raw: Any, field: str, low: float, high: float, what: str) -> float:
    if isinstance(raw, str):
        try:
            raw = float(raw.strip())
        except ValueError:
            raise ProtocolError(field, f"must be a number, got {raw!r}", code="INVALID_LOCATION") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ProtocolError(field, f"must be a number, got {type(raw).__name__}", code="INVALID_LOCATION")
    value = float(raw)
    if not math.isfinite(value):
        raise ProtocolError(field, "must be a finite number", code="INVALID_LOCATION")
    if not low <= value <= high:
        raise ProtocolError(
            field, f"{what} must be between {low:g} and {high:g}, got {value:g}", code="INVALID_LOCATION"
        )
    return value


def _zone_ok(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def solar_zone(longitude: float) -> str:
    """The fixed-offset zone nearest to local solar time (``Etc/GMT+5`` at 74° W): used when a client gives
    coordinates without a zone. It decides only the local date of sunrise (the weekday) and the 06:00/18:00
    of the polar fallback, which solar time gets right everywhere that matters."""
    offset = int(round(-longitude / 15.0))
    offset = max(-12, min(12, offset))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{offset:+d}"


def _first(raw: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        if name in raw:
            return name, raw[name]
    return names[0], None


def parse_location(raw: Any, default: Location, prefix: str = "data.location") -> Location:
    """Validate a client location ``{latitude, longitude, tz?}`` (also ``lat``/``lon``/``lng``, ``timezone``).

    Without a zone: the default zone when the place is the default place, else :func:`solar_zone`."""
    if not isinstance(raw, Mapping):
        raise ProtocolError(prefix, "must be an object {latitude, longitude, tz?}", code="INVALID_LOCATION")
    lat_name, lat_raw = _first(raw, ("latitude", "lat"))
    lon_name, lon_raw = _first(raw, ("longitude", "lon", "lng"))
    if lat_raw is None:
        raise ProtocolError(f"{prefix}.latitude", "is required", code="INVALID_LOCATION")
    if lon_raw is None:
        raise ProtocolError(f"{prefix}.longitude", "is required", code="INVALID_LOCATION")
    lat = _number(lat_raw, f"{prefix}.{lat_name}", -90.0, 90.0, "latitude")
    lon = _number(lon_raw, f"{prefix}.{lon_name}", -180.0, 180.0, "longitude")
    tz_name, tz = _first(raw, ("tz", "timezone", "timeZone"))
    if tz is None:
        if _round(lat) == default.latitude and _round(lon) == default.longitude:
            zone = default.timezone
        else:
            zone = solar_zone(lon)
    else:
        if not isinstance(tz, str) or not tz.strip() or len(tz) > 64:
            raise ProtocolError(
                f"{prefix}.{tz_name}",
                "must be an IANA time-zone name such as 'America/New_York'",
                code="INVALID_LOCATION",
            )
        zone = tz.strip()
        if not _zone_ok(zone):
            raise ProtocolError(
                f"{prefix}.{tz_name}", f"unknown IANA time zone {zone!r}", code="INVALID_LOCATION"
            )
    return Location.of(lat, lon, zone)


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A parsed client frame. ``channels`` pairs each canonical channel with the name the client used."""

    action: str
    channels: tuple[tuple[str, str], ...]
    location: Location | None


def parse_client_frame(text: str | bytes, default: Location) -> ClientRequest:
    """Parse ``{"action"|"type": "subscribe"|"unsubscribe"|"ping", "channel"|"channels", "data"?}``."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("frame", "not valid JSON", code="MALFORMED_JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame", "must be a JSON object")
    key = "action" if "action" in message else "type"
    action = message.get(key)
    if not isinstance(action, str) or action not in ACTIONS:
        raise ProtocolError(key, f"must be one of {sorted(ACTIONS)}, got {action!r}", code="UNKNOWN_ACTION")
    if action == "ping":
        return ClientRequest("ping", (), None)
    names: list[Any]
    if "channels" in message:
        raw = message["channels"]
        if isinstance(raw, str):
            names = [raw]
        elif isinstance(raw, list) and raw and len(raw) <= 16:
            names = raw
        else:
            raise ProtocolError(
                "channels", "must be a non-empty list of channel names", code="UNKNOWN_CHANNEL"
            )
        field = "channels"
    elif "channel" in message:
        names = [message["channel"]]
        field = "channel"
    else:
        raise ProtocolError(
            "channel", "is required (one of " + ", ".join(CHANNELS) + ")", code="UNKNOWN_CHANNEL"
        )
    pairs: list[tuple[str, str]] = []
    for name in names:
        canonical = ALIASES.get(name) if isinstance(name, str) else None
        if canonical is None:
            raise ProtocolError(
                field, f"unknown channel {name!r}; known: {', '.join(CHANNELS)}", code="UNKNOWN_CHANNEL"
            )
        pairs.append((canonical, name))
    location: Location | None = None
    data = message.get("data")
    if data is not None and not isinstance(data, dict):
        raise ProtocolError("data", "must be an object")
    if data and data.get("location") is not None:
        try:
            location = parse_location(data["location"], default)
        except ProtocolError as exc:
            exc.channel = pairs[0][1]
            raise
    return ClientRequest(action, tuple(pairs), location)


def render(
    channel: str,
    type: str,
    event_id: str | None,
    ts: str,
    data: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> str:
    """One server frame as JSON text."""
    frame: dict[str, Any] = {"channel": channel, "type": type, "id": event_id, "ts": ts, "data": data}
    if extra:
        frame.update(extra)
    return orjson.dumps(frame, option=orjson.OPT_NON_STR_KEYS).decode()


def error_frame(ts: str, channel: str, code: str, field: str, reason: str) -> str:
    return render(
        channel, "error", None, ts, {"error": code, "field": field, "message": f"{field}: {reason}"}
    )
