"""The cache: the in-process TTL+LRU cache (no server needed) and the Redis cache on a real Redis,
including an outage (misses, no errors, then recovery)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shared.cache import MemoryCache, RedisCache
from shared.redis import create_redis, redis_readiness
from shared.settings import Settings
from tests.support.servers import RedisServer

# -- in-process ------------------------------------------------------------------------------------------


async def test_memory_cache_ttl_lru_and_copies() -> None:
    cache = MemoryCache(max_entries=2)
    value = {"a": [1, 2], "when": datetime(2026, 1, 1, tzinfo=UTC)}
    await cache.set("k", value, ttl_s=60)
    got = await cache.get("k")
    assert got == {"a": [1, 2], "when": "2026-01-01T00:00:00Z"}  # JSON types, like Redis
    got["a"].append(3)
    again = await cache.get("k")
    assert again is not None and again["a"] == [1, 2]  # a fresh copy each time
    await cache.set("short", 1, ttl_s=0.05)
    await asyncio.sleep(0.08)
    assert await cache.get("short") is None
    await cache.set("x", 1, 60)
    await cache.get("k")  # k is now the most recently used
    await cache.set("y", 2, 60)
    assert await cache.get("x") is None and await cache.get("k") is not None and len(cache) == 2
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_get_or_set_computes_once() -> None:
    cache = MemoryCache()
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"n": 42}

    results = await asyncio.gather(*(cache.get_or_set("hot", 60, compute) for _ in range(10)))
    assert results == [{"n": 42}] * 10 and calls == 1
    assert await cache.get_or_set("hot", 60, compute) == {"n": 42} and calls == 1

    async def boom() -> None:
        raise RuntimeError("upstream down")

    with pytest.raises(RuntimeError):
        await cache.get_or_set("bad", 60, boom)


# -- Redis -----------------------------------------------------------------------------------------------


@pytest.fixture
async def redis_cache(redis_server: RedisServer) -> AsyncIterator[RedisCache]:
    client = create_redis(
        Settings(env="test", redis_url=redis_server.url, redis_timeout_s=0.3), service="cache-test"
    )
    assert client is not None
    cache = RedisCache(client, timeout_s=0.3, service="cache-test", retry_min_s=0.2, retry_max_s=0.4)
    yield cache
    await client.aclose()


@pytest.mark.integration
async def test_redis_cache_round_trip_and_ttl(redis_cache: RedisCache) -> None:
    await redis_cache.set("r", {"x": 1.5, "y": ["a"]}, ttl_s=0.3)
    assert await redis_cache.get("r") == {"x": 1.5, "y": ["a"]}
    ttl = await redis_cache.client.pttl("alchm:cache:r")
    assert 0 < ttl <= 300
    await asyncio.sleep(0.4)
    assert await redis_cache.get("r") is None
    await redis_cache.set("d", 1, 60)
    await redis_cache.delete("d")
    assert await redis_cache.get("d") is None
    await redis_cache.client.set("alchm:cache:garbage", b"\xff not json")
    assert await redis_cache.get("garbage") is None


@pytest.mark.integration
async def test_redis_outage_is_a_miss_then_recovers(
    redis_cache: RedisCache, redis_server: RedisServer
) -> None:
    await redis_cache.set("k", "v", 60)
    ready = redis_readiness(redis_cache.client)
    await ready()
    redis_server.stop()
    t0 = time.perf_counter()
    assert await redis_cache.get("k") is None
    await redis_cache.set("k2", "v", 60)  # swallowed
    await redis_cache.delete("k")  # swallowed
    assert time.perf_counter() - t0 < 1.0 and redis_cache.degraded
    t0 = time.perf_counter()
    for _ in range(50):  # during the back-off Redis is not even tried
        assert await redis_cache.get("k") is None
    assert time.perf_counter() - t0 < 0.1
    with pytest.raises(Exception):  # noqa: B017 - readiness reports the outage
        await ready()
    redis_server.start()
    await asyncio.sleep(0.5)
    await redis_cache.set("k3", [1], 60)
    assert await redis_cache.get("k3") == [1] and not redis_cache.degraded
    await ready()
