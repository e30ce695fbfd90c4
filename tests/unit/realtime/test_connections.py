"""Connection robustness against the real server (in-process uvicorn, embedded bus): bad frames keep the
connection, limits close with 1008, slow and silent clients are dropped without delaying others, replay,
graceful close with 1001, metrics."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest
import websockets

from services.realtime.auth import TokenRejected
from services.realtime.config import RealtimeSettings
from services.realtime.hub import Hub
from services.realtime.locations import LocationRegistry
from services.realtime.protocol import Location
from shared.bus import InProcessBus, parse_event_id

from .conftest import T0, FakeClock, LiveApp, connect, eventually, recv_json, recv_until, snapshots

NYC = Location.of(40.7128, -74.006, "America/New_York")


async def test_bad_frames_get_error_frames_and_the_connection_stays(live: Any) -> None:
    app: LiveApp = await live()
    async with connect(app.url + "/ws") as ws:
        await snapshots(ws)
        for raw, field, code in [
            ("{not json", "frame", "MALFORMED_JSON"),
            ('{"type":"subscribe","channel":"weather"}', "channel", "UNKNOWN_CHANNEL"),
            (
                '{"type":"subscribe","channel":"planetary_hours","data":{"location":{"latitude":12,"longitude":1,'
                '"tz":"Nowhere/City"}}}',
                "data.location.tz",
                "INVALID_LOCATION",
            ),
            ("x" * 5000, "frame", "FRAME_TOO_LARGE"),
            (b"\x00\x01binary", "frame", "MALFORMED_JSON"),
        ]:
            await ws.send(raw)
            error = await recv_until(ws, lambda f: f["type"] == "error")
            assert error["data"]["field"] == field and error["data"]["error"] == code, error
            assert field in error["data"]["message"]
        await ws.send('{"type":"ping"}')
        pong = await recv_until(ws, lambda f: f["type"] == "ack")
        assert pong["channel"] == "system" and pong["data"] == {"action": "pong"}


async def test_per_ip_limit_closes_1008_and_trusts_forwarded_for(live: Any) -> None:
    app: LiveApp = await live(settings=RealtimeSettings(producer_poll_s=3600, max_connections_per_ip=2))
    async with connect(app.url) as a, connect(app.url) as b:
        await snapshots(a)
        await snapshots(b)
        async with connect(app.url) as c:
            with pytest.raises(websockets.ConnectionClosed) as info:
                await recv_json(c)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008
            assert "too many connections" in info.value.rcvd.reason
        # Through the trusted proxy (127.0.0.1), the client is the X-Forwarded-For address.
        async with connect(app.url, additional_headers={"X-Forwarded-For": "203.0.113.9"}) as d:
            await snapshots(d)
            assert "203.0.113.9" in app.hub.per_ip


async def test_token_optional_invalid_closes_1008_valid_attaches_principal(live: Any) -> None:
    async def verify(token: str) -> Any:
        if token != "good":
            raise TokenRejected("bad signature")
        return {"sub": "user-1"}

    app: LiveApp = await live(verify_token=verify)
    async with connect(app.url + "/?token=bad") as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await recv_json(ws)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        assert "invalid token" in info.value.rcvd.reason
    async with connect(app.url + "/?token=good") as ws:
        await snapshots(ws)
        assert [c.principal for c in app.hub.connections.values()] == [{"sub": "user-1"}]
    async with connect(app.url + "/") as ws:  # no token: anonymous
        await snapshots(ws)


async def test_replay_after_last_event_id(live: Any) -> None:
    app: LiveApp = await live()
    bus: InProcessBus = app.bus
    ids = [await bus.publish("recommendations_refresh", "event", {"n": n}) for n in range(4)]
    await eventually(
        lambda: (parse_event_id(app.hub.tip or "0") or (0, 0)) >= parse_event_id(ids[-1]), what="relay"
    )
    async with connect(app.url + f"/ws?last_event_id={ids[1]}") as ws:
        replayed = [
            await recv_until(ws, lambda f: f["channel"] == "recommendations_refresh") for _ in range(2)
        ]
        assert [f["id"] for f in replayed] == ids[2:] and [f["data"]["n"] for f in replayed] == [2, 3]
        summary = await recv_until(ws, lambda f: f["channel"] == "system")
        # (the producer's first energy push may sit among them: it is replayed too)
        assert summary["data"]["action"] == "replay" and summary["data"]["after"] == ids[1]
        assert summary["data"]["replayed"] >= 2 and summary["data"]["complete"] is True
        frames = await snapshots(ws)
        assert frames["recommendations_refresh"]["data"] == {"n": 3}
        # the snapshot id is the newest event id: usable as the next last_event_id
        assert parse_event_id(frames["recommendations_refresh"]["id"]) >= parse_event_id(ids[-1])
        # live events go on after the replay
        new_id = await bus.publish("recommendations_refresh", "event", {"n": 4})
        live_frame = await recv_until(ws, lambda f: f["id"] == new_id)
        assert live_frame["type"] == "event"
    async with connect(app.url + "/ws?last_event_id=garbage") as ws:
        error = await recv_until(ws, lambda f: f["type"] == "error")
        assert error["data"]["field"] == "last_event_id"


async def test_graceful_close_1001(live: Any) -> None:
    app: LiveApp = await live()
    async with connect(app.url) as ws:
        await snapshots(ws)
        await app.hub.close_all()
        with pytest.raises(websockets.ConnectionClosed) as info:
            await recv_until(ws, lambda f: False)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
    async with connect(app.url) as ws:  # while shutting down, newcomers are told to go elsewhere too
        with pytest.raises(websockets.ConnectionClosed) as info:
            await recv_json(ws)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001


def _raw_upgrade(port: int, rcvbuf: int = 4096) -> socket.socket:
    """A client that completes the handshake and then never reads (tiny receive buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


async def test_silent_client_dropped_by_protocol_ping(live: Any) -> None:
    app: LiveApp = await live(ping_interval=0.3)
    sock = await asyncio.to_thread(_raw_upgrade, app.port)
    try:
        await eventually(lambda: len(app.hub.connections) == 1, what="connected")
        await eventually(lambda: not app.hub.connections, timeout=5, what="silent client dropped")
    finally:
        sock.close()


async def test_slow_client_dropped_1013_normal_client_on_time(live: Any) -> None:
    cfg = RealtimeSettings(producer_poll_s=3600, send_queue_frames=64, close_timeout_s=5.0)
    app: LiveApp = await live(settings=cfg)
    bus: InProcessBus = app.bus
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", app.port))
    async with (
        connect(app.url + "/ws") as normal,
        websockets.connect(app.url + "/ws", sock=sock, max_queue=2, open_timeout=5, close_timeout=5) as slow,
    ):
        await snapshots(normal)
        await eventually(lambda: len(app.hub.connections) == 2, what="both connected")
        slow_conn = max(app.hub.connections.values(), key=lambda c: c.id)
        sent_at: dict[str, float] = {}
        latencies: list[float] = []

        async def read_normal(count: int) -> None:
            while len(latencies) < count:
                frame = await recv_json(normal, 10)
                if frame["id"] in sent_at and frame["channel"] == "recommendations_refresh":
                    latencies.append(time.monotonic() - sent_at[frame["id"]])

        pad = "x" * 2000
        published = 0
        reader = asyncio.create_task(read_normal(10**9))
        for _ in range(4000):
            event_id = await bus.publish("recommendations_refresh", "event", {"pad": pad})
            sent_at[event_id] = time.monotonic()
            published += 1
            if published % 8 == 0:
                await asyncio.sleep(0.005)
                if slow_conn.closing:
                    break
        assert slow_conn.closing == "slow_consumer", "the slow client was never dropped"
        normal_conn = min(app.hub.connections.values(), key=lambda c: c.id)
        assert normal_conn.closing is None and len(app.hub.connections) == 1
        await eventually(lambda: len(latencies) >= published, timeout=10, what="normal client got everything")
        reader.cancel()
        latencies.sort()
        assert latencies[int(0.99 * (len(latencies) - 1))] < 1.0, latencies[-5:]

        # The slow client now reads: everything that was already on its way, then close code 1013.
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                await asyncio.wait_for(slow.recv(), 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1013


async def test_broadcast_never_awaits_a_socket() -> None:
    """Hub level: a client whose socket never accepts a write neither blocks the broadcast nor delays the
    others; it is dropped when its queue overflows (1013), and a stalled write is dropped too."""
    cfg = RealtimeSettings(send_queue_frames=4, stall_timeout_s=0.2, close_timeout_s=0.2)
    bus = InProcessBus()
    hub = Hub(bus, cfg, NYC, FakeClock(T0), LocationRegistry(NYC))
    blocked = asyncio.Event()
    fast_frames: list[str] = []
    closes: list[int] = []

    async def stuck_send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            closes.append(message["code"])
        await blocked.wait()  # never set: this socket never drains

    async def fast_send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            fast_frames.append(message["text"])

    stuck = hub.attach(stuck_send, "198.51.100.1", None)
    fast = hub.attach(fast_send, "198.51.100.2", None)
    for n in range(10):
        event_id = await bus.publish("recommendations_refresh", "event", {"n": n})
        event = (await bus.replay("0-0"))[-1]
        assert event.id == event_id
        started = time.perf_counter()
        hub.broadcast(event)
        assert time.perf_counter() - started < 0.05  # only enqueues
        await asyncio.sleep(0)
    await eventually(lambda: len(fast_frames) == 10, what="fast client frames")
    assert [json.loads(f)["data"]["n"] for f in fast_frames] == list(range(10))
    assert stuck.closing == "slow_consumer" and stuck.id not in hub.connections
    await eventually(lambda: closes == [1013], what="1013 close attempted")
    assert fast.closing is None

    # A stalled write with an almost empty queue: the sweeper drops it.
    stalled = hub.attach(stuck_send, "198.51.100.3", None)
    stalled.enqueue("{}", "system")
    sweeper = asyncio.create_task(hub.sweep())
    try:
        await eventually(lambda: stalled.closing == "stalled", timeout=3, what="stalled client dropped")
    finally:
        sweeper.cancel()
        await hub.stop()


async def test_metrics_exposed(live: Any) -> None:
    app: LiveApp = await live()
    async with connect(app.url) as ws:
        await snapshots(ws)
        await app.bus.publish("recommendations_refresh", "event", {"reason": "test"})
        await recv_until(ws, lambda f: f["type"] == "event")
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{app.port}/metrics")).text
    values = {ln.rsplit(" ", 1)[0]: float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines() if ln[:1] != "#"}
    # (other tests' servers in this process may still be winding down: at least this connection counts)
    assert values["alchm_ws_connections"] >= 1
    assert values['alchm_ws_subscriptions{channel="planetary_hours"}'] >= 1
    for name in (
        'alchm_ws_frames_sent_total{channel="recommendations_refresh"}',
        "alchm_ws_open_fds",
        "alchm_ws_broadcast_lag_seconds_bucket",
        "alchm_ws_disconnects_total",
        "alchm_realtime_leader 1.0",
    ):
        assert name in text, name


async def test_health_and_ready_in_embedded_mode(live: Any) -> None:
    app: LiveApp = await live(FakeClock(T0))
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{app.port}/health")).json()["service"] == "realtime"
        assert (await client.get(f"http://127.0.0.1:{app.port}/ready")).status_code == 200
