"""Benchmark harness: run a service under uvicorn behind a real NGINX and load it with wrk.

Measure as ratios in the same run (design/performance.md): every endpoint is compared with ``/health`` of
the same server, runs are interleaved (health, A, B, …, health, A, B, …) and medians of ≥ 3 runs are taken.
p99 is measured at a fixed, non-saturating request rate when ``rate`` is given (wrk2 is not available, so
we use an open-loop asyncio client for latency and wrk for throughput).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import NginxServer, ServiceProcess, free_port  # noqa: E402

NGINX_TEMPLATE = """
worker_processes 1;
worker_rlimit_nofile 65536;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path {{PREFIX}}/tmp;
  proxy_temp_path {{PREFIX}}/tmp;
  fastcgi_temp_path {{PREFIX}}/tmp;
  uwsgi_temp_path {{PREFIX}}/tmp;
  scgi_temp_path {{PREFIX}}/tmp;
  upstream app { server 127.0.0.1:@@UPSTREAM@@; keepalive 64; }
  server {
    listen 127.0.0.1:{{PORT}};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
"""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)\.000%\s+([\d.]+\w+)", out, re.M))
    if not lat:
        lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))

    def parse(v: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s)", v)
        return _ms(m.group(1), m.group(2)) if m else float("nan")

    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        rps,
        parse(lat.get("50", "nan")),
        parse(lat.get("99", "nan")),
        errors,
        int(non2xx.group(1)) if non2xx else 0,
    )


def wrk(
    url: str,
    *,
    seconds: int = 8,
    connections: int = 64,
    threads: int = 2,
    method: str = "GET",
    body: Mapping[str, object] | str | None = None,
    headers: Mapping[str, str] | None = None,
    rate: float | None = None,
) -> WrkResult:
    """One wrk run. With ``rate`` (req/s in total) each connection waits connections/rate s between requests
    (wrk's ``delay()`` hook): a paced load below saturation, for honest p99 figures."""
    binary = shutil.which("wrk")
    if not binary:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    script = None
    hdrs = dict(headers or {})
    if body is not None or method != "GET" or hdrs or rate:
        payload = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        lua = [f"wrk.method = {json.dumps(method)}", f"wrk.body = {json.dumps(payload)}"]
        lua += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in hdrs.items()]
        if rate:
            lua.append(f"function delay() return {connections * 1000.0 / rate:.3f} end")
        fd, script = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lua) + "\n")
    cmd = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script)
    return parse_wrk(out)


@contextmanager
def service_behind_nginx(app: str, env: Mapping[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """(gateway base URL, direct base URL) for ``app`` under one uvicorn worker behind NGINX."""
    svc = ServiceProcess(app=app, env={"ALCHM_LOG_LEVEL": "WARNING", **(env or {})}, port=free_port()).start()
    nginx = NginxServer(NGINX_TEMPLATE.replace("@@UPSTREAM@@", str(svc.port))).start()
    try:
        yield nginx.base_url, svc.base_url
    finally:
        nginx.stop()
        svc.stop()


def machine_load() -> str:
    out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    return " | ".join(line.strip() for line in out.splitlines()[1:4])


def compare(
    base_url: str,
    cases: Sequence[tuple[str, str, str, object]],
    *,
    runs: int = 3,
    seconds: int = 8,
    connections: int = 64,
    rate: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, list[WrkResult]]:
    """Interleave ``/health`` and each case ``(label, method, path, body)`` for ``runs`` rounds."""
    results: dict[str, list[WrkResult]] = {"health": []}
    for label, *_ in cases:
        results[label] = []
    for _ in range(runs):
        results["health"].append(
            wrk(base_url + "/health", seconds=seconds, connections=connections, rate=rate)
        )
        for label, method, path, body in cases:
            results[label].append(
                wrk(
                    base_url + path,
                    seconds=seconds,
                    connections=connections,
                    method=method,
                    body=body,
                    rate=rate,
                    headers=headers,
                )  # type: ignore[arg-type]
            )
    return results


def report(results: Mapping[str, list[WrkResult]], targets: Mapping[str, float] | None = None) -> list[str]:
    lines = []
    health = statistics.median(r.rps for r in results["health"])
    lines.append(f"{'endpoint':34} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label, runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        errs = sum(r.errors + r.non_2xx for r in runs)
        ratio = rps / health if health else float("nan")
        target = (targets or {}).get(label)
        verdict = (
            ""
            if target is None
            else ("  (target ≥ {:.0%}: {})".format(target, "met" if ratio >= target else "MISSED"))
        )
        lines.append(f"{label:34} {rps:9.0f} {ratio:7.1%} {p50:8.2f} {p99:8.2f} {errs:7d}{verdict}")
    return lines


def header(title: str) -> None:
    print(f"== {title} — {time.strftime('%Y-%m-%d %H:%M:%S')} — {os.cpu_count()} cores")
    print(f"   busiest processes before: {machine_load()}")
