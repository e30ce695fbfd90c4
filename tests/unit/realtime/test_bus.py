"""The in-process bus (embedded mode): ids, fan-out, replay, latest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from shared.bus import Bus, InProcessBus, build_bus, parse_event_id
from shared.settings import Settings


def test_parse_event_id() -> None:
    assert parse_event_id("1700000000000-3") == (1700000000000, 3)
    assert parse_event_id("1700000000000") == (1700000000000, 0)
    for bad in ("", "abc", "1-2-3", "-1", "1-"):
        assert parse_event_id(bad) is None


def test_build_bus_without_redis_is_in_process() -> None:
    bus = build_bus(Settings(env="test", redis_url=""))
    assert isinstance(bus, InProcessBus) and isinstance(bus, Bus)


async def test_publish_subscribe_replay_latest() -> None:
    bus = InProcessBus(maxlen=5)
    received: list[str] = []

    async def consume() -> None:
        async for event in bus.subscribe():
            received.append(event.id)
            if len(received) == 7:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    ids = []
    for i in range(7):
        channel = "energy_updates" if i % 2 else "recommendations_refresh"
        ids.append(await bus.publish(channel, "update", {"i": i}, ts=datetime(2025, 1, 1, tzinfo=UTC)))
    await asyncio.wait_for(task, 2)
    assert received == ids
    orders = [parse_event_id(i) for i in ids]
    assert orders == sorted(orders) and len(set(ids)) == 7  # strictly increasing

    # replay is exclusive and bounded by the window (maxlen 5 keeps ids[2:])
    replay = await bus.replay(ids[3])
    assert [e.id for e in replay] == ids[4:]
    assert [e.data["i"] for e in await bus.replay(ids[3], ["energy_updates"])] == [5]
    assert await bus.first_id() == ids[2]
    latest = await bus.latest()
    assert latest["energy_updates"].data == {"i": 5}
    assert latest["recommendations_refresh"].data == {"i": 6}
    assert latest["energy_updates"].ts == "2025-01-01T00:00:00.000Z"


async def test_publish_validates() -> None:
    bus = InProcessBus()
    with pytest.raises(ValueError):
        await bus.publish("", "event", {})
    with pytest.raises(ValueError):
        await bus.publish("recommendations_refresh", "snapshot", {})
    with pytest.raises(ValueError):
        await bus.replay("nope")
