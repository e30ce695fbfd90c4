"""alchemical-core in-process: CPU per request of the hot endpoints, called as an ASGI app (no HTTP, no
NGINX), against ``/health`` of the same app in the same run. Run by hand:

    .venv/bin/python bench/bench_asgi.py [--rounds 7] [--requests 600]

It isolates what the app itself costs (middleware, routing, FastAPI's handler, the endpoint) from what
uvicorn, NGINX and wrk add (``bench/bench_core.py`` measures the whole path). Rounds are interleaved
(health, A, B, …, health, A, B, …) and the minimum per endpoint is reported: on a shared machine the
minimum is the least disturbed figure. Rate limits are off, as in bench_core; gc.freeze() is on, as served
(``ALCHM_GC_FREEZE=false`` to compare: the last line is the pause of one full collection).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES: dict[str, tuple[str, bytes]] = {
    "/health": ("GET", b""),
    "/calculate/elemental": ("POST", b'{"ingredients": ["tomato", "basil", "mozzarella"]}'),
    "/calculate/thermodynamics": ("POST", b'{"Fire": 0.3, "Water": 0.2, "Earth": 0.3, "Air": 0.2}'),
    "/planetary/current-hour": ("GET", b""),
    "/alchemize": ("POST", b"{}"),
}


def _scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def _per_request_us(app: Any, method: str, path: str, body: bytes, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: set[int] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    started = time.perf_counter()
    for _ in range(n):
        await app(_scope(method, path, body), receive, send)
    elapsed = time.perf_counter() - started
    if statuses != {200}:
        raise SystemExit(f"{method} {path} answered {sorted(statuses)}")
    return elapsed / n * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    os.environ.setdefault("ALCHM_RATELIMIT_ENABLED", "false")
    os.environ.setdefault("ALCHM_LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALCHM_GC_FREEZE", "true")
    from asgi_lifespan import LifespanManager

    from services.alchemical_core.main import build_app

    app = build_app()
    async with LifespanManager(app) as manager:
        served = manager.app
        for path, (method, body) in CASES.items():  # warm-up
            await _per_request_us(served, method, path, body, 200)
        costs: dict[str, list[float]] = {path: [] for path in CASES}
        for _ in range(args.rounds):
            for path, (method, body) in CASES.items():
                costs[path].append(await _per_request_us(served, method, path, body, args.requests))
        pauses = []
        for _ in range(5):  # what a full collection stops the worker for, with the catalog loaded
            started = time.perf_counter()
            gc.collect()
            pauses.append((time.perf_counter() - started) * 1000)
    health = min(costs["/health"])
    print(f"alchemical-core in-process, min of {args.rounds} rounds × {args.requests} requests")
    print(f"{'endpoint':32} {'µs/request':>10}  {'/health ÷ endpoint':>18}")
    for path, values in costs.items():
        best = min(values)
        print(f"{path:32} {best:10.0f}  {health / best:18.0%}")
    frozen = os.environ["ALCHM_GC_FREEZE"].lower() in ("1", "true", "yes", "on")
    print(
        f"one full garbage collection: median {statistics.median(pauses):.2f} ms "
        f"(ALCHM_GC_FREEZE={'on' if frozen else 'off'}; {gc.get_freeze_count()} objects frozen)"
    )


if __name__ == "__main__":
    asyncio.run(main())
