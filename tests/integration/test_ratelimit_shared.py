"""Rate limits shared by two service instances through a real Redis; Redis failure and recovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client import REGISTRY

from shared.db import migrate
from shared.ratelimit import RateLimitSettings
from tests.support.servers import RedisServer
from tests.unit.auth.apps import PASSWORD, build_app, fresh_ip, make_settings, register, running

pytestmark = pytest.mark.integration

LIMITS = RateLimitSettings(
    tier_anonymous="1000/15 minutes",
    rule_login="5/15 minutes",
    retry_min_s=0.3,
    retry_max_s=0.6,
    lease_fraction=0,  # exact counting everywhere (leasing has its own test below)
)


def _instance(pg_url: str, redis_url: str, name: str, cfg: RateLimitSettings = LIMITS) -> FastAPI:
    settings = make_settings(database_url=pg_url, redis_url=redis_url, redis_timeout_s=0.3)
    return build_app(settings, ratelimit=cfg, create_schema=False, service=name)


@pytest.fixture
async def pair(pg_url: str, redis_server: RedisServer) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    """Two instances of one service (separate processes' worth of state) on one PostgreSQL and Redis."""
    await asyncio.to_thread(migrate.upgrade, pg_url)
    a, b = _instance(pg_url, redis_server.url, "rl-a"), _instance(pg_url, redis_server.url, "rl-b")
    async with running(a) as ca, running(b) as cb:
        yield ca, cb


async def _login(client: AsyncClient, email: str, ip: str, password: str = "Wrong-Password-1") -> int:
    r = await client.post(
        "/auth/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": ip}
    )
    return r.status_code


async def test_login_limit_is_shared_by_two_instances(pair: tuple[AsyncClient, AsyncClient]) -> None:
    a, b = pair
    await register(a, "shared@example.com")
    ip = fresh_ip()
    statuses = [await _login((a, b)[n % 2], "shared@example.com", ip) for n in range(5)]
    assert statuses == [401] * 5
    # The sixth attempt goes to the other instance: refused, even with the right password.
    r = await b.post(
        "/auth/login",
        json={"email": "shared@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": ip},
    )
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "RATE_LIMITED" and body["details"][0]["rule"] == "login"
    assert body["details"][0]["limit"] == 5 and body["request_id"] == r.headers["x-request-id"]
    assert r.headers["ratelimit-limit"] == "5" and r.headers["ratelimit-remaining"] == "0"
    assert 880 <= int(r.headers["retry-after"]) <= 900 and int(r.headers["ratelimit-reset"]) <= 900
    r = await a.post(
        "/auth/login",
        json={"email": "shared@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": ip},
    )
    assert r.status_code == 429
    # Another IP, or another email, is not affected.
    assert await _login(a, "shared@example.com", fresh_ip(), PASSWORD) == 200
    assert await _login(b, "someone-else@example.com", ip) == 401


async def test_tier_budget_is_shared(pg_url: str, redis_server: RedisServer) -> None:
    await asyncio.to_thread(migrate.upgrade, pg_url)
    cfg = LIMITS.model_copy(update={"tier_anonymous": "6/minute"})
    a, b = _instance(pg_url, redis_server.url, "rl-c", cfg), _instance(pg_url, redis_server.url, "rl-d", cfg)
    async with running(a) as ca, running(b) as cb:
        ip = {"X-Forwarded-For": fresh_ip()}
        remaining = []
        for n in range(6):
            r = await (ca, cb)[n % 2].get("/probe/public", headers=ip)
            assert r.status_code == 200
            remaining.append(int(r.headers["ratelimit-remaining"]))
        assert remaining == [5, 4, 3, 2, 1, 0]
        r = await ca.get("/probe/public", headers=ip)
        assert r.status_code == 429 and r.json()["details"][0]["rule"] == "anonymous"
        assert "retry-after" in r.headers and r.headers["ratelimit-policy"] == "6;w=60"


def _failures(service: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "alchm_dependency_failures_total",
            {"service": service, "dependency": "redis", "operation": "ratelimit"},
        )
        or 0.0
    )


async def test_redis_outage_serves_with_local_limits_then_shares_again(
    pg_url: str, redis_server: RedisServer
) -> None:
    await asyncio.to_thread(migrate.upgrade, pg_url)
    cfg = LIMITS.model_copy(update={"tier_anonymous": "4/minute"})
    a, b = _instance(pg_url, redis_server.url, "rl-e", cfg), _instance(pg_url, redis_server.url, "rl-f", cfg)
    async with running(a) as ca, running(b) as cb:
        ip = {"X-Forwarded-For": fresh_ip()}
        assert (await ca.get("/probe/public", headers=ip)).headers["ratelimit-remaining"] == "3"

        redis_server.stop()
        before = _failures("rl-e")
        t0 = time.perf_counter()
        r = await ca.get("/probe/public", headers=ip)
        assert r.status_code == 200 and time.perf_counter() - t0 < 1.0  # never stuck on the dead Redis
        assert a.state.ratelimiter.backend == "local-fallback" and _failures("rl-e") > before
        assert (await ca.get("/ready")).status_code == 503
        # Local limits still apply: each instance enforces the full limit on its own while degraded.
        statuses = [(await ca.get("/probe/public", headers=ip)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert [(await cb.get("/probe/public", headers=ip)).status_code for _ in range(5)] == [200] * 4 + [
            429
        ]

        redis_server.start()
        await asyncio.sleep(0.7)  # > the back-off
        r = await ca.get("/probe/public", headers=ip)
        assert r.status_code == 200 and a.state.ratelimiter.backend == "redis"
        assert (await ca.get("/ready")).status_code == 200
        # Shared again: the two instances count into one budget (Redis restarted empty).
        assert r.headers["ratelimit-remaining"] == "3"
        r = await cb.get("/probe/public", headers=ip)
        assert r.headers["ratelimit-remaining"] == "2" and b.state.ratelimiter.backend == "redis"


async def test_script_flush_is_survived(
    pair: tuple[AsyncClient, AsyncClient], redis_server: RedisServer
) -> None:
    a, _ = pair
    ip = {"X-Forwarded-For": fresh_ip()}
    assert (await a.get("/probe/public", headers=ip)).headers["ratelimit-remaining"] == "999"
    client = aioredis.from_url(redis_server.url)
    await client.script_flush()
    r = await a.get("/probe/public", headers=ip)
    assert r.status_code == 200 and r.headers["ratelimit-remaining"] == "998"  # NOSCRIPT → reloaded
    keys = [k.decode() if isinstance(k, bytes) else k for k in await client.keys("alchm:rl:*")]
    await client.aclose()
    assert keys and all("@" not in k and "203.0." not in k for k in keys)  # identities are hashed


async def test_leased_budget_is_never_exceeded_by_two_instances(
    pg_url: str, redis_server: RedisServer
) -> None:
    await asyncio.to_thread(migrate.upgrade, pg_url)
    cfg = LIMITS.model_copy(update={"tier_anonymous": "60/minute", "lease_fraction": 0.1})  # lease 6
    a, b = _instance(pg_url, redis_server.url, "rl-g", cfg), _instance(pg_url, redis_server.url, "rl-h", cfg)
    async with running(a) as ca, running(b) as cb:
        assert a.state.ratelimiter.rule("anonymous").lease == 6
        ip = {"X-Forwarded-For": fresh_ip()}
        statuses = [
            (await (ca, ca, cb)[n % 3].get("/probe/public", headers=ip)).status_code for n in range(90)
        ]
        served = statuses.count(200)
        assert 60 - 5 <= served <= 60 and set(statuses) == {200, 429}
        client = aioredis.from_url(redis_server.url)
        assert await client.dbsize() == 1  # one shared counter for this client
        await client.aclose()
