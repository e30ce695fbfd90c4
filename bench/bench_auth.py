"""Benchmark: what identity costs. Run by hand: ``.venv/bin/python bench/bench_auth.py`` (about a minute).

One uvicorn process (1 worker, uvloop, httptools) serves the same thermodynamics calculation twice:

- ``POST /calculate/thermodynamics``       anonymous, exempt from rate limiting (the baseline);
- ``POST /calculate/thermodynamics/auth``  needs ``Authorization: Bearer <access JWT>`` (``CurrentUser``;
                                           ``…/auth-direct`` calls ``authenticate_request(request)``)
                                           and passes the rate limiter (Redis-backed when ``redis-server``
                                           is installed: one is started on an ephemeral port), with the
                                           budget leased 5 units per Redis round trip as the default
                                           authenticated tier is (``--lease-max 1``: a round trip each).

wrk (or, without wrk, an httpx load loop) measures them alternately in the same run; the figure that
matters is the **ratio** authenticated / anonymous (target ≥ 0.85), a median over several runs, for
``…/auth-direct``: the way the services' hot routes authenticate (the limiter resolves the caller once,
the route calls ``authenticate_request``). ``Depends(current_user)`` is reported beside it: FastAPI solves
every dependency with its own pass over the request's parameters, which costs more than auth itself. Then it
measures ``POST /auth/login`` latency (p50/p99, sequential, full HTTP path: Argon2id verify, database
write, token minting) and prints the Argon2 parameters.

Everything binds 127.0.0.1 on ephemeral ports and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

from shared.auth.deps import authenticate_request, current_user
from shared.auth.principal import Principal

ROOT = Path(__file__).resolve().parents[1]

BODY = (
    '{"spirit": 4.0, "essence": 7.0, "matter": 6.0, "substance": 2.0,'
    ' "fire": 0.3, "water": 0.25, "earth": 0.2, "air": 0.25}'
)
SECRET = "bench-secret-" + "b" * 51
PASSWORD = "Bench-Password-1"


# --------------------------------------------------------------------------------------------------------
# The app under test (uvicorn imports this module and calls create_bench_app)
# --------------------------------------------------------------------------------------------------------


class ThermoRequest(BaseModel):
    spirit: float = Field(ge=0, le=1e6)
    essence: float = Field(ge=0, le=1e6)
    matter: float = Field(ge=0, le=1e6)
    substance: float = Field(ge=0, le=1e6)
    fire: float = Field(ge=0, le=1e6)
    water: float = Field(ge=0, le=1e6)
    earth: float = Field(ge=0, le=1e6)
    air: float = Field(ge=0, le=1e6)


def _compute(body: ThermoRequest) -> dict[str, float]:
    try:
        from shared.alchemy.thermodynamics import thermodynamics
    except ImportError:  # the domain module is not there yet: a stand-in of similar cost
        s, e, m, su = body.spirit, body.essence, body.matter, body.substance
        heat = (s * s + body.fire**2) / max((su + e + m + body.water + body.air + body.earth) ** 2, 1e-9)
        return {"heat": heat, "entropy": heat / 2, "reactivity": heat / 3}
    result = thermodynamics(
        body.spirit, body.essence, body.matter, body.substance, body.fire, body.water, body.earth, body.air
    )
    return result.as_dict()


def create_bench_app() -> FastAPI:
    from fastapi import APIRouter

    from shared.app import create_app
    from shared.auth.router import auth_router
    from shared.http import ORJSONResponse
    from shared.infra import infrastructure
    from shared.ratelimit import install_rate_limiting
    from shared.settings import Settings

    settings = Settings()
    router = APIRouter(tags=["bench"])

    @router.post("/calculate/thermodynamics")
    async def thermo(body: ThermoRequest) -> ORJSONResponse:
        return ORJSONResponse(_compute(body))

    @router.post("/calculate/thermodynamics/auth")
    async def thermo_auth(
        body: ThermoRequest, _user: Annotated[Principal, Depends(current_user)]
    ) -> ORJSONResponse:
        return ORJSONResponse(_compute(body))

    @router.post("/calculate/thermodynamics/auth-direct")
    async def thermo_auth_direct(body: ThermoRequest, request: Request) -> ORJSONResponse:
        await authenticate_request(request)
        return ORJSONResponse(_compute(body))

    # --breakdown: the same work limited but anonymous, and authenticated but exempt from limiting.
    @router.post("/calculate/thermodynamics/limited")
    async def thermo_limited(body: ThermoRequest) -> ORJSONResponse:
        return ORJSONResponse(_compute(body))

    @router.post("/calculate/thermodynamics/auth-unlimited")
    async def thermo_auth_unlimited(
        body: ThermoRequest, _user: Annotated[Principal, Depends(current_user)]
    ) -> ORJSONResponse:
        return ORJSONResponse(_compute(body))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(app, settings):
            yield

    app = create_app("bench", routers=[router, auth_router], settings=settings, lifespan=lifespan)
    install_rate_limiting(app)
    return app


# --------------------------------------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


@contextmanager
def redis_server() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@contextmanager
def bench_server(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="bench-auth-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "bench.bench_auth:create_bench_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health")
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Headers = dict[str, str]


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_run(
    url: str, pool: list[Headers], duration: int, connections: int, threads: int
) -> tuple[float, int, int]:
    """``(requests/s, requests, non-2xx responses)`` of one wrk run; requests cycle through ``pool``
    (every variant goes through the same Lua ``request()`` path, so the generator costs the same)."""
    entries = []
    for headers in pool:
        items = {"Content-Type": "application/json", **headers}
        entries.append(
            "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in items.items()) + "}"
        )
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = [[{BODY}]]\n"
        f"local pool = {{{', '.join(entries)}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #pool + 1\n"
        "  local h = {}\n"
        "  for k, v in pairs(pool[i]) do h[k] = v end\n"
        "  return wrk.format(nil, nil, h, nil)\n"
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", f.name, url],
            capture_output=True,
            text=True,
            timeout=duration + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, total, int(bad.group(1)) if bad else 0


async def _httpx_load(
    url: str, pool: list[Headers], duration: int, connections: int
) -> tuple[float, int, int]:
    done = 0
    bad = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal done, bad
            while time.perf_counter() < deadline:
                headers = {"content-type": "application/json", **pool[done % len(pool)]}
                r = await client.post(url, content=BODY, headers=headers)
                done += 1
                bad += r.status_code >= 300

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.perf_counter() - started), done, bad


def load(url: str, pool: list[Headers], args: argparse.Namespace) -> tuple[float, int, int]:
    if shutil.which("wrk"):
        return wrk_run(url, pool, args.duration, args.connections, args.threads)
    return asyncio.run(_httpx_load(url, pool, args.duration, min(args.connections, 32)))


def mint_tokens(users: int) -> list[str]:
    """Access tokens of ``users`` distinct users, signed with the server's secret (verification never
    touches the database, so the users need not exist there)."""
    import uuid

    from shared.auth.roles import scopes_for_roles
    from shared.auth.settings import AuthSettings
    from shared.auth.tokens import TokenService
    from shared.settings import Settings

    service = TokenService(Settings(env="test", jwt_secret=SECRET), AuthSettings())
    return [
        service.issue_access(
            user_id=uuid.uuid4(),
            email=f"user{n}@bench.example",
            roles=["user"],
            scopes=scopes_for_roles(["user"]),
            tier="authenticated",
        ).token
        for n in range(users)
    ]


def login_latency(base: str, n: int) -> list[float]:
    times = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            r = client.post("/auth/login", json={"email": "bench@example.com", "password": PASSWORD})
            times.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"login failed: {r.status_code} {r.text[:200]}")
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per load run")
    parser.add_argument("--runs", type=int, default=3, help="runs per variant (median is reported)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--logins", type=int, default=100)
    parser.add_argument("--no-redis", action="store_true", help="rate limiter in process memory")
    parser.add_argument(
        "--lease-max",
        type=int,
        default=5,
        help="units reserved from Redis at a time (5 = the default authenticated tier, 500/15 min; 1 = every"
        " request goes to Redis)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=64,
        help="distinct callers (tokens / client addresses) the load cycles through",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also measure limiter-only and JWT-only variants of the route",
    )
    args = parser.parse_args()

    from shared.auth.passwords import PasswordService
    from shared.auth.settings import AuthSettings

    auth_cfg = AuthSettings()
    tmp = Path(tempfile.mkdtemp(prefix="bench-auth-"))
    with redis_server() as redis_url:
        if args.no_redis:
            redis_url = None
        env = {
            "ALCHM_ENV": "test",
            "ALCHM_LOG_LEVEL": "WARNING",
            "ALCHM_JWT_SECRET": SECRET,
            "ALCHM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "ALCHM_REDIS_URL": redis_url or "",
            "ALCHM_RATELIMIT_EXEMPT_PATHS": json.dumps(
                ["/calculate/thermodynamics", "/calculate/thermodynamics/auth-unlimited"]
            ),
            "ALCHM_RATELIMIT_TIER_AUTHENTICATED": "1000000000/15 minutes",
            "ALCHM_RATELIMIT_TIER_ANONYMOUS": "1000000000/15 minutes",
            "ALCHM_RATELIMIT_RULE_LOGIN": "1000000000/15 minutes",
            "ALCHM_RATELIMIT_LEASE_MAX": str(args.lease_max),
        }
        generator = "wrk" if shutil.which("wrk") else "httpx loop (wrk not installed)"
        print(f"load average before: {loadavg()}   (2 cores; figures are noisy when this is high)")
        print(f"load generator: {generator}, {args.connections} connections, {args.duration} s x {args.runs}")
        backend = (
            f"redis {redis_url}, {args.lease_max} units reserved per round trip" if redis_url else "memory"
        )
        print(f"rate limiter backend: {backend}; {args.users} distinct callers")
        with bench_server(env) as (base, pid):
            r = httpx.post(base + "/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
            r.raise_for_status()
            tokens = mint_tokens(args.users)
            bearer = [{"Authorization": f"Bearer {t}"} for t in tokens]
            addresses = [{"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"} for n in range(args.users)]
            anon_url = base + "/calculate/thermodynamics"
            auth_url = base + "/calculate/thermodynamics/auth"
            warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
            nobody: list[Headers] = [{}]
            for url, pool in ((anon_url, nobody), (auth_url, bearer)):  # sanity check, then warm up
                headers = {"content-type": "application/json", **pool[0]}
                httpx.post(url, content=BODY, headers=headers).raise_for_status()
                load(url, pool, warm_up)
            variants: list[tuple[str, str, list[Headers]]] = [
                ("anon", anon_url, [{}]),
                ("auth", auth_url, bearer),
            ]
            variants.append(("auth direct", base + "/calculate/thermodynamics/auth-direct", bearer))
            if args.breakdown:
                variants += [
                    ("limiter only", base + "/calculate/thermodynamics/limited", addresses),
                    ("JWT only", base + "/calculate/thermodynamics/auth-unlimited", bearer),
                ]
            rps: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            cpu_us: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            errors = 0
            for run in range(args.runs):
                order = variants
                for name, url, pool in order if run % 2 == 0 else reversed(order):
                    cpu0 = process_cpu_s(pid)
                    rate, total, bad = load(url, pool, args)
                    cpu_us[name].append((process_cpu_s(pid) - cpu0) / max(total, 1) * 1e6)
                    rps[name].append(rate)
                    errors += bad
                anon_txt = f"{rps['anon'][-1]:6.0f} req/s {cpu_us['anon'][-1]:5.0f} us CPU/req"
                auth_txt = f"{rps['auth'][-1]:6.0f} req/s {cpu_us['auth'][-1]:5.0f} us CPU/req"
                print(f"  run {run + 1}: anonymous {anon_txt}; authenticated {auth_txt}")
                for name, _, _ in variants[2:]:
                    print(f"         {name}: {rps[name][-1]:6.0f} req/s {cpu_us[name][-1]:5.0f} us CPU/req")
            med = {k: statistics.median(v) for k, v in rps.items()}
            med_cpu = {k: statistics.median(v) for k, v in cpu_us.items()}
            ratio = med["auth"] / med["anon"]
            cpu_ratio = med_cpu["anon"] / med_cpu["auth"]
            print(
                f"median throughput: anonymous {med['anon']:.0f} req/s; authenticated {med['auth']:.0f} req/s"
            )
            cpu_txt = f"anonymous {med_cpu['anon']:.0f}, authenticated {med_cpu['auth']:.0f} us/req"
            print(f"median server CPU: {cpu_txt}")
            direct = med["auth direct"] / med["anon"]
            direct_cpu = med_cpu["anon"] / med_cpu["auth direct"]
            # The headline is the way the services' hot routes authenticate: the rate limiter resolves the
            # caller once per request and the route calls authenticate_request() (no FastAPI dependency).
            # Depends(current_user) is also measured: FastAPI 0.16x solves each dependency with its own
            # pass over path, query, header and cookie parameters, ~40 us a request on this machine.
            for label, value in (
                ("throughput (authenticate_request, as the hot routes do)", direct),
                ("server CPU per request (authenticate_request)", direct_cpu),
            ):
                verdict = "PASS" if value >= 0.85 else "FAIL"
                print(f"RATIO authenticated/anonymous by {label} = {value:.3f}  (target >= 0.85: {verdict})")
            print(
                f"  with Depends(current_user) instead: {ratio:.3f} by throughput, {cpu_ratio:.3f} by server "
                "CPU (FastAPI's per-dependency cost; used on the routes that are not hot)"
            )
            for name, _, _ in variants[2:]:
                print(f"  {name}: {med[name] / med['anon']:.3f} of anonymous throughput")
            if errors:
                print(f"  {errors} non-2xx responses during the runs: the figures are not valid")

            times = login_latency(base, args.logins)
            service = PasswordService(auth_cfg)
            h = service.hash_sync(PASSWORD)
            verify = []
            for _ in range(20):
                t0 = time.perf_counter()
                service.hasher.verify(PASSWORD, h)
                verify.append(time.perf_counter() - t0)
            p = service.parameters
            print(
                f"argon2: {p['algorithm']} m={p['memory_kib']} KiB, t={p['time_cost']}, p={p['parallelism']},"
                f" hash {p['hash_len']} B, salt {p['salt_len']} B; verify alone p50"
                f" {statistics.median(verify) * 1000:.1f} ms"
            )
            p50, p99 = percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000
            print(f"login latency, {len(times)} sequential logins: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
