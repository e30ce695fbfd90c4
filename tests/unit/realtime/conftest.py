"""Test support for the realtime service: a controllable clock and the app served by an in-process uvicorn
(real sockets on an ephemeral loopback port, the Sans-I/O websockets implementation, embedded bus)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
import websockets

from services.realtime.config import RealtimeSettings
from services.realtime.main import create_realtime_app
from shared.settings import Settings
from tests.support.servers import free_port

#: A fixed instant for deterministic frames: 2025-03-10 15:50 UTC (Monday), New York afternoon.
T0 = datetime(2025, 3, 10, 15, 50, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when the test says so; ``sleep_until`` waits for that."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (when, future)
        self._waiters.append(entry)
        try:
            await future
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    @property
    def sleepers(self) -> list[datetime]:
        return sorted(w for w, f in self._waiters if not f.done())

    def set(self, when: datetime) -> None:
        self._now = when
        for due, future in list(self._waiters):
            if due <= when and not future.done():
                future.set_result(None)


async def eventually(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class _Server(uvicorn.Server):
    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


class LiveApp:
    def __init__(self, app: Any, server: _Server, port: int) -> None:
        self.app = app
        self.server = server
        self.port = port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def hub(self) -> Any:
        return self.app.state.realtime_hub

    @property
    def bus(self) -> Any:
        return self.app.state.realtime_bus


@pytest.fixture
def rt_settings() -> RealtimeSettings:
    return RealtimeSettings(producer_poll_s=3600, close_timeout_s=2.0)


@pytest.fixture
async def live(rt_settings: RealtimeSettings) -> AsyncIterator[Callable[..., Awaitable[LiveApp]]]:
    """Factory: serve a realtime app (embedded mode) on an ephemeral port inside the test's loop."""
    started: list[tuple[_Server, asyncio.Task[None]]] = []

    async def make(
        clock: FakeClock | None = None,
        settings: RealtimeSettings | None = None,
        verify_token: Any = None,
        ping_interval: float | None = 20.0,
    ) -> LiveApp:
        cfg = Settings(env="test", redis_url="", log_json=False, forwarded_allow_ips="127.0.0.1")
        app = create_realtime_app(
            cfg,
            settings or rt_settings,
            clock=clock or FakeClock(T0),
            verify_token=verify_token,
            install_signal_handlers=False,
        )
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            loop="asyncio",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            ws_ping_interval=ping_interval,
            ws_ping_timeout=ping_interval,
            log_level="warning",
            lifespan="on",
        )
        server = _Server(config)
        task = asyncio.create_task(server.serve())
        started.append((server, task))
        await eventually(lambda: server.started, 10, "uvicorn start")
        return LiveApp(app, server, port)

    yield make
    for server, task in started:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


async def recv_json(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.recv(), timeout)
    result: dict[str, Any] = json.loads(message)
    return result


async def recv_until(
    ws: Any, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0, limit: int = 200
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    for _ in range(limit):
        frame = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if predicate(frame):
            return frame
    raise AssertionError("no matching frame")


async def snapshots(ws: Any) -> dict[str, dict[str, Any]]:
    """The four snapshot frames every new connection receives, by channel (other frames — e.g. the
    producer's first energy update racing with them — are skipped)."""
    frames: dict[str, dict[str, Any]] = {}
    for _ in range(20):
        frame = await recv_json(ws)
        if frame["type"] == "snapshot":
            frames[frame["channel"]] = frame
            if len(frames) == 4:
                return frames
    raise AssertionError(f"expected 4 snapshots, got {sorted(frames)}")


def connect(url: str, **kwargs: Any) -> Any:
    return websockets.connect(url, open_timeout=5, close_timeout=2, **kwargs)
