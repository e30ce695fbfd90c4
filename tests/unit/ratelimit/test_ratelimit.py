"""Rate limiting in-process: rules, client IPs, the middleware, endpoint rules, Redis failure handling
(with a fault-injecting stand-in for Redis; the real one is exercised in tests/integration)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client import REGISTRY
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.ratelimit import (
    LocalWindows,
    RateLimiter,
    RateLimitSettings,
    TrustedProxies,
    client_ip,
    install_rate_limiting,
    parse_rate,
)
from tests.unit.auth.apps import PASSWORD, bearer, build_app, fresh_ip, make_settings, register, running


def _scope(peer: str, xff: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
    return {"type": "http", "client": (peer, 1234), "headers": headers}


# -- configuration -----------------------------------------------------------------------------------------


def test_defaults_are_the_contract() -> None:
    limiter = RateLimiter(RateLimitSettings())
    leases = {n: r.lease for n, r in limiter.rules.items()}
    assert leases == {
        "anonymous": 1,
        "authenticated": 5,
        "premium": 20,
        "admin": 100,
        "service": 100,
        "login": 1,
        "register": 1,
        "heavy": 1,
    }
    expected = {
        "anonymous": (50, 900),
        "authenticated": (500, 900),
        "premium": (2000, 900),
        "admin": (10000, 900),
        "service": (50000, 900),
        "login": (5, 900),
        "register": (3, 3600),
        "heavy": (10, 60),
    }
    assert {n: (r.limit, r.window_s) for n, r in limiter.rules.items()} == expected
    assert limiter.backend == "memory"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALCHM_RATELIMIT_TIER_ANONYMOUS", "7 per minute")
    monkeypatch.setenv("ALCHM_RATELIMIT_RULES", '{"recommend": "30/minute"}')
    limiter = RateLimiter(RateLimitSettings())
    assert (limiter.rule("anonymous").limit, limiter.rule("anonymous").window_s) == (7, 60)
    assert limiter.rule("recommend").limit == 30
    with pytest.raises(ValueError, match="unknown rate-limit rule"):
        limiter.rule("nope")
    monkeypatch.setenv("ALCHM_RATELIMIT_RULE_LOGIN", "lots")
    with pytest.raises(ValidationError, match="not a rate limit"):
        RateLimitSettings()


def test_parse_rate() -> None:
    assert parse_rate("50/15 minutes") == (50, 900)
    assert parse_rate("3 per hour") == (3, 3600)
    with pytest.raises(ValueError):
        parse_rate("0/minute")


def test_local_windows() -> None:
    windows = LocalWindows(max_keys=100)
    assert windows.hit("k", 60, now=0.0) == (1, 60.0)
    assert windows.hit("k", 60, now=10.0) == (2, 50.0)
    assert windows.hit("k", 60, now=60.0) == (1, 60.0)  # the window expired: a new one starts
    for i in range(250):
        windows.hit(f"key{i}", 60, now=100.0)
    assert len(windows) <= 100


# -- client IP ---------------------------------------------------------------------------------------------


def test_client_ip_behind_trusted_proxies() -> None:
    trusted = TrustedProxies("127.0.0.1, 10.0.0.0/8")
    assert client_ip(_scope("198.51.100.7"), trusted) == "198.51.100.7"
    # An untrusted peer cannot choose its bucket.
    assert client_ip(_scope("198.51.100.7", "1.2.3.4"), trusted) == "198.51.100.7"
    assert client_ip(_scope("127.0.0.1", "203.0.113.9"), trusted) == "203.0.113.9"
    # Spoofed left-most entries are ignored: the nearest untrusted hop wins.
    assert client_ip(_scope("127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.2.3"), trusted) == "203.0.113.9"
    assert client_ip(_scope("127.0.0.1", "not-an-ip"), trusted) == "127.0.0.1"
    assert client_ip(_scope("127.0.0.1", "10.0.0.5"), trusted) == "10.0.0.5"  # all trusted: the first
    assert client_ip(_scope("127.0.0.1"), trusted) == "127.0.0.1"
    assert client_ip(_scope("198.51.100.7", "1.2.3.4"), TrustedProxies("*")) == "1.2.3.4"
    assert client_ip({"type": "http", "headers": []}, trusted) == "unknown"
    assert "2001:db8::1" not in trusted and "::1" in TrustedProxies("::1")


# -- the middleware and endpoint rules -----------------------------------------------------------------------

SMALL = RateLimitSettings(
    tier_anonymous="4/minute",
    tier_authenticated="6/minute",
    rule_register="3/hour",
    rule_login="5/15 minutes",
    rule_heavy="2/minute",
)


@pytest.fixture
def app() -> FastAPI:
    return build_app(make_settings(cors_origins=["https://alchm.kitchen"]), ratelimit=SMALL)


@pytest.fixture
async def client(app: FastAPI) -> Any:
    async with running(app) as c:
        yield c


async def test_headers_then_429(client: AsyncClient) -> None:
    ip = {"X-Forwarded-For": fresh_ip()}
    for remaining in (3, 2, 1, 0):
        r = await client.get("/probe/public", headers=ip)
        assert r.status_code == 200
        assert r.headers["ratelimit-limit"] == "4" and r.headers["ratelimit-remaining"] == str(remaining)
        assert 0 < int(r.headers["ratelimit-reset"]) <= 60 and r.headers["ratelimit-policy"] == "4;w=60"
        assert "retry-after" not in r.headers
    r = await client.get("/probe/public", headers={**ip, "Origin": "https://alchm.kitchen"})
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "RATE_LIMITED" and "4 requests per minute" in body["message"]
    assert body["details"][0]["rule"] == "anonymous" and body["details"][0]["limit"] == 4
    assert body["request_id"] == r.headers["x-request-id"]
    assert 1 <= int(r.headers["retry-after"]) <= 60 and r.headers["ratelimit-remaining"] == "0"
    assert r.headers["access-control-allow-origin"] == "https://alchm.kitchen"  # the browser can read it
    # Another client address has its own budget; probes and metrics are never limited.
    assert (await client.get("/probe/public", headers={"X-Forwarded-For": fresh_ip()})).status_code == 200
    for path in ("/health", "/ready", "/metrics"):
        for _ in range(6):
            r = await client.get(path, headers=ip)
            assert r.status_code == 200 and "ratelimit-limit" not in r.headers
    metrics = (await client.get("/metrics")).text
    assert 'alchm_ratelimit_rejected_total{rule="anonymous",service="auth-test"}' in metrics
    assert 'route="/probe/public",service="auth-test",status="429"' in metrics


async def test_authenticated_callers_are_limited_per_user(client: AsyncClient) -> None:
    user = await register(client)  # 1 anonymous request from its own IP
    auth = bearer(user["access_token"])
    for n in range(6):
        r = await client.get("/probe/me", headers={**auth, "X-Forwarded-For": fresh_ip()})
        assert r.status_code == 200 and r.headers["ratelimit-limit"] == "6"
        assert r.headers["ratelimit-remaining"] == str(5 - n)
    r = await client.get("/probe/me", headers={**auth, "X-Forwarded-For": fresh_ip()})
    assert r.status_code == 429 and r.json()["details"][0]["rule"] == "authenticated"
    # A bad token is limited as anonymous (per IP) and then refused by the route.
    r = await client.get("/probe/me", headers={**bearer("bad"), "X-Forwarded-For": fresh_ip()})
    assert r.status_code == 401 and r.headers["ratelimit-limit"] == "4"


async def test_login_rule_itself(app: FastAPI, client: AsyncClient) -> None:
    app.state.ratelimiter.rules["anonymous"] = app.state.ratelimiter.rules["admin"]  # isolate the login rule
    await register(client, "rule@example.com")
    ip = fresh_ip()
    for n in range(5):
        r = await client.post(
            "/auth/login",
            json={"email": "rule@example.com", "password": "Wrong-1-pass"},
            headers={"X-Forwarded-For": ip},
        )
        assert r.status_code == 401
        assert r.headers["ratelimit-policy"] == "5;w=900" and r.headers["ratelimit-remaining"] == str(4 - n)
    r = await client.post(
        "/auth/login",
        json={"email": "rule@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": ip},
    )
    assert r.status_code == 429
    assert r.json()["details"][0] == {
        "rule": "login",
        "limit": 5,
        "window_s": 900,
        "retry_after_s": pytest.approx(900, abs=5),
    }
    assert 890 <= int(r.headers["retry-after"]) <= 900
    # Another email from the same IP, or the same email from another IP, has its own budget.
    r = await client.post(
        "/auth/login",
        json={"email": "other@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": ip},
    )
    assert r.status_code == 401
    r = await client.post(
        "/auth/login",
        json={"email": "rule@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code == 200


async def test_register_limit_per_ip(client: AsyncClient) -> None:
    ip = fresh_ip()
    for n in range(3):
        r = await client.post(
            "/auth/register",
            json={"email": f"reg{n}@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": ip},
        )
        assert r.status_code == 201
        assert r.headers["ratelimit-policy"] == "3;w=3600" and r.headers["ratelimit-remaining"] == str(2 - n)
    r = await client.post(
        "/auth/register",
        json={"email": "reg9@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": ip},
    )
    assert r.status_code == 429 and r.json()["details"][0]["rule"] == "register"
    assert int(r.headers["retry-after"]) > 3000


async def test_heavy_calculations_limit_anonymous_callers_only(app: FastAPI, client: AsyncClient) -> None:
    ip = {"X-Forwarded-For": fresh_ip()}
    for _ in range(2):
        r = await client.post("/probe/heavy", json={"x": 2}, headers=ip)
        assert r.status_code == 200 and r.json() == {"y": 4} and r.headers["ratelimit-policy"] == "2;w=60"
    r = await client.post("/probe/heavy", json={"x": 2}, headers=ip)
    assert r.status_code == 429 and r.json()["details"][0]["rule"] == "heavy"
    user = await register(client)
    auth = bearer(user["access_token"])
    for _ in range(4):
        r = await client.post("/probe/heavy", json={"x": 1}, headers={**auth, **ip})
        assert r.status_code == 200 and r.headers["ratelimit-policy"] == "6;w=60"


async def test_disabled_limiter() -> None:
    app = build_app(ratelimit=RateLimitSettings(enabled=False, tier_anonymous="1/minute"))
    async with running(app) as client:
        for _ in range(3):
            r = await client.get("/probe/public")
            assert r.status_code == 200 and "ratelimit-limit" not in r.headers


async def test_install_after_start_is_refused(app: FastAPI, client: AsyncClient) -> None:
    await client.get("/health")
    with pytest.raises(RuntimeError):
        install_rate_limiting(app)


# -- Redis failure handling ---------------------------------------------------------------------------------


class FlakyRedis:
    """Just enough of redis.asyncio for RedisWindows: a script that counts, fails or stalls on demand."""

    def __init__(self) -> None:
        self.counts: dict[str, list[float]] = {}
        self.down = False
        self.delay = 0.0
        self.calls = 0
        self.hits = 0

    def register_script(self, _lua: str) -> Any:
        async def script(keys: list[str], args: list[int]) -> bytes:
            self.calls += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.down:
                raise RedisConnectionError("Connection refused")
            out = []
            now = time.monotonic()
            for key, window_ms, amount in zip(keys, args[0::2], args[1::2], strict=True):
                self.hits += 1
                entry = self.counts.get(key)
                if entry is None or entry[1] <= now:
                    entry = self.counts[key] = [0, now + window_ms / 1000]
                entry[0] += amount
                out.append(f"{int(entry[0])}:{int((entry[1] - now) * 1000)}")
            return ",".join(out).encode()

        return script


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_batches_concurrent_hits() -> None:
    fake = FlakyRedis()
    limiter = RateLimiter(RateLimitSettings(), fake, timeout_s=0.5, service="rl-batch")  # type: ignore[arg-type]
    rule = limiter.rule("anonymous")
    decisions = await asyncio.gather(*(limiter.hit(rule, f"ip:{i % 5}") for i in range(100)))
    assert all(d.backend == "redis" for d in decisions)
    assert fake.hits == 100 and fake.calls <= 3
    assert sorted(d.remaining for d in decisions if d.rule is rule)[:5] == [30] * 5
    await limiter.aclose()


async def test_redis_down_falls_back_to_local_and_recovers() -> None:
    fake = FlakyRedis()
    cfg = RateLimitSettings(tier_anonymous="3/minute", retry_min_s=0.2, retry_max_s=0.4)
    limiter = RateLimiter(cfg, fake, timeout_s=0.2, service="rl-flaky")  # type: ignore[arg-type]
    rule = limiter.rule("anonymous")
    failures = lambda: _metric(  # noqa: E731
        "alchm_dependency_failures_total", service="rl-flaky", dependency="redis", operation="ratelimit"
    )
    before = failures()

    assert (await limiter.hit(rule, "ip:a")).backend == "redis"
    fake.down = True
    d = await limiter.hit(rule, "ip:a")
    assert d.backend == "local" and d.allowed and limiter.degraded
    assert _metric("alchm_ratelimit_local_fallback", service="rl-flaky") == 1
    assert failures() == before + 1
    calls = fake.calls
    # During the back-off Redis is not tried at all; local limits apply.
    results = [await limiter.hit(rule, "ip:a") for _ in range(3)]
    assert fake.calls == calls and [r.allowed for r in results] == [True, True, False]

    fake.down = False
    await asyncio.sleep(0.25)
    d = await limiter.hit(rule, "ip:a")
    assert d.backend == "redis" and not limiter.degraded and d.remaining == 1  # Redis still had 1 hit
    assert _metric("alchm_ratelimit_local_fallback", service="rl-flaky") == 0
    await limiter.aclose()


async def test_slow_redis_never_blocks_longer_than_the_timeout() -> None:
    fake = FlakyRedis()
    fake.delay = 2.0
    limiter = RateLimiter(RateLimitSettings(), fake, timeout_s=0.1, service="rl-slow")  # type: ignore[arg-type]
    started = time.perf_counter()
    decisions = await asyncio.gather(*(limiter.hit(limiter.rule("anonymous"), "ip:x") for _ in range(20)))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5 and all(d.backend == "local" for d in decisions)
    assert [d.remaining for d in decisions][-1] == 30
    await limiter.aclose()


async def test_app_serves_while_redis_is_down() -> None:
    app = build_app(ratelimit=RateLimitSettings(tier_anonymous="3/minute", retry_min_s=5))
    async with running(app) as client:
        fake = FlakyRedis()
        fake.down = True
        limiter = RateLimiter(app.state.ratelimiter.cfg, fake, timeout_s=0.1, service="auth-test")  # type: ignore[arg-type]
        app.state.ratelimiter = limiter
        ip = {"X-Forwarded-For": fresh_ip()}
        statuses = [(await client.get("/probe/public", headers=ip)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert limiter.backend == "local-fallback"
        await limiter.aclose()


async def test_large_limits_are_leased() -> None:
    fake = FlakyRedis()
    limiter = RateLimiter(RateLimitSettings(), fake, timeout_s=0.5, service="rl-lease")  # type: ignore[arg-type]
    rule = limiter.rule("authenticated")  # 500 per 15 minutes, leased 5 at a time
    remaining = []
    for _ in range(11):
        d = await limiter.hit(rule, "u:1")
        assert d.allowed and d.backend == "redis" and 0 < d.reset_s <= 900
        remaining.append(d.remaining)
    assert fake.calls == 3  # reservations of 5, 5, 5 for 11 requests
    assert remaining == [499, 498, 497, 496, 495, 494, 493, 492, 491, 490, 489]
    assert fake.counts[next(iter(fake.counts))][0] == 15  # reserved, not used: never counted twice
    await limiter.aclose()


async def test_leases_never_let_a_client_past_its_limit_across_instances() -> None:
    fake = FlakyRedis()  # one Redis shared by two instances
    cfg = RateLimitSettings(tier_authenticated="40/minute", lease_fraction=0.25)  # lease 10
    a = RateLimiter(cfg, fake, timeout_s=0.5, service="rl-lease-a")  # type: ignore[arg-type]
    b = RateLimiter(cfg, fake, timeout_s=0.5, service="rl-lease-b")  # type: ignore[arg-type]
    assert a.rule("authenticated").lease == 10
    allowed = 0
    for n in range(60):
        limiter = (a, a, b)[n % 3]  # uneven traffic: a holds unused units at the end
        d = await limiter.hit(limiter.rule("authenticated"), "u:42")
        allowed += d.allowed
    assert 40 - 9 <= allowed <= 40
    await a.aclose()
    await b.aclose()


async def test_refusals_are_cached_until_the_window_resets() -> None:
    fake = FlakyRedis()
    cfg = RateLimitSettings(tier_anonymous="2/minute")
    limiter = RateLimiter(cfg, fake, timeout_s=0.5, service="rl-deny")  # type: ignore[arg-type]
    rule = limiter.rule("anonymous")
    assert [(await limiter.hit(rule, "ip:9")).allowed for _ in range(3)] == [True, True, False]
    calls = fake.calls
    for _ in range(50):  # a client hammering past its limit costs no Redis traffic
        d = await limiter.hit(rule, "ip:9")
        assert not d.allowed and d.retry_after_s >= 1
    assert fake.calls == calls
    assert (await limiter.hit(rule, "ip:other")).allowed  # other clients are unaffected
    await limiter.aclose()


async def test_concurrent_requests_share_one_reservation() -> None:
    fake = FlakyRedis()
    cfg = RateLimitSettings(tier_authenticated="1000/minute", lease_fraction=0.01)  # lease 10
    limiter = RateLimiter(cfg, fake, timeout_s=0.5, service="rl-flight")  # type: ignore[arg-type]
    rule = limiter.rule("authenticated")
    decisions = await asyncio.gather(*(limiter.hit(rule, "u:7") for _ in range(64)))
    assert all(d.allowed for d in decisions)
    # 64 concurrent requests of one client: 7 reservations of 10, not 64 (no units are wasted).
    assert fake.hits == 7 and fake.counts[next(iter(fake.counts))][0] == 70
    assert sorted(d.remaining for d in decisions)[0] == 1000 - 64
    await limiter.aclose()
