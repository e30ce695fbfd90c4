"""The event bus: one way for any service to publish realtime events, and for the realtime service to relay
them to WebSocket clients on every instance.

    bus = build_bus(settings, redis_client)            # RedisBus with a Redis URL, else InProcessBus
    event_id = await bus.publish("recommendations_refresh", "event", {"reason": "hour_change", ...})

* **RedisBus** — each event is appended to a bounded Redis stream (``XADD MAXLEN ~ N``; the stream entry id
  *is* the event id, ``"<ms>-<seq>"``) and announced on a pub/sub channel, both in one Lua script, so the
  stream order and the pub/sub order are the same and a publish is one round trip. Every realtime process
  runs **one** subscriber (:meth:`RedisBus.subscribe`) and fans out locally; a client that reconnects with
  ``last_event_id`` is replayed from the stream (:meth:`RedisBus.replay`, ``XRANGE`` exclusive). When the
  subscriber loses Redis it reconnects by itself and replays what it missed from the stream.
* **InProcessBus** — embedded mode (no Redis): the same interface inside one process, with a bounded deque
  for replay. Events published by another process never arrive: cross-service events need Redis.

Events are small JSON objects ``{channel, type, ts, created, data}``; ``ts`` is the publisher's notion of
"now" (ISO 8601 UTC, may come from an injected clock), ``created`` the wall-clock epoch seconds at publish
(used for the broadcast-lag metric).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson

from shared.aio import checkpoint

log = logging.getLogger("shared.bus")

#: The realtime channels (api.md). Any service may publish on them; the realtime service relays them.
PLANETARY_HOURS = "planetary_hours"
CELESTIAL_EVENTS = "celestial_events"
ENERGY_UPDATES = "energy_updates"
RECOMMENDATIONS_REFRESH = "recommendations_refresh"
CHANNELS: tuple[str, ...] = (PLANETARY_HOURS, CELESTIAL_EVENTS, ENERGY_UPDATES, RECOMMENDATIONS_REFRESH)

#: Event types carried on the bus (the frame ``type`` the realtime service sends).
EVENT_TYPES = frozenset({"update", "event"})

DEFAULT_STREAM_KEY = "alchm:events"
DEFAULT_MAXLEN = 10_000
#: The most events one replay returns (a client far behind gets the newest state from snapshots anyway).
DEFAULT_REPLAY_LIMIT = 1_000

_ID_RE = re.compile(r"^(\d{1,20})(?:-(\d{1,20}))?$")


def parse_event_id(value: str) -> tuple[int, int] | None:
    """``"1700000000000-3"`` → ``(1700000000000, 3)``; ``"1700000000000"`` → ``(…, 0)``; else ``None``."""
    match = _ID_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def utc_iso(at: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a ``Z``."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Event:
    """One published event. ``id`` is the stream id (ordered: compare with :attr:`order`)."""

    id: str
    channel: str
    type: str
    data: Mapping[str, Any]
    ts: str
    created: float
    order: tuple[int, int] = field(default=(0, 0), compare=False)

    @staticmethod
    def build(event_id: str, payload: Mapping[str, Any]) -> Event:
        order = parse_event_id(event_id) or (0, 0)
        data = payload.get("data")
        return Event(
            id=event_id,
            channel=str(payload.get("channel", "")),
            type=str(payload.get("type", "event")),
            data=data if isinstance(data, Mapping) else {},
            ts=str(payload.get("ts", "")),
            created=float(payload.get("created", 0.0) or 0.0),
            order=order,
        )


def encode_payload(channel: str, type: str, data: Mapping[str, Any], ts: datetime | None) -> bytes:
    """The stored/announced JSON body of an event (without its id)."""
    if not isinstance(channel, str) or not channel:
        raise ValueError("channel must be a non-empty string")
    if type not in EVENT_TYPES:
        raise ValueError(f"type must be one of {sorted(EVENT_TYPES)}, got {type!r}")
    now = time.time()
    stamp = utc_iso(ts if ts is not None else datetime.fromtimestamp(now, UTC))
    return orjson.dumps({"channel": channel, "type": type, "ts": stamp, "created": now, "data": dict(data)})


@runtime_checkable
class Bus(Protocol):
    """What publishers and the realtime relay need from the bus."""

    async def publish(
        self, channel: str, type: str, data: Mapping[str, Any], *, ts: datetime | None = None
    ) -> str:
        """Publish one event; returns its id (``"<ms>-<seq>"``)."""
        ...

    def subscribe(self) -> AsyncIterator[Event]:
        """Every event published from now on, in order (one subscriber per process is enough)."""
        ...

    async def replay(
        self, after_id: str, channels: Collection[str] | None = None, limit: int = DEFAULT_REPLAY_LIMIT
    ) -> list[Event]:
        """Events strictly after ``after_id`` (oldest first), optionally only on ``channels``."""
        ...

    async def first_id(self) -> str | None:
        """The oldest id still kept for replay (``None`` when empty): older ids may have been trimmed."""
        ...

    async def latest(self, channels: Collection[str] = CHANNELS, scan: int = 500) -> dict[str, Event]:
        """The newest kept event of each channel (looking at most ``scan`` events back)."""
        ...

    async def close(self) -> None: ...


# --------------------------------------------------------------------------------------------------
# In-process (embedded mode)
# --------------------------------------------------------------------------------------------------


class InProcessBus:
    """The bus inside one process: subscribers get every event, a bounded deque keeps the replay window."""

    def __init__(self, maxlen: int = DEFAULT_MAXLEN, subscriber_queue: int = 10_000) -> None:
        self._log: deque[Event] = deque(maxlen=maxlen)
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._subscriber_queue = subscriber_queue
        self._last_ms = 0
        self._seq = 0

    def _next_id(self) -> str:
        ms = int(time.time() * 1000)
        if ms <= self._last_ms:
            ms = self._last_ms
            self._seq += 1
        else:
            self._last_ms = ms
            self._seq = 0
        return f"{ms}-{self._seq}"

    async def publish(
        self, channel: str, type: str, data: Mapping[str, Any], *, ts: datetime | None = None
    ) -> str:
        payload = orjson.loads(encode_payload(channel, type, data, ts))
        event_id = self._next_id()
        event = Event.build(event_id, payload)
        self._log.append(event)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stuck subscriber loses events rather than blocking publishers
                log.warning("in-process bus subscriber is full; dropping event %s", event_id)
        return event_id

    async def subscribe(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=self._subscriber_queue)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    async def replay(
        self, after_id: str, channels: Collection[str] | None = None, limit: int = DEFAULT_REPLAY_LIMIT
    ) -> list[Event]:
        after = parse_event_id(after_id)
        if after is None:
            raise ValueError(f"invalid event id {after_id!r}")
        out: list[Event] = []
        for event in self._log:
            if event.order > after and (channels is None or event.channel in channels):
                out.append(event)
                if len(out) >= limit:
                    break
        return out

    async def first_id(self) -> str | None:
        return self._log[0].id if self._log else None

    async def latest(self, channels: Collection[str] = CHANNELS, scan: int = 500) -> dict[str, Event]:
        found: dict[str, Event] = {}
        for i, event in enumerate(reversed(self._log)):
            if i >= scan:
                break
            if event.channel in channels and event.channel not in found:
                found[event.channel] = event
        return found

    async def close(self) -> None:
        self._subscribers.clear()


# --------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------

# KEYS[1] stream; ARGV[1] maxlen, ARGV[2] payload, ARGV[3] pub/sub channel. Returns the new id.
_PUBLISH_LUA = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
redis.call('PUBLISH', ARGV[3], id .. ' ' .. ARGV[2])
return id
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def _entry_event(entry: Any) -> Event | None:
    """An ``XRANGE`` entry ``(id, {b'e': payload})`` → Event (``None`` if unreadable)."""
    try:
        entry_id, fields = entry
        raw = fields.get(b"e") if b"e" in fields else fields.get("e")
        return Event.build(_text(entry_id), orjson.loads(raw))
    except Exception:
        log.warning("skipping unreadable stream entry %r", entry)
        return None


class RedisBus:
    """Redis stream + pub/sub bus. ``redis`` is a ``redis.asyncio.Redis`` (with socket timeouts) used for
    publishing and replay; subscribing uses its own connection from ``subscriber_url`` (no read timeout,
    health-checked), so an idle channel never times out."""

    def __init__(
        self,
        redis: Any,
        *,
        subscriber_url: str | None = None,
        stream_key: str = DEFAULT_STREAM_KEY,
        maxlen: int = DEFAULT_MAXLEN,
        connect_timeout_s: float = 2.0,
        reconnect_max_s: float = 5.0,
    ) -> None:
        self.redis = redis
        self.stream_key = stream_key
        self.pubsub_channel = stream_key + ":live"
        self.maxlen = maxlen
        self._subscriber_url = subscriber_url
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_max_s = reconnect_max_s
        self._script = redis.register_script(_PUBLISH_LUA)
        self.connected = asyncio.Event()  # set while the subscriber holds a live subscription
        self.reconnects = 0

    async def publish(
        self, channel: str, type: str, data: Mapping[str, Any], *, ts: datetime | None = None
    ) -> str:
        payload = encode_payload(channel, type, data, ts)
        event_id = await self._script(
            keys=[self.stream_key], args=[self.maxlen, payload, self.pubsub_channel]
        )
        return _text(event_id)

    async def replay(
        self, after_id: str, channels: Collection[str] | None = None, limit: int = DEFAULT_REPLAY_LIMIT
    ) -> list[Event]:
        after = parse_event_id(after_id)
        if after is None:
            raise ValueError(f"invalid event id {after_id!r}")
        out: list[Event] = []
        start = f"({after[0]}-{after[1]}"
        # Page through the stream so a channel filter still returns up to ``limit`` matching events.
        while len(out) < limit:
            entries = await self.redis.xrange(self.stream_key, min=start, max="+", count=min(limit, 500))
            if not entries:
                break
            for entry in entries:
                event = _entry_event(entry)
                if event is not None and (channels is None or event.channel in channels):
                    out.append(event)
                    if len(out) >= limit:
                        break
            start = "(" + _text(entries[-1][0])
            if len(entries) < min(limit, 500):
                break
        return out

    async def first_id(self) -> str | None:
        entries = await self.redis.xrange(self.stream_key, min="-", max="+", count=1)
        return _text(entries[0][0]) if entries else None

    async def latest(self, channels: Collection[str] = CHANNELS, scan: int = 500) -> dict[str, Event]:
        entries = await self.redis.xrevrange(self.stream_key, max="+", min="-", count=scan)
        found: dict[str, Event] = {}
        for entry in entries:
            event = _entry_event(entry)
            if event is not None and event.channel in channels and event.channel not in found:
                found[event.channel] = event
                if len(found) == len(channels):
                    break
        return found

    def _subscriber_client(self) -> Any:
        import redis.asyncio as aioredis

        if self._subscriber_url:
            return aioredis.from_url(
                self._subscriber_url,
                socket_connect_timeout=self._connect_timeout_s,
                socket_keepalive=True,
                health_check_interval=5,
            )
        return self.redis

    async def subscribe(self) -> AsyncIterator[Event]:
        """Yield every event published from now on. Survives Redis restarts: after reconnecting it replays
        the gap from the stream (ids already yielded are skipped), then goes on with live events."""
        from redis.exceptions import RedisError

        client = self._subscriber_client()
        last: tuple[int, int] | None = None
        last_id: str | None = None
        backoff = 0.1
        try:
            while True:
                checkpoint()
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.subscribe(self.pubsub_channel)
                    self.connected.set()
                    backoff = 0.1
                    if last_id is not None:  # the gap while we were away
                        for event in await self.replay(last_id, limit=self.maxlen):
                            if last is None or event.order > last:
                                last, last_id = event.order, event.id
                                yield event
                    while True:
                        checkpoint()
                        message = await pubsub.get_message(timeout=1.0)
                        if message is None or message.get("type") != "message":
                            continue
                        raw = message["data"]
                        if isinstance(raw, str):
                            raw = raw.encode()
                        event_id, _, body = raw.partition(b" ")
                        try:
                            event = Event.build(event_id.decode(), orjson.loads(body))
                        except (orjson.JSONDecodeError, UnicodeDecodeError):
                            log.warning("skipping unreadable bus message")
                            continue
                        if last is not None and event.order <= last:
                            continue
                        last, last_id = event.order, event.id
                        yield event
                except (RedisError, OSError) as exc:
                    self.connected.clear()
                    self.reconnects += 1
                    log.warning("bus subscriber lost Redis (%s); reconnecting in %.1fs", exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(self._reconnect_max_s, backoff * 2)
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
        finally:
            self.connected.clear()
            if client is not self.redis:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def close(self) -> None:
        self.connected.clear()


def build_bus(
    settings: Any,
    redis: Any | None = None,
    *,
    stream_key: str = DEFAULT_STREAM_KEY,
    maxlen: int = DEFAULT_MAXLEN,
) -> Bus:
    """The bus for these settings: :class:`RedisBus` when ``settings.redis_url`` is set (``redis`` is the
    service's shared ``redis.asyncio`` client; one is created from the URL when omitted), else
    :class:`InProcessBus`."""
    url = getattr(settings, "redis_url", "") or ""
    if not url:
        return InProcessBus(maxlen=maxlen)
    if redis is None:
        import redis.asyncio as aioredis

        timeout = float(getattr(settings, "redis_timeout_s", 0.5))
        redis = aioredis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    return RedisBus(redis, subscriber_url=url, stream_key=stream_key, maxlen=maxlen)
