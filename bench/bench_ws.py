"""WebSocket broadcast benchmark for the realtime service (run by hand; prints its figures).

    .venv/bin/python bench/bench_ws.py --connections 1000
    .venv/bin/python bench/bench_ws.py --connections 10000 --procs 4 [--deflate] [--gateway]

Starts a private redis-server and ONE realtime instance (``python -m services.realtime``: uvicorn, uvloop,
Sans-I/O websockets, permessage-deflate off unless ``--deflate``) on ephemeral loopback ports, directly (no
NGINX; with ``--gateway``, through the project's own gateway config rendered by scripts/render_nginx.py, as
deployed), then opens N concurrent connections from several client processes (``websockets`` asyncio client),
and measures:

* server memory per idle connection: (RSS with N idle sockets − RSS before) / N;
* delivery time of one broadcast to all N sockets (publish on the bus → frame received by each client):
  p50 / p99 / max, for several rounds (median of the rounds is the headline).

Everything runs on this machine (2 cores): the clients compete with the server for CPU, so figures are an
upper bound of what the server alone needs. RLIMIT_NOFILE is raised here and in the service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not listening")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------------------------------
# client processes
# --------------------------------------------------------------------------------------------------


def client_proc(url: str, count: int, rounds: int, conn: Any) -> None:
    raise_nofile()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(_client_main(url, count, rounds, conn))


async def _client_main(url: str, count: int, rounds: int, pipe: Any) -> None:
    import websockets

    sockets: list[Any] = []
    arrivals: dict[int, list[float]] = {r: [] for r in range(rounds)}
    failures = 0

    async def open_one() -> None:
        nonlocal failures
        for attempt in range(5):
            try:
                ws = await websockets.connect(url, open_timeout=30, ping_interval=None, max_size=2**20)
                break
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            failures += 1
            return
        snapshots = 0
        while snapshots < 4:  # the four snapshots of a new connection
            frame = json.loads(await ws.recv())
            if frame.get("type") == "snapshot":
                snapshots += 1
        sockets.append(ws)

    batch = 100
    for i in range(0, count, batch):
        await asyncio.gather(*(open_one() for _ in range(min(batch, count - i))))
    pipe.send(("connected", len(sockets), failures))

    async def listen(ws: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                raw = await ws.recv()
                now = time.time()
                if '"bench_round"' not in raw:
                    continue
                frame = json.loads(raw)
                arrivals[frame["data"]["bench_round"]].append(now)

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    loop = asyncio.get_running_loop()
    for r in range(rounds):
        await loop.run_in_executor(None, pipe.recv)  # "go": the round is about to be published
        deadline = time.monotonic() + 60
        while len(arrivals[r]) < len(sockets) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        pipe.send(("round", r, arrivals[r]))
    await loop.run_in_executor(None, pipe.recv)  # "close"
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    pipe.send(("closed",))


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------


def _metrics(ws_port: int) -> dict[str, float]:
    """The server's /metrics samples, by series (name with its labels)."""
    import httpx

    text = httpx.get(f"http://127.0.0.1:{ws_port}/metrics", timeout=10).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            samples[series] = float(value)
    return samples


def frames_sent(ws_port: int) -> float:
    return _metrics(ws_port).get('alchm_ws_frames_sent_total{channel="recommendations_refresh"}', 0.0)


def fanout_mean_ms(ws_port: int) -> float:
    """The server's own mean fan-out time per broadcast (alchm_ws_broadcast_fanout_seconds)."""
    samples = _metrics(ws_port)
    count = samples.get("alchm_ws_broadcast_fanout_seconds_count", 0.0)
    return 1000 * samples["alchm_ws_broadcast_fanout_seconds_sum"] / count if count else float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


async def publish(redis_url: str, data: dict[str, Any]) -> float:
    import redis.asyncio as aioredis

    from shared.bus import RedisBus

    client = aioredis.from_url(redis_url)
    try:
        bus = RedisBus(client)
        started = time.time()
        await bus.publish("recommendations_refresh", "event", data)
        return started
    finally:
        await client.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", "-n", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--payload", type=int, default=200, help="approximate broadcast payload bytes")
    parser.add_argument("--deflate", action="store_true", help="server accepts permessage-deflate")
    parser.add_argument(
        "--gateway",
        action="store_true",
        help="connect through the gateway (NGINX with the rendered project config, /ws/) instead of directly",
    )
    parser.add_argument(
        "--server-timing",
        action="store_true",
        help="also poll /metrics (every 20 ms) for when the server has written all frames; the scrapes cost "
        "server CPU at 10k sockets, so this inflates the delivery figures",
    )
    args = parser.parse_args()
    limit = raise_nofile()
    print(f"RLIMIT_NOFILE here: {limit}")

    workdir = Path(tempfile.mkdtemp(prefix="alchm-bench-ws-"))
    redis_port, ws_port = free_port(), free_port()
    redis_proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(redis_port)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {
        **os.environ,
        "ALCHM_ENV": "test",
        "ALCHM_REDIS_URL": redis_url,
        "ALCHM_LOG_LEVEL": "WARNING",
        "ALCHM_REALTIME_MAX_CONNECTIONS_PER_IP": "0",
        "ALCHM_REALTIME_MAX_CONNECTIONS": "0",
        "ALCHM_REALTIME_PER_MESSAGE_DEFLATE": "true" if args.deflate else "false",
    }
    log = open(workdir / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "services.realtime", "--port", str(ws_port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    procs: list[Any] = []
    gateway = None
    try:
        wait_port(ws_port)
        url = f"ws://127.0.0.1:{ws_port}/ws"
        where = "uvicorn directly (no NGINX)"
        if args.gateway:
            gateway = start_gateway(ws_port, args.connections)
            url = gateway.base_url.replace("http://", "ws://") + "/ws/"
            where = "the gateway (NGINX, project config)"
        print(
            f"target: {where} at {url}; permessage-deflate "
            f"{'ON' if args.deflate else 'off'}; {args.procs} client processes; server pid {server.pid}"
        )
        # warm-up: one connection round trip, so imports/caches are in the baseline
        asyncio.run(_warmup(url))
        time.sleep(1.0)
        rss_before = rss_kib(server.pid)

        per = [
            args.connections // args.procs + (1 if i < args.connections % args.procs else 0)
            for i in range(args.procs)
        ]
        pipes = []
        started = time.monotonic()
        for count in per:
            parent, child = mp.Pipe()
            p = mp.Process(target=client_proc, args=(url, count, args.rounds, child), daemon=True)
            p.start()
            procs.append(p)
            pipes.append(parent)
        connected = failures = 0
        for pipe in pipes:
            _, ok, failed = pipe.recv()
            connected += ok
            failures += failed
        connect_s = time.monotonic() - started
        time.sleep(2.0)
        rss_after = rss_kib(server.pid)
        per_conn = (rss_after - rss_before) / max(1, connected)
        print(f"connected {connected}/{args.connections} in {connect_s:.1f}s ({failures} failed)")
        print(
            f"server RSS {rss_before / 1024:.1f} MiB → {rss_after / 1024:.1f} MiB: "
            f"{per_conn:.1f} KiB per idle connection (target ≤ 40 KiB)"
        )

        pad = "x" * max(0, args.payload - 60)
        results = []
        for r in range(args.rounds):
            time.sleep(0.5)
            for pipe in pipes:
                pipe.send("go")
            sent_before = frames_sent(ws_port) if args.server_timing else 0.0
            t0 = asyncio.run(publish(redis_url, {"bench_round": r, "pad": pad}))
            written_ms = float("nan")
            while args.server_timing and time.time() - t0 < 30:  # server side: all frames written
                if frames_sent(ws_port) >= sent_before + connected:
                    written_ms = (time.time() - t0) * 1000
                    break
                time.sleep(0.02)
            arrivals: list[float] = []
            for pipe in pipes:
                _, _, times = pipe.recv()
                arrivals.extend(times)
            lat = [(t - t0) * 1000 for t in arrivals]
            if len(lat) < connected:
                print(f"round {r}: only {len(lat)}/{connected} received")
            if lat:
                results.append((pct(lat, 0.5), pct(lat, 0.99), max(lat), written_ms))
                print(
                    f"round {r}: delivery to {len(lat)} sockets p50 {results[-1][0]:.0f} ms, "
                    f"p99 {results[-1][1]:.0f} ms, max {results[-1][2]:.0f} ms; "
                    f"server wrote all frames by {written_ms:.0f} ms (±20 ms polling)"
                )
        if results:
            print(
                f"MEDIAN over {len(results)} rounds: p50 {statistics.median(r[0] for r in results):.0f} ms, "
                f"p99 {statistics.median(r[1] for r in results):.0f} ms, "
                f"max {statistics.median(r[2] for r in results):.0f} ms (target p99 ≤ 500 ms); "
                f"server wrote all frames by {statistics.median(r[3] for r in results):.0f} ms"
            )
        print(
            f"server fan-out (bus event → every socket written or queued), mean per broadcast: "
            f"{fanout_mean_ms(ws_port):.0f} ms (the rest of the delivery time is the kernel, NGINX and the "
            "Python clients sharing the 2 cores)"
        )
        for pipe in pipes:
            pipe.send("close")
        for pipe in pipes:
            with contextlib.suppress(EOFError):
                pipe.recv()
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
        if gateway is not None:
            gateway.stop()
        server.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
        if server.poll() is None:
            server.kill()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    return 0


def start_gateway(ws_port: int, connections: int) -> Any:
    """NGINX with the project's gateway config (local profile), realtime upstream = the bench server."""
    from tests.support.gateway import load_renderer, render_for_harness
    from tests.support.servers import NginxServer

    # each proxied socket holds two NGINX connections (client + upstream), spread over the workers
    need = 2 * connections + 1024
    text = render_for_harness(
        load_renderer(),
        {"realtime": [f"127.0.0.1:{ws_port}"]},
        worker_connections=need,
        rlimit_nofile=need + 1024,
    )
    return NginxServer(text).start()


async def _warmup(url: str) -> None:
    import websockets

    async with websockets.connect(url) as ws:
        for _ in range(4):
            await ws.recv()


if __name__ == "__main__":
    raise SystemExit(main())
