"""The three legacy WebSocket dialects against the real server (in-process uvicorn, embedded bus, fake
clock), with the exact frames of design/reference/frontend-contract-analysis.md §2.2:

* D1 AlchemicalApiClient sends ``{"action":"subscribe","channel":"planetary_hours"}`` and accepts
  ``{channel:"planetary_hours", current_hour:{…}}`` (backendAdapter also reads ``current_hour.gregsEnergy``);
* D2 alchmWs sends nothing and accepts ``{channel:"planetary_hours", data:{planet, start, end, timestamp?}}``,
  ``{channel:"energy_updates", data:{Fire, Water, Air, Earth}}``,
  ``{channel:"celestial_events", data:{type, timestamp, detail?}}``;
* D3 usePlanetaryWebSocket sends
  ``{"type":"subscribe","channel":"planetary-hours","data":{"location":{latitude,longitude}}}`` (or
  ``"data":{}``) and keeps only ``{type:"update", channel:"planetary-hours", data:{planet, isDaytime, start?,
  end?}}`` with a string planet and a boolean isDaytime.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from shared.astro import find_events, planetary_hour

from .conftest import T0, FakeClock, LiveApp, connect, eventually, recv_json, recv_until, snapshots

CLASSICAL = {"Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn"}
UI_EVENT_TYPES = {
    "lunar_phase",
    "planetary_aspect",
    "planetary_transition",
    "eclipse",
    "conjunction",
    "opposition",
    "trine",
    "square",
    "retrograde",
    "default",
}
NY = (40.71, -74.01, "America/New_York")
LONDON_FRAME = '{"type":"subscribe","channel":"planetary-hours","data":{"location":{"latitude":51.5074,"longitude":-0.1278}}}'  # noqa: E501


def iso_ok(value: Any) -> bool:
    return isinstance(value, str) and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


async def advance_through(clock: FakeClock, target: datetime) -> None:
    """Move the fake clock to ``target`` one producer wake-up at a time."""
    while clock.now() < target:
        await eventually(lambda: clock.sleepers, 10, "producer asleep")
        clock.set(min(clock.sleepers[0], target))
        await asyncio.sleep(0.05)


async def test_d2_gets_every_channel_without_subscribing(live: Any) -> None:
    clock = FakeClock(T0)
    app: LiveApp = await live(clock)
    hour = planetary_hour(T0, *NY)
    async with connect(app.url + "/") as ws:  # D2 sends nothing
        frames = await snapshots(ws)
        assert set(frames) == {
            "planetary_hours",
            "energy_updates",
            "celestial_events",
            "recommendations_refresh",
        }
        ph = frames["planetary_hours"]
        assert ph["type"] == "snapshot" and ph["data"]["planet"] in CLASSICAL
        assert ph["data"]["planet"] == hour.planet
        assert iso_ok(ph["data"]["start"]) and iso_ok(ph["data"]["end"]) and iso_ok(ph["data"]["timestamp"])
        energy = frames["energy_updates"]["data"]
        for element in ("Fire", "Water", "Air", "Earth"):
            assert isinstance(energy[element], float)
        events = frames["celestial_events"]["data"]
        assert events["type"] in UI_EVENT_TYPES and iso_ok(events["timestamp"]) and "detail" in events
        for frame in frames.values():
            assert set(frame) >= {"channel", "type", "id", "ts", "data"}

        # At the next hour boundary D2 receives the new hour and (hour change) fresh energy, unprompted.
        await advance_through(clock, hour.end)
        update = await recv_until(ws, lambda f: f["channel"] == "planetary_hours")
        following = planetary_hour(hour.end, *NY)
        assert update["type"] == "update" and update["data"]["planet"] == following.planet
        energy_update = await recv_until(ws, lambda f: f["channel"] == "energy_updates")
        assert energy_update["data"]["reason"] == "hour_change" and "Fire" in energy_update["data"]

        # A celestial event arrives at its time: {channel:"celestial_events", data:{type, timestamp, detail}}
        target = find_events(clock.now(), clock.now() + timedelta(days=2))[0]
        await advance_through(clock, target.at)
        event = await recv_until(ws, lambda f: f["channel"] == "celestial_events")
        assert event["type"] == "event"
        assert event["data"]["type"] in UI_EVENT_TYPES and iso_ok(event["data"]["timestamp"])
        assert event["data"]["detail"] == target.description
        assert event["data"]["timestamp_ms"] == int(target.at.timestamp() * 1000)


async def test_d1_current_hour(live: Any) -> None:
    clock = FakeClock(T0)
    app: LiveApp = await live(clock)
    hour = planetary_hour(T0, *NY)
    async with connect(app.url) as ws:  # ws://host:8001 with no path
        await snapshots(ws)
        await ws.send('{"action":"subscribe","channel":"planetary_hours"}')
        ack = await recv_until(ws, lambda f: f["channel"] == "planetary_hours")
        assert ack["type"] == "ack"
        assert ack["current_hour"]["planet"] == hour.planet
        snap = await recv_until(ws, lambda f: f["channel"] == "planetary_hours")
        assert snap["type"] == "snapshot"
        current = snap["current_hour"]
        assert current["planet"] == hour.planet and isinstance(current["gregsEnergy"], float)
        assert current["isDaytime"] is hour.is_daytime and current["hourNumber"] == hour.hour_number

        await advance_through(clock, hour.end)
        update = await recv_until(ws, lambda f: f["channel"] == "planetary_hours")
        assert update["current_hour"]["planet"] == planetary_hour(hour.end, *NY).planet


async def test_d3_hyphen_alias_location_and_updates(live: Any) -> None:
    clock = FakeClock(T0)
    app: LiveApp = await live(clock)
    london = planetary_hour(T0, 51.51, -0.13, "Etc/GMT")
    async with connect(app.url + "/ws") as ws:
        await snapshots(ws)
        await ws.send(LONDON_FRAME)
        frames = [await recv_json(ws), await recv_json(ws)]
        if any(f["channel"] == "energy_updates" for f in frames):  # the producer's first push raced in
            frames = [f for f in frames if f["channel"] != "energy_updates"] + [await recv_json(ws)]
        kept = [
            f
            for f in frames
            if f.get("type") == "update"
            and f.get("channel") == "planetary-hours"
            and isinstance(f["data"].get("planet"), str)
            and isinstance(f["data"].get("isDaytime"), bool)
        ]
        assert len(kept) == 1, frames  # what D3 keeps: exactly the update, the ack is dropped by it
        data = kept[0]["data"]
        assert data["planet"] == london.planet and data["isDaytime"] is london.is_daytime
        assert iso_ok(data["start"]) and iso_ok(data["end"])
        assert data["location"]["latitude"] == 51.51

        # London's boundary: the update comes named the way this client subscribed.
        await advance_through(clock, london.end + timedelta(seconds=1))
        following = planetary_hour(london.end, 51.51, -0.13, "Etc/GMT")
        update = await recv_until(
            ws,
            lambda f: (
                f["channel"] in ("planetary-hours", "planetary_hours")
                and f["data"]["start"] == following.to_dict()["start"]
            ),
        )
        assert update["channel"] == "planetary-hours" and update["type"] == "update"
        assert update["data"]["planet"] == following.planet


async def test_d3_empty_data_uses_the_default_location(live: Any) -> None:
    app: LiveApp = await live()
    hour = planetary_hour(T0, *NY)
    async with connect(app.url + "/ws") as ws:
        await snapshots(ws)
        await ws.send('{"type":"subscribe","channel":"planetary-hours","data":{}}')
        update = await recv_until(ws, lambda f: f["type"] == "update" and f["channel"] != "energy_updates")
        assert update["channel"] == "planetary-hours" and update["data"]["planet"] == hour.planet
        assert isinstance(update["data"]["isDaytime"], bool)


async def test_load_test_frames_every_message_has_a_channel(live: Any) -> None:
    # cbff:tests/performance/load-test.js / stress-test.yml: subscribe, unsubscribe; checks only `channel`.
    app: LiveApp = await live()
    async with connect(app.url + "/ws") as ws:
        await ws.send(json.dumps({"action": "subscribe", "channel": "planetary_hours"}))
        await ws.send(json.dumps({"action": "unsubscribe", "channel": "planetary_hours"}))
        frames = [await recv_json(ws) for _ in range(4 + 2)]
        frames.append(
            await recv_until(ws, lambda f: f["type"] == "ack" and f["data"]["action"] == "unsubscribe")
        )
        assert all(isinstance(f.get("channel"), str) for f in frames)
        assert frames[-1]["channel"] == "planetary_hours"
        hub = app.hub
        conn = next(iter(hub.connections.values()))
        assert not conn.subs & 1  # no longer subscribed to planetary_hours
