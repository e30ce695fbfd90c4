"""shared.usage: the recorder never blocks, bounds its memory, counts drops, batches, retries, flushes."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi import APIRouter, FastAPI, Request
from httpx import ASGITransport, AsyncClient

from shared.app import create_app
from shared.settings import Settings
from shared.usage import (
    EventIdFactory,
    LocalSink,
    RedisStreamSink,
    UsageRecorder,
    UsageSettings,
    UserHasher,
    entry_event_ids,
    set_local_sink,
    usage_hash_key,
    usage_recording,
)


class CollectingSink:
    name = "test"

    def __init__(self) -> None:
        self.batches: list[Mapping[str, Any]] = []
        self.fail_times = 0
        self.calls = 0
        self.hang = False

    async def send(self, batches: Sequence[Mapping[str, Any]]) -> None:
        self.calls += 1
        if self.hang:
            await asyncio.sleep(3600)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("redis down")
        self.batches.extend(batches)

    @property
    def events(self) -> list[Any]:
        return [ev for b in self.batches for ev in b["ev"]]

    @property
    def ids(self) -> list[str]:
        return [i for b in self.batches for i in entry_event_ids(b["idb"], b["ev"])]


@dataclass(frozen=True)
class FakePrincipal:
    user_id: Any


def _scope(state: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "http", "state": state} if state is not None else {"type": "http"}


def _recorder(sink: Any, **kw: Any) -> UsageRecorder:
    return UsageRecorder("unit", sink=sink, hasher=UserHasher(b"k" * 32), instance="host:1", **kw)


def test_record_is_synchronous_and_constant_time() -> None:
    rec = _recorder(None, buffer_size=1000)
    assert not inspect.iscoroutinefunction(rec.record)
    scope = _scope({"principal": FakePrincipal(uuid.uuid4())})
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        rec.record(scope, "GET", "/x/{id}", 200, 0.0012)
    per_call_us = (time.perf_counter() - t0) / n * 1e6
    # The buffer stays bounded and a call costs about a microsecond (generous bound for a noisy machine).
    assert len(rec._buf) == 1000
    assert per_call_us < 20, per_call_us


async def test_record_never_waits_for_a_hung_sink() -> None:
    sink = CollectingSink()
    sink.hang = True
    rec = _recorder(sink, buffer_size=5000, batch_size=100, flush_interval_s=0.01)
    rec.start()
    await asyncio.sleep(0.05)  # the flush task is now stuck inside send()
    t0 = time.perf_counter()
    for i in range(20_000):
        rec.record(_scope(), "GET", f"/r{i % 3}", 200, 0.001)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0
    assert rec.dropped > 0 and rec.buffered <= 5000 + 100
    await rec.stop(timeout=0.1)
    assert rec.buffered == 0 and rec.dropped_shutdown > 0


def test_full_buffer_drops_oldest_and_counts() -> None:
    rec = _recorder(None, buffer_size=100)
    for i in range(250):
        rec.record(_scope(), "GET", f"/r/{i}", 200, 0.001)
    assert rec.recorded == 250
    assert rec.dropped == 150
    assert len(rec._buf) == 100
    assert rec._buf[0][2] == "/r/150" and rec._buf[-1][2] == "/r/249"  # the newest are kept


async def test_drops_reach_prometheus() -> None:
    from prometheus_client import REGISTRY

    rec = UsageRecorder("unit-drops", sink=None, hasher=UserHasher(b"k"), buffer_size=10)
    for _ in range(25):
        rec.record(_scope(), "GET", "/r", 200, 0.001)
    rec._report()

    def sample(outcome: str) -> float | None:
        return REGISTRY.get_sample_value(
            "alchm_usage_events_total", {"service": "unit-drops", "outcome": outcome}
        )

    assert sample("dropped_full") == 15
    assert sample("recorded") == 25
    assert REGISTRY.get_sample_value("alchm_usage_buffered_events", {"service": "unit-drops"}) == 10


async def test_batches_and_final_flush() -> None:
    sink = CollectingSink()
    rec = _recorder(sink, batch_size=500, flush_interval_s=0.05)
    rec.start()
    for i in range(1234):
        rec.record(_scope(), "POST", "/calc", 200 if i % 10 else 500, 0.002)
    await asyncio.sleep(0.2)
    await rec.stop()
    events = sink.events
    assert len(events) == 1234
    assert all(len(b["ev"]) <= 500 for b in sink.batches)
    assert len(set(sink.ids)) == 1234  # unique ids
    assert all(b["svc"] == "unit" and b["inst"] == "host:1" and b["v"] == "1" for b in sink.batches)
    first = events[0]
    assert tuple(first[1:5]) == ("POST", "/calc", 500, 0.002)
    assert all(uuid.UUID(i).version == 7 for i in sink.ids)
    assert rec.stats()["shipped"] == 1234 and rec.buffered == 0


async def test_full_batch_wakes_the_flusher_before_the_interval() -> None:
    sink = CollectingSink()
    rec = _recorder(sink, batch_size=50, flush_interval_s=30)
    rec.start()
    for _ in range(120):
        rec.record(_scope(), "GET", "/r", 200, 0.001)
    await asyncio.sleep(0.05)
    assert len(sink.events) >= 100  # two full batches went out without waiting 30 s
    await rec.stop()
    assert len(sink.events) == 120


async def test_sink_failure_keeps_events_and_retries_with_backoff() -> None:
    sink = CollectingSink()
    sink.fail_times = 3
    rec = _recorder(sink, batch_size=100, flush_interval_s=0.01, max_backoff_s=0.05)
    rec.start()
    for _ in range(250):
        rec.record(_scope(), "GET", "/r", 200, 0.001)
    for _ in range(100):
        await asyncio.sleep(0.02)
        if len(sink.events) == 250:
            break
    await rec.stop()
    assert rec.failures == 3
    assert len(sink.events) == 250
    assert len(set(sink.ids)) == 250  # a retried batch keeps its ids


async def test_shutdown_with_sink_down_is_bounded_and_counted() -> None:
    sink = CollectingSink()
    sink.fail_times = 10**9
    rec = _recorder(sink, batch_size=100, flush_interval_s=0.01, max_backoff_s=0.05)
    rec.start()
    for _ in range(300):
        rec.record(_scope(), "GET", "/r", 200, 0.001)
    await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    await rec.stop(timeout=0.2)
    assert time.perf_counter() - t0 < 2.0
    assert rec.dropped_shutdown == 300 and rec.buffered == 0


def test_event_ids_are_uuid7_unique_and_time_ordered() -> None:
    factory = EventIdFactory()
    ids = [factory.new(1_732_000_000_000 + i // 100) for i in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    parsed = uuid.UUID(ids[0])
    assert len(ids[0]) == 32 and parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert int(parsed.hex[:12], 16) == 1_732_000_000_000
    assert all(uuid.UUID(i).version == 7 for i in ids[::997])
    other = EventIdFactory()  # another process: different random bits, counter and node
    assert other.new(1_732_000_000_000) not in set(ids)


def test_event_id_counter_wrap_keeps_the_uuid_variant() -> None:
    factory = EventIdFactory()
    factory._next |= ((1 << 30) - 1) << 32  # counter at its maximum
    before, after = factory.new(5), factory.new(5)
    assert int(before[16:24], 16) & 0x3FFFFFFF == 0x3FFFFFFF and int(after[16:24], 16) & 0x3FFFFFFF == 0
    assert uuid.UUID(after).variant == uuid.RFC_4122 and uuid.UUID(after).version == 7


def test_batch_ids_are_derived_from_the_reserved_base() -> None:
    factory = EventIdFactory()
    base = factory.reserve(3)
    derived = [EventIdFactory.derive(base, i, 1000 + 250 * i) for i in range(3)]
    assert factory.new(1500) > derived[-1]  # the next id continues the counter
    assert derived == entry_event_ids(f"{base:020x}", [[1.0], [1.25], [1.5]])
    assert len(set(derived)) == 3


def test_user_is_hashed_from_either_state_key() -> None:
    sink = CollectingSink()
    rec = _recorder(sink)
    uid = uuid.uuid4()
    rec.record(_scope({"principal": FakePrincipal(uid)}), "GET", "/a", 200, 0.001)
    rec.record(_scope({"alchm_principal": FakePrincipal(uid)}), "GET", "/a", 200, 0.001)
    rec.record(_scope({"principal": FakePrincipal(None)}), "GET", "/a", 200, 0.001)
    rec.record(_scope(), "GET", "/a", 200, 0.001)
    batch = rec._take_batch()
    assert batch is not None
    hashes = [e[5] for e in batch["ev"]]
    assert hashes[0] == hashes[1] and hashes[0] is not None and len(hashes[0]) == 24
    assert str(uid) not in orjson.dumps(batch).decode()
    assert hashes[2] is None and hashes[3] is None
    assert UserHasher(b"other-key")(uid) != hashes[0]


def test_hash_key_prefers_the_dedicated_salt() -> None:
    settings = Settings(env="test", jwt_secret="x" * 40)
    derived = usage_hash_key(settings, UsageSettings())
    assert derived != b"x" * 40 and len(derived) == 32
    assert usage_hash_key(settings, UsageSettings(salt="pepper")) == b"pepper"


def test_recommendations_are_normalised() -> None:
    rec = _recorder(None)
    rec.record(_scope({"recommendation_ids": ["r1", 2, "r3"]}), "POST", "/recommend/recipes", 200, 0.01)
    rec.record(
        _scope(
            {
                "recommendation_ids": [
                    {"id": "a", "score": 0.9, "cuisine": "thai"},
                    {"id": "b", "score": 0.5},
                ],
                "usage_extra": {"recommendation_id": "list-1"},
            }
        ),
        "POST",
        "/recommend/recipes",
        200,
        0.01,
    )
    batch = rec._take_batch()
    assert batch is not None
    plain, rich = batch["ev"]
    assert plain[6] == ["r1", "2", "r3"] and plain[7] is None
    assert rich[6] == ["a", "b"]
    assert rich[7] == {
        "recommendation_id": "list-1",
        "rec_scores": [0.9, 0.5],
        "rec_cuisines": ["thai", None],
    }


class FakePipeline:
    def __init__(self, owner: FakeRedis) -> None:
        self.owner = owner
        self.commands: list[tuple[str, dict[str, Any], int, bool]] = []

    async def __aenter__(self) -> FakePipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def xadd(self, name: str, fields: dict[str, Any], maxlen: int, approximate: bool) -> None:
        self.commands.append((name, fields, maxlen, approximate))

    async def execute(self) -> list[str]:
        self.owner.entries.extend(self.commands)
        return ["0-1"] * len(self.commands)


class FakeRedis:
    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, Any], int, bool]] = []

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        assert transaction is False
        return FakePipeline(self)


async def test_redis_sink_writes_one_entry_per_batch_with_maxlen() -> None:
    redis = FakeRedis()
    sink = RedisStreamSink(redis, "alchm:usage", 12345)
    await sink.send(
        [
            {"svc": "s", "inst": "h:1", "idb": "0" * 20, "ev": [[1]]},
            {"svc": "s", "inst": "h:1", "idb": "1" * 20, "ev": [[2], [3]]},
        ]
    )
    assert [(n, m, a) for n, _f, m, a in redis.entries] == [("alchm:usage", 12345, True)] * 2
    assert orjson.loads(redis.entries[1][1]["ev"]) == [[2], [3]]
    assert redis.entries[0][1]["v"] == "1" and redis.entries[1][1]["idb"] == "1" * 20


def _app_with_recording(redis: Any = None, usage: UsageSettings | None = None) -> FastAPI:
    router = APIRouter()

    @router.get("/items/{item_id}", tags=["t"])
    async def item(item_id: int, request: Request) -> dict[str, int]:
        request.state.recommendation_ids = [f"r{item_id}"]
        return {"id": item_id}

    from contextlib import asynccontextmanager

    settings = Settings(env="test", jwt_secret="s" * 40)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        async with usage_recording(app, settings, usage=usage, redis=redis):
            yield

    return create_app("rec-test", routers=[router], settings=settings, lifespan=lifespan)


async def test_lifespan_helper_records_through_the_middleware() -> None:
    from asgi_lifespan import LifespanManager

    redis = FakeRedis()
    app = _app_with_recording(redis, UsageSettings(flush_interval_s=0.02))
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        assert app.state.usage_recorder is not None
        for i in range(5):
            assert (await c.get(f"/items/{i}")).status_code == 200
        await c.get("/health")  # probes are not usage
        await c.get("/nope")
    events = [ev for _n, f, _m, _a in redis.entries for ev in orjson.loads(f["ev"])]
    routes = sorted((e[1], e[2], e[3]) for e in events)
    assert routes == [("GET", "/items/{item_id}", 200)] * 5 + [("GET", "unmatched", 404)]
    assert sorted(e[6][0] for e in events if e[6]) == [f"r{i}" for i in range(5)]
    assert all(e[7]["request_id"] for e in events if e[6])
    assert app.state.usage_recorder is None


async def test_disabled_recording_sets_no_recorder() -> None:
    from asgi_lifespan import LifespanManager

    app = _app_with_recording(FakeRedis(), UsageSettings(enabled=False))
    async with LifespanManager(app):
        assert app.state.usage_recorder is None


async def test_embedded_mode_without_local_sink_buffers_then_with_sink_ships() -> None:
    set_local_sink(None)
    rec = _recorder(LocalSink(), batch_size=10, flush_interval_s=0.01)
    rec.start()
    for _ in range(30):
        rec.record(_scope(), "GET", "/r", 200, 0.001)
    await asyncio.sleep(0.05)
    assert rec.shipped == 0 and rec.buffered == 30  # nobody to take them: they wait (bounded)
    received: list[Mapping[str, Any]] = []

    async def sink(batches: Sequence[Mapping[str, Any]]) -> None:
        received.extend(batches)

    set_local_sink(sink)
    try:
        await asyncio.sleep(0.1)
        await rec.stop()
    finally:
        set_local_sink(None)
    assert sum(len(b["ev"]) for b in received) == 30


def test_odd_state_never_breaks_recording() -> None:
    rec = _recorder(None)
    from shared.logging import request_id_var

    token = request_id_var.set("rid")
    try:
        rec.record(
            _scope({"recommendation_ids": ["a"], "usage_extra": ["not", "a", "dict"]}), "GET", "/r", 200, 0.1
        )
    finally:
        request_id_var.reset(token)
    assert rec.recorded == 1 and rec._buf[0][5:] == (None, None, None)


@pytest.mark.parametrize("bad", [object(), 5, "x"])
def test_odd_recommendation_values_never_break_recording(bad: Any) -> None:
    rec = _recorder(None)
    rec.record(_scope({"recommendation_ids": bad}), "GET", "/r", 200, 0.001)
    batch = rec._take_batch()
    assert batch is not None and len(batch["ev"]) == 1
