"""realtime (:8001): WebSocket hub + event producer. ``app`` is the service (``alchm serve realtime``);
``python -m services.realtime`` runs it with the WebSocket options this service wants (docs/realtime.md).

Lifespan: Redis client(s) when ``ALCHM_REDIS_URL`` is set (else the embedded in-process bus, and this process
is the producer), the bus relay (one pub/sub subscriber per process), the active-location registry, leader
election + producer, the stall sweeper, and a SIGTERM/SIGINT hook that closes every socket with 1001 before
uvicorn's own shutdown (which would use 1012) so clients reconnect elsewhere at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from fastapi import FastAPI

from shared.app import create_app
from shared.bus import Bus, InProcessBus, RedisBus
from shared.cli import raise_fd_limit
from shared.leader import Leadership, LocalLeadership, RedisLeaderElection
from shared.redis import close_redis, create_redis, redis_readiness
from shared.settings import Settings, get_settings

from .__main__ import uvicorn_options  # noqa: F401 - looked up by `alchm serve realtime`
from .auth import TokenVerifier, build_verifier
from .clock import Clock, SystemClock
from .config import RealtimeSettings, get_realtime_settings
from .endpoint import RealtimeEndpoint
from .hub import Hub
from .locations import LocationRegistry
from .producer import Deduper, Producer
from .protocol import Location

log = logging.getLogger("realtime")

SERVICE = "realtime"


def _install_graceful_close(hub: Hub, leadership: Leadership, timeout: float) -> Callable[[], None]:
    """Chain a SIGTERM/SIGINT handler in front of uvicorn's: close all sockets with 1001 and give up
    leadership, then let uvicorn shut down. Returns the function that restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    started = False

    def chain(sig: int, frame: FrameType | None) -> None:
        prev = previous[signal.Signals(sig)]
        if callable(prev):
            prev(sig, frame)
        else:
            signal.signal(sig, prev)
            signal.raise_signal(sig)

    async def close_then_chain(sig: int, frame: FrameType | None) -> None:
        try:
            await leadership.release()
            await hub.close_all(timeout=timeout)
        finally:
            chain(sig, frame)

    def handler(sig: int, frame: FrameType | None) -> None:
        nonlocal started
        if started:  # second signal: no more waiting
            chain(sig, frame)
            return
        started = True
        loop.call_soon_threadsafe(lambda: hub.spawn(close_then_chain(sig, frame)))

    for sig in signals:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, prev in previous.items():
            with contextlib.suppress(Exception):
                if signal.getsignal(sig) is handler:
                    signal.signal(sig, prev)

    return restore


class _QuietConnections(logging.Filter):
    """Drop uvicorn's per-connection INFO lines ("[accepted]", "connection open/closed"): with
    thousands of sockets they drown everything else. The metrics count connections instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not (message.endswith("[accepted]") or message in ("connection open", "connection closed"))


_QUIET = _QuietConnections()


def _lifespan(
    rt: RealtimeSettings, clock: Clock | None, verify_token: TokenVerifier | None, signals: bool
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cfg: Settings = app.state.settings
        raise_fd_limit()
        logging.getLogger("uvicorn.error").addFilter(_QUIET)
        offset = rt.clock_offset_s
        if rt.clock_start is not None:
            start = rt.clock_start if rt.clock_start.tzinfo else rt.clock_start.replace(tzinfo=UTC)
            offset = (start - datetime.now(UTC)).total_seconds()
        the_clock = clock or SystemClock(offset)
        default = Location.of(cfg.default_latitude, cfg.default_longitude, cfg.default_timezone)
        redis: Any = None
        bus: Bus
        leadership: Leadership
        redis = create_redis(cfg, service=SERVICE)
        if redis is not None:
            bus = RedisBus(
                redis, subscriber_url=cfg.redis_url, stream_key=rt.stream_key, maxlen=rt.stream_maxlen
            )
            leadership = RedisLeaderElection(
                redis, rt.key_prefix + "leader", ttl_ms=rt.lock_ttl_ms, renew_interval_s=rt.lock_renew_s
            )
            locations = LocationRegistry(
                default,
                redis,
                key=rt.key_prefix + "locations",
                ttl_s=rt.location_ttl_s,
                refresh_s=rt.location_refresh_s,
                max_locations=rt.max_locations,
            )
            deduper = Deduper(redis, rt.key_prefix + "done:")
            app.state.readiness["redis"] = redis_readiness(redis)
        else:
            bus = InProcessBus(maxlen=rt.stream_maxlen)
            leadership = LocalLeadership()
            locations = LocationRegistry(default, None, max_locations=rt.max_locations)
            deduper = Deduper(None)

        hub = Hub(
            bus,
            rt,
            default,
            the_clock,
            locations,
            verify_token=verify_token or build_verifier(cfg),
            trusted_proxies=cfg.forwarded_allow_ips.split(","),
        )
        hub.leadership = leadership
        producer = Producer(bus, the_clock, leadership, locations, deduper, rt, default)
        app.state.realtime_bus = bus
        app.state.realtime_producer = producer
        app.state.realtime_leadership = leadership

        await hub.prime()
        tasks = [
            asyncio.create_task(hub.relay(), name="realtime-relay"),
            asyncio.create_task(hub.sweep(), name="realtime-sweep"),
            asyncio.create_task(locations.run(), name="realtime-locations"),
        ]
        if rt.producer_enabled:
            tasks.append(asyncio.create_task(leadership.run(), name="realtime-leader"))
            tasks.append(asyncio.create_task(producer.run(), name="realtime-producer"))
        if isinstance(bus, RedisBus):  # don't miss the first events: wait (briefly) for the subscription
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bus.connected.wait(), timeout=3.0)
        restore_signals = (
            _install_graceful_close(hub, leadership, rt.close_timeout_s) if signals else (lambda: None)
        )
        app.state.realtime_hub = hub
        try:
            yield
        finally:
            restore_signals()
            app.state.realtime_hub = None
            await leadership.release()
            if hub.connections:
                await hub.close_all(timeout=rt.close_timeout_s)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await hub.stop()
            await bus.close()
            with contextlib.suppress(Exception):
                await close_redis(redis)

    return lifespan


def create_realtime_app(
    settings: Settings | None = None,
    realtime_settings: RealtimeSettings | None = None,
    *,
    clock: Clock | None = None,
    verify_token: TokenVerifier | None = None,
    install_signal_handlers: bool = True,
) -> FastAPI:
    """Build the service (tests pass their own settings, clock and token verifier)."""
    rt = realtime_settings or get_realtime_settings()
    app = create_app(
        SERVICE,
        settings=settings or get_settings(),
        lifespan=_lifespan(rt, clock, verify_token, install_signal_handlers),
        description="WebSocket hub at / and /ws (see docs/realtime.md) and the realtime event producer.",
    )
    app.state.realtime_settings = rt
    app.state.realtime_hub = None
    app.add_middleware(RealtimeEndpoint, state=app.state)
    return app


app = create_realtime_app()
