"""``shared.leader`` and ``shared.bus.RedisBus`` against a real Redis: one leader at a time, takeover on
release/expiry, a stolen lock makes the leader step down; the bus subscriber survives a Redis restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis.asyncio as aioredis

from shared.bus import Event, RedisBus
from shared.leader import RedisLeaderElection
from tests.support.servers import RedisServer

pytestmark = pytest.mark.integration


async def _until(predicate: Any, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_leader_election_single_leader_release_expiry_and_steal(shared_redis: RedisServer) -> None:
    client = aioredis.from_url(shared_redis.url, socket_timeout=0.5)
    key = f"test:leader:{time.monotonic_ns()}"
    a = RedisLeaderElection(client, key, ttl_ms=600)
    b = RedisLeaderElection(client, key, ttl_ms=600)
    ta, tb = asyncio.create_task(a.run()), asyncio.create_task(b.run())
    try:
        await _until(lambda: a.is_leader or b.is_leader, 2)
        await asyncio.sleep(0.5)
        assert a.is_leader != b.is_leader  # exactly one
        leader, other = (a, b) if a.is_leader else (b, a)
        # graceful release: the other takes over within a renew interval
        await leader.release()
        (ta if leader is a else tb).cancel()
        assert await _until(lambda: other.is_leader, 1.0) <= 0.5
        # a stolen lock (another holder wrote the key): the leader steps down at its next renewal
        await client.set(key, b"someone-else", px=5000)
        await _until(lambda: not other.is_leader, 1.0)
    finally:
        for task in (ta, tb):
            task.cancel()
        await asyncio.gather(ta, tb, return_exceptions=True)
        await client.aclose()


async def test_crashed_leader_replaced_within_ttl(shared_redis: RedisServer) -> None:
    client = aioredis.from_url(shared_redis.url, socket_timeout=0.5)
    key = f"test:leader:{time.monotonic_ns()}"
    a = RedisLeaderElection(client, key, ttl_ms=800)
    ta = asyncio.create_task(a.run())
    await _until(lambda: a.is_leader, 2)
    ta.cancel()  # "crash": no release, the lock expires by itself
    await asyncio.gather(ta, return_exceptions=True)
    b = RedisLeaderElection(client, key, ttl_ms=800)
    tb = asyncio.create_task(b.run())
    try:
        assert await _until(lambda: b.is_leader, 2.0) <= 0.8 + 0.3
    finally:
        tb.cancel()
        await asyncio.gather(tb, return_exceptions=True)
        await client.aclose()


async def test_bus_publish_replay_and_subscriber_survives_redis_restart(redis_server: RedisServer) -> None:
    client = aioredis.from_url(redis_server.url, socket_timeout=0.5)
    bus = RedisBus(client, subscriber_url=redis_server.url, maxlen=100)
    got: list[Event] = []

    async def consume() -> None:
        async for event in bus.subscribe():
            got.append(event)

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(bus.connected.wait(), 3)
        first = await bus.publish("recommendations_refresh", "event", {"n": 1})
        await _until(lambda: len(got) == 1, 3)
        assert got[0].id == first and got[0].data == {"n": 1} and got[0].channel == "recommendations_refresh"
        second = await bus.publish("energy_updates", "update", {"gregsEnergy": 1.5})
        assert [e.id for e in await bus.replay(first)] == [second]
        assert [e.id for e in await bus.replay("0", ["recommendations_refresh"])] == [first]
        latest = await bus.latest()
        assert latest["energy_updates"].data == {"gregsEnergy": 1.5}

        redis_server.stop()
        await _until(lambda: not bus.connected.is_set(), 5)
        redis_server.start()
        await asyncio.wait_for(bus.connected.wait(), 10)
        third = await bus.publish("recommendations_refresh", "event", {"n": 3})
        await _until(lambda: any(e.id == third for e in got), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()


async def test_cancelling_the_election_always_stops_it(shared_redis: RedisServer) -> None:
    """Regression: Python 3.11's wait_for (inside redis-py's writes) swallowed a cancel that landed while a
    command opened its connection; the election loop ran on and its owner's shutdown waited forever. Each
    round drops the pool's connections so the cancel lands in that window, at a varying moment."""
    client = aioredis.from_url(shared_redis.url, socket_timeout=0.5)
    stuck = []
    try:
        for i in range(150):
            await client.connection_pool.disconnect()
            election = RedisLeaderElection(client, f"test:leader:cancel:{time.monotonic_ns()}", ttl_ms=300)
            task = asyncio.create_task(election.run())
            for _ in range(i % 12):
                await asyncio.sleep(0)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2.0)
            if not done:
                stuck.append(i)
                task.cancel()
                await asyncio.wait({task}, timeout=2.0)
            assert not election.is_leader
        assert stuck == []
    finally:
        await client.aclose()
