"""The realtime service with a REAL Redis: realtime instances run as uvicorn subprocesses.

Fan-out across instances, leader takeover after SIGKILL, replay with ``last_event_id``, a slow client
dropped with 1013 while a normal one keeps receiving on time, the hour change published within 1 s of the
computed boundary (the service's clock is shifted so a boundary is seconds away), graceful 1001.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
import websockets

from shared.astro import planetary_hour
from shared.bus import RedisBus
from tests.support.servers import RedisServer, ServiceProcess

pytestmark = pytest.mark.integration

APP = "services.realtime.main:app"
# The WebSocket implementation ``python -m services.realtime`` runs (and its broadcast fast path needs).
WS_ARGS = ("--ws", "websockets-sansio")
LEADER_KEY = "alchm:rt:leader"
NY = (40.7128, -74.0060, "America/New_York")


def env_for(redis: RedisServer, **extra: str) -> dict[str, str]:
    return {
        "ALCHM_REDIS_URL": redis.url,
        "ALCHM_REALTIME_LOCK_TTL_MS": "2000",
        "ALCHM_LOG_LEVEL": "WARNING",
        **extra,
    }


def ws_url(proc: ServiceProcess, path: str = "/ws") -> str:
    return proc.base_url.replace("http://", "ws://") + path


async def recv_json(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return result


async def recv_until(
    ws: Any, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if predicate(frame):
            return frame


async def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def leader_pid(client: Any) -> int | None:
    holder = await client.get(LEADER_KEY)
    return int(holder.decode().split(":")[1]) if holder else None


async def test_fanout_takeover_and_replay(redis_server: RedisServer, service_factory: Any) -> None:
    a = service_factory(APP, env_for(redis_server), extra_args=WS_ARGS)
    b = service_factory(APP, env_for(redis_server), extra_args=WS_ARGS)
    client = aioredis.from_url(redis_server.url)
    bus = RedisBus(client)
    try:
        async with websockets.connect(ws_url(a)) as wa, websockets.connect(ws_url(b, "/")) as wb:
            for ws in (wa, wb):
                await recv_until(ws, lambda f: f["channel"] == "recommendations_refresh")
            # One event published on the bus (as kitchen-intelligence does) reaches clients of both instances.
            event_id = await bus.publish("recommendations_refresh", "event", {"reason": "hour_change"})
            for ws in (wa, wb):
                frame = await recv_until(ws, lambda f: f["id"] == event_id)
                assert frame == {**frame, "channel": "recommendations_refresh", "type": "event"}
                assert frame["data"] == {"reason": "hour_change"}

        # Exactly one producer: the lock holder is one of the two processes.
        pids = {a.proc.pid: a, b.proc.pid: b}  # type: ignore[union-attr]
        holder = await wait_for(lambda: leader_pid(client), 5, "a leader")
        assert holder in pids
        leader, survivor = pids[holder], next(p for pid, p in pids.items() if pid != holder)

        # The survivor's client reconnects later with last_event_id and gets what it missed.
        async with websockets.connect(ws_url(survivor)) as ws:
            first = await recv_until(ws, lambda f: f["channel"] == "recommendations_refresh")
            last_seen = first["id"]
        missed = [await bus.publish("recommendations_refresh", "event", {"n": n}) for n in range(3)]

        # Kill the producer's instance: the other takes over within the lock expiry (2 s) + one retry.
        killed_at = time.monotonic()
        leader.kill()
        new_holder = await wait_for(
            lambda: _other_leader(client, holder), 2.0 + 1.5, "the survivor to take over the lock"
        )
        takeover = time.monotonic() - killed_at
        assert new_holder == survivor.proc.pid and takeover <= 3.5  # type: ignore[union-attr]

        async with websockets.connect(ws_url(survivor) + f"?last_event_id={last_seen}") as ws:
            replayed = []
            while len(replayed) < 3:
                frame = await recv_json(ws)
                if frame["channel"] == "recommendations_refresh" and frame["type"] == "event":
                    replayed.append(frame["id"])
            assert replayed == missed
            summary = await recv_until(ws, lambda f: f["channel"] == "system")
            assert summary["data"]["complete"] is True
    finally:
        await client.aclose()


async def _other_leader(client: Any, old: int) -> int | None:
    pid = await leader_pid(client)
    return pid if pid is not None and pid != old else None


async def test_hour_change_published_within_1s_of_the_boundary(
    redis_server: RedisServer, service_factory: Any
) -> None:
    real_now = datetime.now(UTC)
    boundary = planetary_hour(real_now, *NY).end
    lead = 4.0  # the service's clock starts this long before a boundary
    start = boundary - timedelta(seconds=lead)
    svc = service_factory(
        APP, env_for(redis_server, ALCHM_REALTIME_CLOCK_START=start.isoformat()), extra_args=WS_ARGS
    )
    following = planetary_hour(boundary, *NY)
    # ``last_event_id=0`` replays the stream from its start, so the update is seen even if this (loaded)
    # machine connects only after the boundary; then it also arrives live.
    async with websockets.connect(ws_url(svc) + "?last_event_id=0") as ws:
        update = await recv_until(
            ws,
            lambda f: (
                f["channel"] == "planetary_hours"
                and f["type"] == "update"
                and f["data"]["start"] == following.to_dict()["start"]
            ),
            timeout=lead + 15,
        )
    # Published (frame ts, the service's clock) within 1 s of the computed boundary.
    published = datetime.fromisoformat(update["ts"].replace("Z", "+00:00"))
    assert 0 <= (published - boundary).total_seconds() < 1.0, (published, boundary)
    assert update["current_hour"]["planet"] == following.planet


def _raw_upgrade(port: int, rcvbuf: int = 4096) -> socket.socket:
    """A WebSocket client that completes the handshake and then reads nothing (tiny receive buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.settimeout(15)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _read_until_close(sock: socket.socket) -> int | None:
    """Read (unmasked) server frames until a close frame; return its code (None if the stream just ends)."""
    buf = b""

    def need(n: int) -> bool:
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            buf += chunk
        return True

    while True:
        if not need(2):
            return None
        opcode, length = buf[0] & 0x0F, buf[1] & 0x7F
        header = 2
        if length == 126:
            if not need(4):
                return None
            length, header = int.from_bytes(buf[2:4], "big"), 4
        elif length == 127:
            if not need(10):
                return None
            length, header = int.from_bytes(buf[2:10], "big"), 10
        if not need(header + length):
            return None
        payload, buf = buf[header : header + length], buf[header + length :]
        if opcode == 0x8:
            return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005


async def test_slow_client_dropped_1013_while_normal_client_on_time(
    redis_server: RedisServer, service_factory: Any
) -> None:
    svc = service_factory(
        APP,
        env_for(redis_server, ALCHM_REALTIME_SEND_QUEUE_FRAMES="32", ALCHM_REALTIME_CLOSE_TIMEOUT_S="10"),
        extra_args=WS_ARGS,
    )
    client = aioredis.from_url(redis_server.url)
    bus = RedisBus(client)
    slow = await asyncio.to_thread(_raw_upgrade, svc.port)
    try:
        async with websockets.connect(ws_url(svc)) as normal:
            await recv_until(normal, lambda f: f["channel"] == "recommendations_refresh")
            sent_at: dict[str, float] = {}
            latencies: list[float] = []

            async def read_normal() -> None:
                while True:
                    frame = await recv_json(normal, 20)
                    if frame["id"] in sent_at:
                        latencies.append(time.monotonic() - sent_at[frame["id"]])

            reader = asyncio.create_task(read_normal())
            pad = "x" * 2000
            metrics = ""
            for n in range(4000):
                event_id = await bus.publish("recommendations_refresh", "event", {"n": n, "pad": pad})
                sent_at[event_id] = time.monotonic()
                if n % 5 == 4:
                    await asyncio.sleep(0.01)
                if n % 50 == 49:
                    metrics = await asyncio.to_thread(_metrics, svc)
                    if 'alchm_ws_disconnects_total{reason="slow_consumer"}' in metrics:
                        break
            interesting = [ln for ln in metrics.splitlines() if ln.startswith(("alchm_ws_d", "alchm_ws_c"))]
            assert 'alchm_ws_disconnects_total{reason="slow_consumer"} 1.0' in metrics, interesting
            assert "alchm_ws_connections 1.0" in metrics, interesting  # the normal client is still there
            # the broadcast fast path was in use (frames written straight to idle sockets) and did not
            # keep the slow reader from filling its queue
            direct = re.search(r"^alchm_ws_frames_direct_total (\S+)$", metrics, re.M)
            assert direct is not None and float(direct.group(1)) > 0, interesting
            await wait_for(
                _async(lambda: len(latencies) >= len(sent_at)), 15, "normal client got every event"
            )
            reader.cancel()
            latencies.sort()
            p99 = latencies[int(0.99 * (len(latencies) - 1))]
            assert p99 < 1.0, f"normal client p99 delivery {p99:.3f}s over {len(latencies)} events"
        # The slow client reads again: what was already on its way, then the close frame 1013.
        assert await asyncio.to_thread(_read_until_close, slow) == 1013
    finally:
        slow.close()
        await client.aclose()


def _metrics(svc: ServiceProcess) -> str:
    import httpx

    return httpx.get(svc.base_url + "/metrics", timeout=5).text


def _async(predicate: Callable[[], Any]) -> Callable[[], Any]:
    async def run() -> Any:
        return predicate()

    return run


async def test_graceful_shutdown_closes_1001_and_releases_the_lock(
    redis_server: RedisServer, service_factory: Any
) -> None:
    svc = service_factory(APP, env_for(redis_server), extra_args=WS_ARGS)
    client = aioredis.from_url(redis_server.url)
    try:
        await wait_for(lambda: leader_pid(client), 5, "leader")
        async with websockets.connect(ws_url(svc)) as ws:
            await recv_until(ws, lambda f: f["channel"] == "recommendations_refresh")
            await asyncio.to_thread(svc.stop)  # SIGTERM
            with pytest.raises(websockets.ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        assert await client.get(LEADER_KEY) is None  # released, not left to expire
    finally:
        await client.aclose()
