"""recommendations_refresh: published once per planetary-hour change, by one instance only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.kitchen_intelligence.inputs import Location
from services.kitchen_intelligence.refresh import HourRefresher, refresh_payload
from shared.astro import planetary_hour
from shared.bus import RECOMMENDATIONS_REFRESH, InProcessBus

NYC = Location(40.7128, -74.006, "America/New_York")


class FakeRedis:
    """``SET key value NX EX ttl`` semantics shared by several refreshers (one per instance)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.down = False

    async def set(self, key: str, value: str, nx: bool = False, ex: int | None = None) -> bool | None:
        if self.down:
            raise ConnectionError("redis is down")
        if nx and key in self.data:
            return None
        self.data[key] = value
        return True


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _sleeper(clock: Clock, stop_after: int) -> Any:
    calls = {"n": 0}

    async def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] > stop_after:
            raise asyncio.CancelledError
        clock.now += timedelta(seconds=seconds)

    return sleep


async def test_publishes_at_each_hour_change() -> None:
    bus = InProcessBus()
    clock = Clock(datetime(2024, 6, 1, 15, 0, tzinfo=UTC))
    refresher = HourRefresher(bus, NYC, None, clock=clock, sleep=_sleeper(clock, 3))
    try:
        await refresher.run()
    except asyncio.CancelledError:
        pass
    assert len(refresher.published) == 3
    events = await bus.replay("0-0", [RECOMMENDATIONS_REFRESH])
    assert [e.channel for e in events] == [RECOMMENDATIONS_REFRESH] * 3
    starts = [e.data["start"] for e in events]
    assert len(set(starts)) == 3
    for event in events:
        data = event.data
        hour = planetary_hour(
            datetime.fromisoformat(data["start"].replace("Z", "+00:00")) + timedelta(seconds=1),
            NYC.latitude,
            NYC.longitude,
            NYC.tz,
        )
        assert data["planet"] == hour.planet and data["reason"] == "planetary_hour_change"
    await bus.close()


async def test_only_one_instance_publishes_an_hour() -> None:
    bus = InProcessBus()
    redis = FakeRedis()
    at = datetime(2024, 6, 1, 15, 0, tzinfo=UTC)
    hour = planetary_hour(at, NYC.latitude, NYC.longitude, NYC.tz)
    a = HourRefresher(bus, NYC, redis, clock=lambda: at)
    b = HourRefresher(bus, NYC, redis, clock=lambda: at)
    b.identity = "other:1"
    results = await asyncio.gather(a.publish(hour), b.publish(hour))
    assert sum(r is not None for r in results) == 1
    assert len(await bus.replay("0-0")) == 1
    redis.down = True
    nxt = planetary_hour(hour.end + timedelta(seconds=1), NYC.latitude, NYC.longitude, NYC.tz)
    assert await a.publish(nxt) is None  # Redis down: skip rather than risk duplicates
    await bus.close()


async def test_payload_shape() -> None:
    hour = planetary_hour(datetime(2024, 6, 1, 15, tzinfo=UTC), NYC.latitude, NYC.longitude, NYC.tz)
    data = refresh_payload(hour, NYC)
    assert set(data) >= {
        "reason",
        "planet",
        "hourNumber",
        "isDaytime",
        "start",
        "end",
        "dayRuler",
        "location",
    }
    assert data["start"].endswith("Z")


async def test_failures_do_not_kill_the_task() -> None:
    class BrokenBus(InProcessBus):
        async def publish(self, *args: Any, **kwargs: Any) -> str:
            raise ConnectionError("bus down")

    clock = Clock(datetime(2024, 6, 1, 15, 0, tzinfo=UTC))
    refresher = HourRefresher(BrokenBus(), NYC, None, clock=clock, sleep=_sleeper(clock, 2))
    try:
        await refresher.run()
    except asyncio.CancelledError:
        pass
    assert refresher.published == []


async def test_start_and_stop() -> None:
    refresher = HourRefresher(InProcessBus(), NYC, None)
    refresher.start()
    await asyncio.sleep(0)
    await refresher.stop()
