"""The producer with a fake clock: hour boundaries published at the computed instant, celestial events at
their exact time, energy pushes by threshold or hour change, and no double publication across leaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from services.realtime.config import RealtimeSettings
from services.realtime.locations import LocationRegistry
from services.realtime.producer import Deduper, Producer
from services.realtime.protocol import Location
from shared.astro import find_events, planetary_hour
from shared.bus import InProcessBus
from shared.leader import LocalLeadership

from .conftest import T0, FakeClock, eventually

NYC = Location.of(40.7128, -74.0060, "America/New_York")
LONDON = Location.of(51.5074, -0.1278, "Europe/London")


def settings(**overrides: Any) -> RealtimeSettings:
    base: dict[str, Any] = {"producer_poll_s": 3600, "energy_threshold": 1e9, "catch_up_s": 120}
    base.update(overrides)
    return RealtimeSettings(**base)


class Rig:
    def __init__(
        self,
        start: Any,
        cfg: RealtimeSettings,
        deduper: Deduper | None = None,
        bus: InProcessBus | None = None,
    ) -> None:
        self.clock = FakeClock(start)
        self.bus = bus or InProcessBus()
        self.locations = LocationRegistry(NYC)
        self.producer = Producer(
            self.bus, self.clock, LocalLeadership(), self.locations, deduper or Deduper(), cfg, NYC
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.producer.run())

    async def idle(self) -> None:
        """Wait until the producer sleeps on the fake clock."""
        await eventually(lambda: self.clock.sleepers, 10, "producer asleep")

    async def advance(self, when: Any) -> None:
        await self.idle()
        self.clock.set(when)
        await asyncio.sleep(0.05)
        await self.idle()

    def published(self, channel: str) -> list[tuple[str, str, Any]]:
        return [p for p in self.producer.published if p[0] == channel]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def rigs() -> AsyncIterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(*args: Any, **kwargs: Any) -> Rig:
        rig = Rig(*args, **kwargs)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.stop()


async def test_sleeps_until_the_next_boundary_and_publishes_at_it(rigs: Callable[..., Rig]) -> None:
    rig = rigs(T0, settings())
    rig.start()
    await rig.idle()
    hour = planetary_hour(T0, NYC.latitude, NYC.longitude, NYC.timezone)
    # The producer sleeps exactly until the computed boundary (the earliest of hour end / next minute tick /
    # next event): the hour end is among its wake-ups and nothing is published before it.
    assert not rig.published("planetary_hours")
    while rig.clock.now() < hour.end:
        await rig.advance(min(rig.clock.sleepers[0], hour.end))
    updates = rig.published("planetary_hours")
    assert len(updates) == 1
    _, event_id, published_at = updates[0]
    assert abs((published_at - hour.end).total_seconds()) < 1.0
    event = (await rig.bus.replay("0-0", ["planetary_hours"]))[0]
    following = planetary_hour(hour.end, NYC.latitude, NYC.longitude, NYC.timezone)
    assert event.id == event_id and event.type == "update"
    assert event.data["planet"] == following.planet and event.data["start"] == following.to_dict()["start"]
    assert event.data["location"]["key"] == NYC.key
    assert set(event.data) >= {"planet", "isDaytime", "start", "end", "hourNumber", "dayRuler"}


async def test_each_active_location_gets_its_own_boundary(rigs: Callable[..., Rig]) -> None:
    rig = rigs(T0, settings())
    rig.locations.acquire(LONDON)
    rig.start()
    await rig.idle()
    ny = planetary_hour(T0, NYC.latitude, NYC.longitude, NYC.timezone)
    ldn = planetary_hour(T0, LONDON.latitude, LONDON.longitude, LONDON.timezone)
    first, second = sorted([(ny.end, NYC.key), (ldn.end, LONDON.key)])
    assert rig.clock.sleepers[0] <= first[0]
    end = second[0] + timedelta(seconds=1)
    while rig.clock.now() < end:
        await rig.advance(min(rig.clock.sleepers[0], end))
    events = await rig.bus.replay("0-0", ["planetary_hours"])
    keys = [e.data["location"]["key"] for e in events]
    assert keys == [first[1], second[1]]
    for (_, _, at), boundary in zip(rig.published("planetary_hours"), (first[0], second[0]), strict=True):
        assert abs((at - boundary).total_seconds()) < 1.0


async def test_celestial_event_published_at_its_time_once(rigs: Callable[..., Rig]) -> None:
    upcoming = find_events(T0, T0 + timedelta(days=2))
    target = upcoming[0]
    start = target.at - timedelta(minutes=2)
    deduper = Deduper()
    rig = rigs(start, settings(), deduper)
    rig.start()
    await rig.idle()
    while rig.clock.now() < target.at:
        await rig.advance(min(rig.clock.sleepers[0], target.at))
    published = rig.published("celestial_events")
    assert len(published) == 1 and published[0][2] == target.at
    event = (await rig.bus.replay("0-0", ["celestial_events"]))[0]
    assert event.data["id"] == target.id
    assert event.data["timestamp"].startswith(target.at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert event.data["timestamp_ms"] == int(target.at.timestamp() * 1000)
    assert event.data["type"] in {
        "lunar_phase",
        "planetary_aspect",
        "planetary_transition",
        "conjunction",
        "opposition",
        "trine",
        "square",
        "retrograde",
        "default",
    }
    assert event.data["detail"] == target.description

    # A new leader (fresh producer, same dedupe store) catching up right after does not publish it again.
    await rig.stop()
    rig2 = rigs(target.at + timedelta(seconds=5), settings(), deduper, rig.bus)
    rig2.start()
    await rig2.idle()
    assert rig2.published("celestial_events") == []


async def test_new_leader_catches_up_a_missed_boundary_but_never_twice(rigs: Callable[..., Rig]) -> None:
    hour = planetary_hour(T0, NYC.latitude, NYC.longitude, NYC.timezone)
    deduper = Deduper()
    bus = InProcessBus()
    # The old leader died just before the boundary: the new one starts 3 s after it and publishes it.
    rig = rigs(hour.end + timedelta(seconds=3), settings(), deduper, bus)
    rig.start()
    await rig.idle()
    assert len(rig.published("planetary_hours")) == 1
    await rig.stop()
    # Another takeover a moment later: already claimed, not published again.
    rig2 = rigs(hour.end + timedelta(seconds=6), settings(), deduper, bus)
    rig2.start()
    await rig2.idle()
    assert rig2.published("planetary_hours") == []
    assert len(await bus.replay("0-0", ["planetary_hours"])) == 1


async def test_energy_initial_threshold_and_hour_change(rigs: Callable[..., Rig]) -> None:
    hour = planetary_hour(T0, NYC.latitude, NYC.longitude, NYC.timezone)
    start = hour.end - timedelta(minutes=3, seconds=30)
    rig = rigs(start, settings(energy_threshold=1e9))
    rig.start()
    await rig.idle()
    energy = rig.published("energy_updates")
    assert len(energy) == 1  # "initial": nothing on the bus yet
    first = (await rig.bus.latest(["energy_updates"]))["energy_updates"]
    assert first.data["reason"] == "initial"
    assert {
        "Fire",
        "Water",
        "Earth",
        "Air",
        "heat",
        "entropy",
        "reactivity",
        "gregsEnergy",
        "kalchm",
        "monica",
        "esms",
    } <= set(first.data)
    # Minute ticks with a huge threshold: nothing new until the hour changes.
    while rig.clock.now() < hour.end:
        await rig.advance(min(rig.clock.sleepers[0], hour.end))
    energy = rig.published("energy_updates")
    assert len(energy) == 2
    last = (await rig.bus.latest(["energy_updates"]))["energy_updates"]
    assert last.data["reason"] == "hour_change"
    assert abs((energy[1][2] - hour.end).total_seconds()) < 1.0


async def test_energy_threshold_zero_pushes_every_minute(rigs: Callable[..., Rig]) -> None:
    rig = rigs(T0, settings(energy_threshold=0.0))
    rig.start()
    await rig.idle()
    for minute in range(1, 4):
        await rig.advance(T0 + timedelta(minutes=minute))
    reasons = [e.data["reason"] for e in await rig.bus.replay("0-0", ["energy_updates"])]
    assert reasons[0] == "initial" and reasons.count("threshold") == 3


async def test_energy_primed_from_bus_does_not_republish(rigs: Callable[..., Rig]) -> None:
    bus = InProcessBus()
    rig = rigs(T0, settings(energy_threshold=1.0), bus=bus)
    rig.start()
    await rig.idle()
    await rig.stop()
    rig2 = rigs(T0 + timedelta(seconds=20), settings(energy_threshold=1.0), bus=bus)
    rig2.start()
    await rig2.idle()
    assert rig2.published("energy_updates") == []


async def test_deduper_claims_once() -> None:
    deduper = Deduper()
    assert await deduper.claim("a") and not await deduper.claim("a")
    await deduper.unclaim("a")
    assert await deduper.claim("a")
