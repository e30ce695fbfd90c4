"""The per-process WebSocket hub: connections, subscriptions, snapshots and the fan-out of bus events.

Fan-out never awaits a socket: :meth:`Hub.broadcast` renders each frame variant once and appends it to every
target's bounded queue; each connection has its own sender task that writes its queue to its socket. A
client whose queue overflows (it reads slower than events arrive) or whose single write stays blocked for
``stall_timeout_s`` is closed with 1013 and forgotten, without delaying anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from shared.aio import checkpoint
from shared.bus import (
    CELESTIAL_EVENTS,
    CHANNELS,
    ENERGY_UPDATES,
    PLANETARY_HOURS,
    RECOMMENDATIONS_REFRESH,
    Bus,
    Event,
    parse_event_id,
    utc_iso,
)

from . import sky
from .clock import Clock
from .config import RealtimeSettings
from .direct import DirectWriter, direct_writer, encode_text_frame
from .locations import LocationRegistry
from .metrics import BROADCAST_FANOUT, BROADCAST_LAG, CLIENT_ERRORS, DISCONNECTS, EVENTS_RELAYED, register_hub
from .protocol import (
    ALL_CHANNELS_MASK,
    CHANNEL_BITS,
    PLANETARY_HOURS_ALIAS,
    SYSTEM,
    Location,
    ProtocolError,
    error_frame,
    parse_client_frame,
    render,
)

log = logging.getLogger("realtime.hub")

Send = Callable[[dict[str, Any]], Awaitable[None]]

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013


class Connection:
    """One client socket: its subscriptions, location and bounded send queue."""

    __slots__ = (
        "alias",
        "closing",
        "direct",
        "handler_task",
        "hub",
        "id",
        "ip",
        "location",
        "principal",
        "queue",
        "replayed_to",
        "hold",
        "send",
        "sender_task",
        "sending_since",
        "subs",
        "tokens",
        "tokens_at",
        "transport_abort",
        "waiter",
        "__weakref__",
    )

    def __init__(
        self, hub: Hub, conn_id: int, send: Send, ip: str, location: Location, principal: Any
    ) -> None:
        self.hub = hub
        self.id = conn_id
        self.send = send
        self.ip = ip
        self.location = location
        self.principal = principal
        self.queue: deque[tuple[str, str]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.subs = ALL_CHANNELS_MASK
        self.alias = False
        self.closing: str | None = None
        self.hold: list[Event] | None = None
        self.replayed_to: tuple[int, int] | None = None
        self.sending_since = 0.0
        self.tokens = hub.burst
        self.tokens_at = time.monotonic()
        self.sender_task: asyncio.Task[None] | None = None
        self.handler_task: asyncio.Task[Any] | None = None
        self.transport_abort: Callable[[], None] | None = None
        self.direct: DirectWriter | None = None

    # --- queueing --------------------------------------------------------------------------------------

    def enqueue(self, frame: str, channel: str) -> bool:
        if self.closing is not None:
            return False
        if len(self.queue) >= self.hub.max_queue:
            self.drop("slow_consumer", CLOSE_TRY_AGAIN, "send queue overflow: reading too slowly")
            return False
        self.queue.append((frame, channel))
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def write_now(self, direct: DirectWriter, encoded: bytes, channel: str) -> bool:
        """Write ``encoded`` (the frame already framed, shared by every recipient) at once if this socket is
        idle and can take it (direct.py); False: queue the frame with :meth:`enqueue` instead."""
        if self.closing is None and not self.queue and not self.sending_since and direct.write(encoded):
            hub = self.hub
            hub.frames_direct += 1
            hub.frames_sent[channel] = hub.frames_sent.get(channel, 0) + 1
            return True
        return False

    async def run_sender(self) -> None:
        queue = self.queue
        loop = asyncio.get_running_loop()
        sent = self.hub.frames_sent
        send = self.send
        try:
            while True:
                while not queue:
                    self.waiter = loop.create_future()
                    await self.waiter
                    self.waiter = None
                frame, channel = queue.popleft()
                self.sending_since = time.monotonic()
                await send({"type": "websocket.send", "text": frame})
                self.sending_since = 0.0
                sent[channel] = sent.get(channel, 0) + 1
        except (OSError, RuntimeError):  # the socket is gone (uvicorn's ClientDisconnected is an OSError)
            return

    # --- closing ---------------------------------------------------------------------------------------

    def drop(self, reason: str, code: int, message: str) -> asyncio.Task[Any] | None:
        """Stop sending to this client and close it with ``code`` (the close frame goes out when the socket
        accepts it; if it cannot within ``close_timeout_s`` the socket is aborted)."""
        if self.closing is not None:
            return None
        self.closing = reason
        self.queue.clear()
        DISCONNECTS.labels(reason).inc()
        self.hub.detach(self)
        if self.sender_task is not None and self.sender_task is not asyncio.current_task():
            self.sender_task.cancel()
        return self.hub.spawn(self._close(code, message))

    async def _close(self, code: int, message: str) -> None:
        try:
            await asyncio.wait_for(
                self.send({"type": "websocket.close", "code": code, "reason": message[:120]}),
                timeout=self.hub.settings.close_timeout_s,
            )
            return
        except TimeoutError:
            log.info("connection %s: close frame could not be written in time; aborting", self.id)
        except (OSError, RuntimeError):
            return
        if self.transport_abort is not None:
            with contextlib.suppress(Exception):
                self.transport_abort()
                return
        if self.handler_task is not None and not self.handler_task.done():  # last resort: end the ASGI app
            self.handler_task.cancel()

    # --- rate limit ------------------------------------------------------------------------------------

    def allow_frame(self) -> bool:
        now = time.monotonic()
        hub = self.hub
        self.tokens = min(hub.burst, self.tokens + (now - self.tokens_at) * hub.rate)
        self.tokens_at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class Hub:
    def __init__(
        self,
        bus: Bus,
        settings: RealtimeSettings,
        default_location: Location,
        clock: Clock,
        locations: LocationRegistry,
        *,
        verify_token: Callable[[str], Awaitable[Any]] | None = None,
        trusted_proxies: Iterable[str] = ("127.0.0.1",),
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.default = default_location
        self.clock = clock
        self.locations = locations
        self.verify_token = verify_token
        self.trusted = frozenset(p.strip() for p in trusted_proxies if p.strip())
        self.max_queue = settings.send_queue_frames
        self.rate = settings.client_frames_per_s
        self.burst = max(2.0, 2 * settings.client_frames_per_s)
        self.connections: dict[int, Connection] = {}
        self.by_location: dict[str, set[Connection]] = {}
        self.per_ip: dict[str, int] = {}
        self.frames_sent: dict[str, int] = {}
        self.frames_direct = 0
        self.latest: dict[str, Event] = {}
        self.tip: str | None = None
        self._tip_order: tuple[int, int] = (0, 0)
        self._next_id = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.shutting_down = False
        self.leadership: Any = None
        self.hours = sky.HourCache()
        self.energy = sky.EnergyCache()
        self.events = sky.EventsCache(settings.snapshot_events_window_s)
        self._compute_locks: dict[str, asyncio.Lock] = {}
        register_hub(self)

    # --- bookkeeping -----------------------------------------------------------------------------------

    def is_leader(self) -> bool:
        return bool(self.leadership is not None and self.leadership.is_leader)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def subscription_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CHANNELS, 0)
        for conn in list(self.connections.values()):
            subs = conn.subs
            for channel, bit in CHANNEL_BITS.items():
                if subs & bit:
                    counts[channel] += 1
        return counts

    def client_ip(self, scope: Mapping[str, Any]) -> str:
        """The client address: the peer, or — when the peer is a trusted proxy — the right-most
        ``X-Forwarded-For`` entry that is not a trusted proxy."""
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if peer not in self.trusted and "*" not in self.trusted:
            return peer
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    if hop not in self.trusted:
                        return hop
                return hops[0] if hops else peer
        return peer

    def admission(self, ip: str) -> tuple[str, int, str] | None:
        """Why a new connection from ``ip`` must be refused (reason, close code, text), or None."""
        if self.shutting_down:
            return "shutdown", CLOSE_GOING_AWAY, "server shutting down; reconnect"
        cap = self.settings.max_connections
        if cap and len(self.connections) >= cap:
            return "capacity", CLOSE_TRY_AGAIN, "server at capacity; try another instance"
        per_ip = self.settings.max_connections_per_ip
        if per_ip and self.per_ip.get(ip, 0) >= per_ip:
            return "ip_limit", CLOSE_POLICY, f"too many connections from this address (limit {per_ip})"
        return None

    def attach(self, send: Send, ip: str, principal: Any) -> Connection:
        self._next_id += 1
        conn = Connection(self, self._next_id, send, ip, self.default, principal)
        self.connections[conn.id] = conn
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        self.by_location.setdefault(conn.location.key, set()).add(conn)
        self.locations.acquire(conn.location)
        if self.settings.direct_writes:
            conn.direct = direct_writer(send)
        conn.sender_task = asyncio.ensure_future(conn.run_sender())
        return conn

    def detach(self, conn: Connection) -> None:
        """Forget a connection (idempotent): no more frames are queued for it."""
        if self.connections.pop(conn.id, None) is None:
            return
        count = self.per_ip.get(conn.ip, 0) - 1
        if count > 0:
            self.per_ip[conn.ip] = count
        else:
            self.per_ip.pop(conn.ip, None)
        members = self.by_location.get(conn.location.key)
        if members is not None:
            members.discard(conn)
            if not members:
                del self.by_location[conn.location.key]
        self.locations.release(conn.location)

    def finish(self, conn: Connection, reason: str | None) -> None:
        """The ASGI handler ended: clean up and stop the sender."""
        if conn.closing is None:
            conn.closing = reason or "client_closed"
            DISCONNECTS.labels(conn.closing).inc()
        self.detach(conn)
        if conn.sender_task is not None:
            conn.sender_task.cancel()
        conn.queue.clear()

    def set_location(self, conn: Connection, location: Location) -> None:
        if location.key == conn.location.key:
            return
        if location.key != self.default.key and not self.locations.acquire(location):
            raise ProtocolError(
                "data.location",
                "too many distinct locations on this server; try later",
                code="LOCATION_LIMIT",
            )
        if location.key == self.default.key:
            self.locations.acquire(location)
        old = conn.location
        members = self.by_location.get(old.key)
        if members is not None:
            members.discard(conn)
            if not members:
                del self.by_location[old.key]
        self.locations.release(old)
        conn.location = location
        self.by_location.setdefault(location.key, set()).add(conn)

    # --- fan-out ---------------------------------------------------------------------------------------

    def _note(self, event: Event) -> None:
        if event.order > self._tip_order:
            self._tip_order = event.order
            self.tip = event.id
        self.latest[event.channel] = event

    def _gregs(self) -> float | None:
        energy = self.latest.get(ENERGY_UPDATES)
        value = energy.data.get("gregsEnergy") if energy is not None else None
        return value if isinstance(value, int | float) else None

    def _hour_extra(self, data: Any) -> dict[str, Any]:
        current = dict(data)
        gregs = self._gregs()
        if gregs is not None:
            current["gregsEnergy"] = gregs
        return {"current_hour": current}

    def render_event(self, event: Event, alias: bool = False) -> str:
        if event.channel == PLANETARY_HOURS:
            extra = self._hour_extra(event.data)
            if alias:
                return render(PLANETARY_HOURS_ALIAS, "update", event.id, event.ts, event.data, extra)
            return render(PLANETARY_HOURS, event.type, event.id, event.ts, event.data, extra)
        return render(event.channel, event.type, event.id, event.ts, event.data)

    @staticmethod
    def _event_location(event: Event, default: Location) -> str:
        location = event.data.get("location")
        if isinstance(location, dict):
            key = location.get("key")
            if isinstance(key, str):
                return key
            try:
                return Location.of(
                    float(location["latitude"]), float(location["longitude"]), str(location["timezone"])
                ).key
            except (KeyError, TypeError, ValueError):
                pass
        return default.key

    def broadcast(self, event: Event) -> int:
        """Queue ``event`` for every local subscriber; returns how many sockets it was queued for."""
        self._note(event)
        bit = CHANNEL_BITS.get(event.channel)
        if bit is None:
            return 0
        EVENTS_RELAYED.labels(event.channel).inc()
        started = time.perf_counter()
        planetary = event.channel == PLANETARY_HOURS
        targets: Iterable[Connection]
        if planetary:
            targets = list(self.by_location.get(self._event_location(event, self.default), ()))
        else:
            targets = list(self.connections.values())
        frames: dict[bool, str] = {}
        encoded: dict[bool, bytes] = {}
        count = 0
        channel = event.channel
        for conn in targets:
            if not conn.subs & bit:
                continue
            if conn.hold is not None:
                conn.hold.append(event)
                continue
            if conn.replayed_to is not None and event.order <= conn.replayed_to:
                continue
            alias = planetary and conn.alias
            frame = frames.get(alias)
            if frame is None:
                frame = frames[alias] = self.render_event(event, alias)
            direct = conn.direct
            if direct is not None:
                data = encoded.get(alias)
                if data is None:
                    data = encoded[alias] = encode_text_frame(frame)
                if conn.write_now(direct, data, channel):
                    count += 1
                    continue
            if conn.enqueue(frame, channel):
                count += 1
        BROADCAST_FANOUT.observe(time.perf_counter() - started)
        if event.created:
            BROADCAST_LAG.observe(max(0.0, time.time() - event.created))
        return count

    async def relay(self) -> None:
        """The one bus subscriber of this process."""
        while True:
            checkpoint()
            try:
                async for event in self.bus.subscribe():
                    self.broadcast(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus relay failed; restarting")
                await asyncio.sleep(1.0)

    async def prime(self) -> None:
        """Learn the latest event of each channel (snapshot ids, recommendations state, gregsEnergy)."""
        try:
            for event in (await self.bus.latest(CHANNELS)).values():
                self._note(event)
        except Exception as exc:
            log.warning("could not read the latest events: %s", exc)

    # --- snapshots -------------------------------------------------------------------------------------

    async def _compute(self, name: str, func: Callable[..., Any], *args: Any) -> Any:
        """Run a possibly slow pure computation off the event loop, one at a time per ``name``
        (the caches inside make the followers instant)."""
        lock = self._compute_locks.setdefault(name, asyncio.Lock())
        async with lock:
            return await asyncio.to_thread(func, *args)

    async def snapshot(
        self, conn: Connection, channel: str, name: str | None = None, kind: str = "snapshot"
    ) -> str:
        """The current state of ``channel`` as one frame for ``conn`` (``name``: the channel name to use)."""
        now = self.clock.now()
        ts = utc_iso(now)
        name = name or channel
        if channel == PLANETARY_HOURS:
            hour = self.hours.peek(conn.location, now) or await self._compute(
                "hour", self.hours.get, conn.location, now
            )
            data = sky.hour_payload(hour, conn.location, now)
            if name == PLANETARY_HOURS_ALIAS:
                kind = "update" if kind == "snapshot" else kind
            return render(name, kind, self.tip, ts, data, self._hour_extra(data))
        if channel == ENERGY_UPDATES:
            payload = await self._compute("energy", self.energy.get, now, self.default)
            return render(name, kind, self.tip, ts, payload)
        if channel == CELESTIAL_EVENTS:
            events = await self._compute("events", self.events.around, now)
            return render(
                name, kind, self.tip, ts, sky.events_snapshot(events, now, self.settings.upcoming_events)
            )
        if channel == RECOMMENDATIONS_REFRESH:
            last = self.latest.get(RECOMMENDATIONS_REFRESH)
            return render(name, kind, self.tip, ts, dict(last.data) if last is not None else {})
        raise ValueError(channel)

    async def send_snapshots(
        self, conn: Connection, channels: Iterable[tuple[str, str]], kind: str = "snapshot"
    ) -> None:
        for channel, name in channels:
            try:
                frame = await self.snapshot(conn, channel, name, kind)
            except Exception as exc:
                log.exception("snapshot of %s failed", channel)
                frame = error_frame(
                    utc_iso(self.clock.now()),
                    name,
                    "SNAPSHOT_UNAVAILABLE",
                    "channel",
                    f"could not compute the current state ({type(exc).__name__})",
                )
            conn.enqueue(frame, channel)

    # --- connection lifecycle --------------------------------------------------------------------------

    def error(self, conn: Connection, exc: ProtocolError) -> None:
        CLIENT_ERRORS.labels(exc.code).inc()
        conn.enqueue(
            error_frame(utc_iso(self.clock.now()), exc.channel, exc.code, exc.field, exc.reason), SYSTEM
        )

    async def on_connect(self, conn: Connection, last_event_id: str | None) -> None:
        """Replay what the client missed (``last_event_id``), then a snapshot of every channel."""
        if last_event_id is not None:
            await self._replay(conn, last_event_id)
        await self.send_snapshots(conn, ((c, c) for c in CHANNELS))

    async def _replay(self, conn: Connection, last_event_id: str) -> None:
        after = parse_event_id(last_event_id)
        if after is None:
            self.error(
                conn,
                ProtocolError(
                    "last_event_id", "must be an event id like '1700000000000-0'", code="INVALID_EVENT_ID"
                ),
            )
            return
        conn.hold = []
        replayed = 0
        complete = True
        try:
            events = await self.bus.replay(last_event_id, CHANNELS, limit=self.settings.replay_max)
            first = await self.bus.first_id()
            first_order = parse_event_id(first) if first else None
            # Older than the oldest kept event: something in between may have been trimmed.
            if first_order is not None and after < first_order:
                complete = False
            if len(events) >= self.settings.replay_max:
                complete = False
            conn.replayed_to = after
            for event in events:
                conn.replayed_to = max(conn.replayed_to, event.order)
                if (
                    event.channel == PLANETARY_HOURS
                    and self._event_location(event, self.default) != conn.location.key
                ):
                    continue
                if conn.enqueue(self.render_event(event, conn.alias), event.channel):
                    replayed += 1
        except Exception as exc:
            log.warning("replay failed: %s", exc)
            self.error(
                conn,
                ProtocolError("last_event_id", "replay is unavailable right now", code="REPLAY_UNAVAILABLE"),
            )
            complete = False
        finally:
            held, conn.hold = conn.hold or [], None
        conn.enqueue(
            render(
                SYSTEM,
                "ack",
                self.tip,
                utc_iso(self.clock.now()),
                {"action": "replay", "after": last_event_id, "replayed": replayed, "complete": complete},
            ),
            SYSTEM,
        )
        for event in held:
            if conn.replayed_to is None or event.order > conn.replayed_to:
                conn.enqueue(self.render_event(event, conn.alias), event.channel)

    async def on_text(self, conn: Connection, raw: str | bytes) -> None:
        """Handle one client frame."""
        limit = self.settings.max_frame_bytes
        size = len(raw)
        if size > limit or (isinstance(raw, str) and size * 4 > limit and len(raw.encode()) > limit):
            self.error(conn, ProtocolError("frame", f"larger than {limit} bytes", code="FRAME_TOO_LARGE"))
            return
        if not conn.allow_frame():
            self.error(
                conn,
                ProtocolError("frame", f"more than {self.rate:g} frames per second", code="RATE_LIMITED"),
            )
            return
        try:
            request = parse_client_frame(raw, self.default)
            if request.location is not None:
                self.set_location(conn, request.location)
        except ProtocolError as exc:
            self.error(conn, exc)
            return
        ts = utc_iso(self.clock.now())
        if request.action == "ping":
            conn.enqueue(render(SYSTEM, "ack", self.tip, ts, {"action": "pong"}), SYSTEM)
            return
        subscribe = request.action == "subscribe"
        for channel, name in request.channels:
            bit = CHANNEL_BITS[channel]
            ack: dict[str, Any] = {"action": request.action, "channel": name}
            if subscribe:
                conn.subs |= bit
                if channel == PLANETARY_HOURS:
                    conn.alias = name == PLANETARY_HOURS_ALIAS
                    ack["location"] = conn.location.to_dict()
            else:
                conn.subs &= ~bit
            extra = None
            if subscribe and channel == PLANETARY_HOURS and not conn.alias:
                # D1 passes ``current_hour`` of whatever arrives on its channel on to the UI.
                now = self.clock.now()
                hour = self.hours.peek(conn.location, now) or await self._compute(
                    "hour", self.hours.get, conn.location, now
                )
                extra = self._hour_extra(sky.hour_payload(hour, conn.location, now))
            conn.enqueue(render(name, "ack", self.tip, ts, ack, extra), channel)
            if subscribe:
                await self.send_snapshots(conn, [(channel, name)])

    async def sweep(self) -> None:
        """Drop clients whose current write has been blocked for ``stall_timeout_s`` (they read nothing:
        their queue may never overflow when events are rare)."""
        stall = self.settings.stall_timeout_s
        while True:
            await asyncio.sleep(min(5.0, max(0.05, stall / 3)))
            now = time.monotonic()
            for conn in list(self.connections.values()):
                since = conn.sending_since
                if since and now - since > stall:
                    conn.drop("stalled", CLOSE_TRY_AGAIN, "not reading: write blocked too long")

    # --- shutdown --------------------------------------------------------------------------------------

    async def close_all(
        self,
        code: int = CLOSE_GOING_AWAY,
        reason: str = "server shutting down; reconnect",
        timeout: float = 3.0,
    ) -> None:
        """Graceful shutdown: close every socket with ``code`` so clients reconnect elsewhere."""
        self.shutting_down = True
        closers = [conn.drop("shutdown", code, reason) for conn in list(self.connections.values())]
        pending = [t for t in closers if t is not None and not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for conn in list(self.connections.values()):
            if conn.sender_task is not None:
                conn.sender_task.cancel()
