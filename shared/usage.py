"""Usage recording: every service's measured requests become usage events for the analytics service.

The request middleware (``shared.middleware``) calls ``app.state.usage_recorder.record(...)`` once per
measured request. ``record`` is synchronous and O(1): it appends one small tuple to a bounded deque and
returns; it never blocks, never awaits and never raises. A background task (started by the lifespan helper
:func:`usage_recording`) drains the deque every ``flush_interval_s`` (~250 ms) or as soon as
``batch_size`` (500) events are waiting, and ships each batch:

- **Redis configured** (``ALCHM_REDIS_URL``): one stream entry per batch in ``alchm:usage``
  (``XADD … MAXLEN ~ N``, several batches in one pipeline when a backlog has built up). The analytics
  service consumes the stream with a consumer group into PostgreSQL, idempotently by event id.
- **Embedded mode** (no Redis): batches go straight to the in-process sink registered by the analytics
  service when it runs in the same process (:func:`set_local_sink`); otherwise nothing can take them, so they
  wait in the bounded buffer and the oldest are dropped (counted) once it is full. Usage analytics of other
  processes is therefore *not* collected in embedded mode.

One stream entry carries a whole batch rather than one event: with redis-py each XADD costs ~55 µs of
client CPU on the reference machine, a third of a small request, while one XADD of a 500-event batch costs
~1 µs per event. ``MAXLEN`` therefore counts batches, not events. All told an event costs ~2 µs of CPU
(append, batching, JSON, its share of the XADD), ~6 µs with recommendation ids (docs/analytics.md).

Failures never reach the request path: when Redis is down the batch in flight is kept and retried with
exponential backoff (0.25 s → 5 s), new events keep buffering up to ``buffer_size`` and the oldest are
dropped beyond that; every failure and drop is a Prometheus counter.

Entry format (version 1), fields of one stream entry::

    v     "1"
    svc   service name            ("alchemical-core")
    inst  instance id             ("hostname:pid")
    idb   id base: 20 hex digits, the low 80 bits of the batch's first event id
    ev    JSON array of events, each a positional array:
          [ts, method, route, status, elapsed, user_hash, recommendation_ids, extra]
          (``ts`` Unix seconds and ``elapsed`` seconds, as floats)

Event ids are UUIDv7 in 32 hex digits: the event's 48-bit millisecond time, then 80 bits made of
per-process random bits, a 30-bit counter and a 32-bit random node. The recorder reserves one counter
value per event when it builds a batch and ships only the first (``idb``); the i-th event's id is
:func:`EventIdFactory.derive` ``(idb, i, ts_ms)``, computed identically by every reader. Ids are therefore
fixed when the batch is built — a retried or redelivered batch carries the same ids — time-ordered and
unique without coordination, and cost the request path nothing: an event without a user, recommendations
or extras is shipped as the very tuple ``record`` appended.

``user_hash`` is HMAC-SHA256 of the user id with ``ALCHM_USAGE_SALT`` (or a key derived from the JWT
secret), truncated to 24 hex digits: the same user maps to the same hash across services, the id itself
never leaves the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import random
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import orjson
from prometheus_client import Counter, Gauge
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.aio import checkpoint
from shared.logging import request_id_var
from shared.settings import Settings

log = logging.getLogger("shared.usage")

STREAM_FORMAT_VERSION = "1"
#: Positions inside one event array of a stream entry (see the module docstring).
EVENT_FIELDS = ("ts", "method", "route", "status", "elapsed", "user_hash", "recommendation_ids", "extra")
#: At most this many recommendation ids are kept per event.
MAX_RECOMMENDATION_IDS = 100

USAGE_EVENTS = Counter(
    "alchm_usage_events_total",
    "Usage events by outcome: recorded, shipped (to the stream or local sink), dropped_full "
    "(buffer full, oldest dropped), dropped_shutdown (unsent at shutdown)",
    ["service", "outcome"],
)
USAGE_FLUSH_FAILURES = Counter(
    "alchm_usage_flush_failures_total", "Failed attempts to ship a usage batch", ["service", "sink"]
)
USAGE_BUFFERED = Gauge(
    "alchm_usage_buffered_events",
    "Usage events waiting in this process's buffer",
    ["service"],
    multiprocess_mode="livesum",
)


class UsageSettings(BaseSettings):
    """Knobs of usage recording (``ALCHM_USAGE_*``)."""

    model_config = SettingsConfigDict(env_prefix="ALCHM_USAGE_", extra="ignore", env_ignore_empty=True)

    enabled: bool = True
    stream: str = "alchm:usage"
    #: Approximate MAXLEN of the stream, in entries (one entry = one batch of ≤ ``batch_size`` events).
    stream_maxlen: int = Field(default=100_000, ge=100)
    #: Events kept in memory while the sink is slow or down; beyond this the oldest are dropped.
    buffer_size: int = Field(default=50_000, ge=10)
    batch_size: int = Field(default=500, ge=1, le=5000)
    flush_interval_s: float = Field(default=0.25, gt=0, le=60)
    max_backoff_s: float = Field(default=5.0, gt=0, le=300)
    #: How long shutdown waits to ship what is left.
    shutdown_timeout_s: float = Field(default=3.0, ge=0, le=60)
    #: HMAC key for user ids; empty → derived from the JWT secret.
    salt: SecretStr = SecretStr("")


# --------------------------------------------------------------------------------------------------
# Ids and hashing
# --------------------------------------------------------------------------------------------------


_COUNTER_BITS = 30
_COUNTER_MASK = ((1 << _COUNTER_BITS) - 1) << 32


class EventIdFactory:
    """UUIDv7 ids as 32 hex digits: 48-bit Unix milliseconds, version 7, 12 random bits, the RFC 9562
    variant, a 30-bit counter and a 32-bit random node.

    The random bits, the counter's start and the node are drawn per factory (per process), so ids of
    different processes do not collide; within a process ``(ms, counter)`` does not repeat (the counter
    wraps after 2³⁰ ids, long after the millisecond has changed) and ids of one millisecond increase.
    """

    __slots__ = ("_next",)

    def __init__(self) -> None:
        fixed = (0x7 << 76) | (random.getrandbits(12) << 64) | (0b10 << 62)
        self._next = fixed | (random.getrandbits(_COUNTER_BITS) << 32) | random.getrandbits(32)

    @staticmethod
    def advance(low: int, count: int) -> int:
        """``low`` with its counter moved on by ``count`` (modulo 2³⁰; the other bits never change)."""
        counter = ((low >> 32) + count) & ((1 << _COUNTER_BITS) - 1)
        return (low & ~_COUNTER_MASK) | (counter << 32)

    @staticmethod
    def derive(base: int, index: int, ts_ms: int) -> str:
        """The id of the ``index``-th event of a batch whose first event has the low bits ``base``."""
        low = EventIdFactory.advance(base, index) if index else base
        return f"{ts_ms & 0xFFFFFFFFFFFF:012x}{low:020x}"

    def reserve(self, count: int) -> int:
        """Reserve ``count`` consecutive ids; returns the low 80 bits of the first."""
        first = self._next
        self._next = self.advance(first, count)
        return first

    def new(self, ts_ms: int) -> str:
        return self.derive(self.reserve(1), 0, ts_ms)


def entry_event_ids(idb: str | bytes, events: Sequence[Sequence[Any]]) -> list[str]:
    """The ids of a stream entry's events (``idb`` field and ``ev`` array, see the module docstring)."""
    base = int(idb.decode() if isinstance(idb, bytes) else idb, 16)
    return [EventIdFactory.derive(base, i, int(ev[0] * 1000)) for i, ev in enumerate(events)]


def usage_hash_key(settings: Settings, usage: UsageSettings) -> bytes:
    """The HMAC key for user ids: the dedicated salt, else a key derived from the JWT secret."""
    salt = usage.salt.get_secret_value()
    if salt:
        return salt.encode()
    secret = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(secret, b"alchm-usage-user-hash-v1", hashlib.sha256).digest()


class UserHasher:
    """HMAC-SHA256(key, user id), 24 hex digits, with a small cache (hashing is ~2 µs)."""

    __slots__ = ("_cache", "_key", "_max")

    def __init__(self, key: bytes, cache_size: int = 4096) -> None:
        self._key = key
        self._cache: dict[object, str] = {}
        self._max = cache_size

    def __call__(self, user_id: object) -> str:
        found = self._cache.get(user_id)
        if found is not None:
            return found
        digest = hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()[:24]
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[user_id] = digest
        return digest


def default_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------------------------------
# Sinks
# --------------------------------------------------------------------------------------------------


class UsageSink(Protocol):
    name: str

    async def send(self, batches: Sequence[Mapping[str, Any]]) -> None:
        """Ship batches (each ``{"v", "svc", "inst", "ev"}``) or raise."""


class RedisStreamSink:
    """One XADD per batch, all of them in one pipeline."""

    name = "redis"

    def __init__(self, redis: Any, stream: str, maxlen: int) -> None:
        self.redis = redis
        self.stream = stream
        self.maxlen = maxlen

    async def send(self, batches: Sequence[Mapping[str, Any]]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for batch in batches:
                fields = {
                    "v": STREAM_FORMAT_VERSION,
                    "svc": batch["svc"],
                    "inst": batch["inst"],
                    "idb": batch["idb"],
                    "ev": dump_events(batch["ev"]),
                }
                pipe.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)
            await pipe.execute()


def dump_events(events: Any) -> bytes:
    """JSON of a batch's events; values JSON cannot hold are stringified rather than failing the batch."""
    return orjson.dumps(events, default=str, option=orjson.OPT_NON_STR_KEYS)


LocalSinkFn = Callable[[Sequence[Mapping[str, Any]]], Awaitable[None]]
_local_sink: LocalSinkFn | None = None


def set_local_sink(sink: LocalSinkFn | None) -> None:
    """Register (or clear) the in-process consumer of usage batches (the embedded analytics store)."""
    global _local_sink
    _local_sink = sink


def get_local_sink() -> LocalSinkFn | None:
    return _local_sink


class LocalSink:
    """Embedded mode: hand batches to the in-process analytics store, if one is registered."""

    name = "local"

    @property
    def available(self) -> bool:
        return _local_sink is not None

    async def send(self, batches: Sequence[Mapping[str, Any]]) -> None:
        sink = _local_sink
        if sink is None:
            raise RuntimeError("no in-process analytics store is registered")
        await sink(batches)


# --------------------------------------------------------------------------------------------------
# The recorder
# --------------------------------------------------------------------------------------------------

# One buffered request: (ts, method, route, status, elapsed_s, user_id, recommendation_ids, extra)
_Raw = tuple[float, str, str, int, float, Any, Any, Any]


def _normalise_recommendations(rec: Any) -> tuple[list[str] | None, dict[str, Any] | None]:
    """``recommendation_ids`` may be ids, or dicts ``{id, score?, cuisine?}``: split into ids + extras."""
    if not rec:
        return None, None
    if isinstance(rec, str | int):
        rec = [rec]
    if type(rec) is list and all(type(item) is str for item in rec):  # the common case: plain ids
        return rec[:MAX_RECOMMENDATION_IDS], None
    ids: list[str] = []
    scores: list[float | None] = []
    cuisines: list[str | None] = []
    has_score = has_cuisine = False
    try:
        items = list(rec)[:MAX_RECOMMENDATION_IDS]
    except TypeError:
        return None, None
    for item in items:
        if type(item) is dict or isinstance(item, Mapping):
            rid = item.get("id")
            if rid is None:
                rid = item.get("recipe_id")
            if rid is None:
                continue
            ids.append(str(rid))
            score = item.get("score")
            cuisine = item.get("cuisine")
            scores.append(float(score) if isinstance(score, int | float) else None)
            cuisines.append(str(cuisine) if cuisine else None)
            has_score = has_score or isinstance(score, int | float)
            has_cuisine = has_cuisine or bool(cuisine)
        else:
            ids.append(str(item))
            scores.append(None)
            cuisines.append(None)
    extra: dict[str, Any] = {}
    if has_score:
        extra["rec_scores"] = scores
    if has_cuisine:
        extra["rec_cuisines"] = cuisines
    return (ids or None), (extra or None)


class UsageRecorder:
    """Buffers usage events in memory and ships them in batches from a background task."""

    def __init__(
        self,
        service: str,
        *,
        sink: UsageSink | None,
        hasher: UserHasher,
        instance: str | None = None,
        buffer_size: int = 50_000,
        batch_size: int = 500,
        flush_interval_s: float = 0.25,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.service = service
        self.instance = instance or default_instance_id()
        self.sink = sink
        self.hasher = hasher
        self.buffer_size = buffer_size
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_backoff_s = max_backoff_s
        self._buf: deque[_Raw] = deque(maxlen=buffer_size)
        self._ids = EventIdFactory()
        self._pending: list[dict[str, Any]] = []  # encoded batches whose last send failed
        self._pending_events = 0
        self._wake: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._backoff = 0.0
        # Plain ints on the hot path; folded into Prometheus by the flush task.
        self.recorded = 0
        self.dropped = 0
        self.shipped = 0
        self.failures = 0
        self.dropped_shutdown = 0
        self._reported = {"recorded": 0, "dropped_full": 0, "shipped": 0, "dropped_shutdown": 0}
        self._m_events = {k: USAGE_EVENTS.labels(service, k) for k in self._reported}
        self._m_failures = USAGE_FLUSH_FAILURES.labels(service, sink.name if sink else "none")
        self._m_buffered = USAGE_BUFFERED.labels(service)

    # -- hot path -----------------------------------------------------------------------------------

    def record(self, scope: Mapping[str, Any], method: str, route: str, status: int, elapsed: float) -> None:
        """Called by the middleware after each measured request. Synchronous, O(1), never raises."""
        state = scope.get("state")
        user = rec = extra = None
        if state:
            try:
                # ``principal`` by convention; ``alchm_principal`` is where shared.auth memoises it.
                principal = state.get("principal") or state.get("alchm_principal")
                if principal is not None:
                    user = getattr(principal, "user_id", None)
                rec = state.get("recommendation_ids")
                extra = state.get("usage_extra")
                if rec:
                    # Served recommendations keep the request id (links feedback to what was shown).
                    rid = request_id_var.get()
                    if rid is not None:
                        extra = {"request_id": rid, **extra} if extra else {"request_id": rid}
            except Exception:  # a strange state must not fail the request: record the bare event
                user = rec = extra = None
        buf = self._buf
        if len(buf) >= self.buffer_size:
            self.dropped += 1  # deque(maxlen) drops the oldest on append
        buf.append((time.time(), method, route, status, elapsed, user, rec, extra))
        self.recorded += 1
        wake = self._wake
        if wake is not None and len(buf) >= self.batch_size and not wake.is_set():
            wake.set()

    # -- batching -----------------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._buf) + self._pending_events

    def _encode(self, raw: _Raw) -> _Raw:
        """The shipped form of an event with a user, recommendations or extras (others ship as they are)."""
        ts, method, route, status, elapsed, user, rec, extra = raw
        rec_ids, rec_extra = _normalise_recommendations(rec) if rec else (None, None)
        merged: Any = extra if type(extra) is dict else None
        if rec_extra:
            merged = {**merged, **rec_extra} if merged else rec_extra
        elif merged is None and isinstance(extra, Mapping):
            merged = dict(extra)
        user_hash = self.hasher(user) if user is not None else None
        return (ts, method, route, status, elapsed, user_hash, rec_ids, merged or None)

    def _take_batch(self) -> dict[str, Any] | None:
        buf = self._buf
        n = min(len(buf), self.batch_size)
        if n == 0:
            return None
        base = self._ids.reserve(n)
        events: list[_Raw] = []
        append = events.append
        popleft = buf.popleft
        for _ in range(n):
            raw = popleft()
            if raw[5] is None and raw[6] is None and raw[7] is None:
                append(raw)  # anonymous, nothing extra: shipped as recorded
                continue
            try:
                append(self._encode(raw))
            except Exception:  # keep the event (and the index → id mapping) without its extras
                log.exception("usage event extras could not be encoded; dropped them")
                append((*raw[:5], None, None, None))
        return {
            "v": STREAM_FORMAT_VERSION,
            "svc": self.service,
            "inst": self.instance,
            "idb": f"{base:020x}",
            "ev": events,
        }

    def _sink_ready(self) -> bool:
        if self.sink is None:
            return False
        return bool(getattr(self.sink, "available", True))

    async def flush(self, max_batches: int = 20) -> int:
        """Ship what is buffered (up to ``max_batches`` batches). Returns the events shipped; raises on
        sink failure (the batches are kept for the next attempt)."""
        if not self._sink_ready():
            return 0
        assert self.sink is not None
        shipped = 0
        while True:
            if not self._pending:
                while len(self._pending) < max_batches:
                    batch = self._take_batch()
                    if batch is None:
                        break
                    self._pending.append(batch)
                    self._pending_events += len(batch["ev"])
            if not self._pending:
                return shipped
            batches = self._pending
            await self.sink.send(batches)
            count = self._pending_events
            self._pending = []
            self._pending_events = 0
            self.shipped += count
            shipped += count
            if len(self._buf) < self.batch_size:
                # A partial batch waits for the next tick (unless we are draining at shutdown).
                if self._closing and self._buf:
                    continue
                return shipped

    def _report(self) -> None:
        now = {
            "recorded": self.recorded,
            "dropped_full": self.dropped,
            "shipped": self.shipped,
            "dropped_shutdown": self.dropped_shutdown,
        }
        for key, value in now.items():
            delta = value - self._reported[key]
            if delta:
                self._m_events[key].inc(delta)
                self._reported[key] = value
        self._m_buffered.set(self.buffered)

    async def _run(self) -> None:
        assert self._wake is not None and self._stopping is not None
        wake = self._wake
        while not self._closing:
            checkpoint()
            # After a failure wait out the backoff (only shutdown interrupts it, a full buffer does not),
            # else wait for the tick or for a full batch.
            event = self._stopping if self._backoff else wake
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._backoff or self.flush_interval_s):
                    await event.wait()
            wake.clear()
            if self._closing:
                break
            try:
                await self.flush()
                self._backoff = 0.0
            except Exception as exc:
                self.failures += 1
                self._m_failures.inc()
                self._backoff = min(self.max_backoff_s, max(self.flush_interval_s, self._backoff * 2 or 0.25))
                self._backoff *= random.uniform(0.8, 1.2)
                if self.failures == 1 or self.failures % 20 == 0:
                    log.warning(
                        "usage batch not shipped (%s: %s); %d events buffered, retrying in %.2fs",
                        type(exc).__name__,
                        exc,
                        self.buffered,
                        self._backoff,
                        extra={"failures": self.failures},
                    )
            finally:
                self._report()

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is not None:
            return
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run(), name=f"usage-flush-{self.service}")

    async def stop(self, timeout: float = 3.0) -> None:
        """Stop the flush task and ship what is left within ``timeout`` seconds."""
        self._closing = True
        if self._task is not None:
            assert self._wake is not None and self._stopping is not None
            self._wake.set()
            self._stopping.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.buffered and self._sink_ready():
            try:
                async with asyncio.timeout(timeout):
                    while self.buffered:
                        await self.flush(max_batches=50)
            except Exception as exc:
                log.warning("usage events lost at shutdown: %s: %s", type(exc).__name__, exc)
        if self.buffered:
            self.dropped_shutdown += self.buffered
            log.warning("%d usage events were not shipped before shutdown", self.buffered)
            self._buf.clear()
            self._pending = []
            self._pending_events = 0
        self._report()

    def stats(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "shipped": self.shipped,
            "dropped_full": self.dropped,
            "dropped_shutdown": self.dropped_shutdown,
            "flush_failures": self.failures,
            "buffered": self.buffered,
            "sink": self.sink.name if self.sink else None,
        }


# --------------------------------------------------------------------------------------------------
# Lifespan helper
# --------------------------------------------------------------------------------------------------


def _make_redis(url: str, timeout_s: float) -> Any:
    import redis.asyncio as aioredis

    return aioredis.from_url(
        url,
        socket_timeout=max(timeout_s, 1.0),
        socket_connect_timeout=max(timeout_s, 1.0),
        health_check_interval=30,
    )


@asynccontextmanager
async def usage_recording(
    app: Any,
    settings: Settings,
    *,
    usage: UsageSettings | None = None,
    redis: Any = None,
) -> AsyncIterator[UsageRecorder | None]:
    """Record this app's requests as usage events (sets ``app.state.usage_recorder``).

    Use inside the service's lifespan, *inside* ``infrastructure(...)`` so that the final flush happens
    before the shared Redis client is closed::

        async with infrastructure(app, settings), usage_recording(app, settings):
            yield

    The Redis client is ``redis`` if given, else ``app.state.redis`` if the app has one, else a client of
    its own built from ``settings.redis_url`` (closed on exit). Without a Redis URL, batches go to the
    in-process analytics store when one is registered (embedded mode), else they stay in the bounded
    buffer.
    """
    cfg = usage or UsageSettings()
    if not cfg.enabled:
        app.state.usage_recorder = None
        yield None
        return
    own_client = None
    client = redis if redis is not None else getattr(app.state, "redis", None)
    if client is None and settings.redis_url:
        client = own_client = _make_redis(settings.redis_url, settings.redis_timeout_s)
    sink: UsageSink = (
        RedisStreamSink(client, cfg.stream, cfg.stream_maxlen) if client is not None else LocalSink()
    )
    service = getattr(app.state, "service", None) or "unknown"
    recorder = UsageRecorder(
        service,
        sink=sink,
        hasher=UserHasher(usage_hash_key(settings, cfg)),
        buffer_size=cfg.buffer_size,
        batch_size=cfg.batch_size,
        flush_interval_s=cfg.flush_interval_s,
        max_backoff_s=cfg.max_backoff_s,
    )
    recorder.start()
    app.state.usage_recorder = recorder
    try:
        yield recorder
    finally:
        app.state.usage_recorder = None
        await recorder.stop(cfg.shutdown_timeout_s)
        if own_client is not None:
            with contextlib.suppress(Exception):
                await own_client.aclose()
