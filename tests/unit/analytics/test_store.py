"""The analytics store on SQLite: stream decoding, idempotent inserts, retention cleanup."""

from __future__ import annotations

from datetime import timedelta

import orjson
from sqlalchemy import func, select

from services.analytics.store import AnalyticsStore, decode_stream_batch
from shared.db.models import RecommendationFeedback, RecommendationServed, UsageEvent
from shared.usage import EventIdFactory, UsageRecorder, UserHasher, entry_event_ids
from tests.unit.analytics.conftest import NOW, ago, make_usage_rows, stream_entry


async def _count(store: AnalyticsStore, model: type) -> int:
    async with store.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def _ev(minutes_ago: float = 1, **kw: object) -> list[object]:
    event = {
        "ts": ago(minutes_ago),
        "method": "GET",
        "route": "/a",
        "status": 200,
        "elapsed": 0.0015,
        "user_hash": None,
        "rec": None,
        "extra": None,
    }
    event.update(kw)
    return list(event.values())


def test_decode_derives_ids_and_counts_malformed_events() -> None:
    entry = stream_entry(
        [_ev(), ["short"], _ev(ts="not-a-time"), _ev(status="x"), _ev(elapsed=float("nan")), _ev(2)]
    )
    batch = decode_stream_batch(entry)
    assert batch.malformed == 4 and len(batch.usage) == 2
    base = int(entry[b"idb"], 16)
    expected = [
        EventIdFactory.derive(base, 0, int(ago(1) * 1000)),
        EventIdFactory.derive(base, 5, int(ago(2) * 1000)),
    ]
    assert [r["event_id"] for r in batch.usage] == expected
    row = batch.usage[0]
    assert row["ts"] == NOW - timedelta(minutes=1) and row["service"] == "svc" and row["latency_ms"] == 1.5
    assert decode_stream_batch({"v": "2", "idb": "0", "ev": "[]"}).malformed == 1
    assert decode_stream_batch({"v": "1", "svc": "s", "ev": "[]"}).malformed == 1  # no id base
    assert decode_stream_batch({"v": "1", "svc": "s", "idb": "00", "ev": "{not json"}).malformed == 1
    assert decode_stream_batch({"v": "1", "svc": "s", "idb": "zz", "ev": "[]"}).malformed == 1


async def test_ingest_is_idempotent_by_event_id(store: AnalyticsStore) -> None:
    first_entry = stream_entry([_ev(i % 50) for i in range(700)])
    second_entry = stream_entry([_ev(i % 50) for i in range(500)])
    first = await store.ingest_entries([first_entry, second_entry])
    again = await store.ingest_entries([first_entry, second_entry])  # a redelivery
    mixed = await store.ingest_entries([second_entry, stream_entry([_ev(), _ev()])])
    assert (first.inserted, first.duplicates) == (1200, 0)
    assert (again.inserted, again.duplicates) == (0, 1200)
    assert (mixed.inserted, mixed.duplicates) == (2, 500)
    assert await _count(store, UsageEvent) == 1202


async def test_served_lists_are_derived_from_usage_with_recommendations(store: AnalyticsStore) -> None:
    named = _ev(
        user_hash="uh",
        rec=["r1", "r3", "r9"],
        extra={"request_id": "rid-1", "rec_scores": [0.9, 0.8, 0.1], "recommendation_id": "list-1"},
    )
    anonymous = _ev(rec=["r2"])
    entry = stream_entry([named, anonymous], "kitchen-intelligence")
    await store.ingest_entries([entry])
    await store.ingest_entries([entry])
    async with store.db.session() as s:
        served = (
            (await s.execute(select(RecommendationServed).order_by(RecommendationServed.id))).scalars().all()
        )
    assert len(served) == 2
    row = served[0]
    assert row.recommendation_id == "list-1" and row.request_id == "rid-1" and row.user_hash == "uh"
    assert row.recipe_ids == ["r1", "r3", "r9"]
    assert row.context == {
        "route": "/a",
        "scores": [0.9, 0.8, 0.1],
        "cuisines": ["thai", "mexican", None],
    }
    assert served[1].recommendation_id == entry_event_ids(entry[b"idb"], orjson.loads(entry[b"ev"]))[1]
    assert served[1].context == {"route": "/a", "cuisines": ["thai"]}


async def test_local_sink_path_from_the_recorder(store: AnalyticsStore) -> None:
    recorder = UsageRecorder("embedded", sink=None, hasher=UserHasher(b"k"), instance="h:2")
    for i in range(30):
        state = {"recommendation_ids": ["r1"]} if i % 10 == 0 else {}
        recorder.record({"type": "http", "state": state}, "GET", "/x", 200, 0.001)
    batch = recorder._take_batch()
    assert batch is not None
    await store.ingest_batches([batch])
    await store.ingest_batches([batch])
    assert await _count(store, UsageEvent) == 30
    assert await _count(store, RecommendationServed) == 3


async def test_cleanup_deletes_only_rows_older_than_retention(store: AnalyticsStore) -> None:
    old = make_usage_rows(250, seed=1, now=NOW - timedelta(days=40), span_s=86400)
    fresh = make_usage_rows(120, seed=2, now=NOW, span_s=86400)
    async with store.db.session() as s:
        await store.insert_usage(s, old + fresh)
        s.add(RecommendationFeedback(recipe_id="r1", action="clicked", ts=NOW - timedelta(days=31)))
        s.add(RecommendationFeedback(recipe_id="r1", action="clicked", ts=NOW - timedelta(days=29)))
        await s.commit()
    await store.ingest_entries([stream_entry([_ev(60 * 24 * 35, rec=["r1"])])])  # 35 days old
    deleted = await store.cleanup(30, batch=100, now=NOW)
    assert deleted == {"usage_events": 251, "recommendations_served": 1, "recommendation_feedback": 1}
    assert await _count(store, UsageEvent) == 120
    assert await _count(store, RecommendationFeedback) == 1
    assert await store.cleanup(30, now=NOW) == {
        "usage_events": 0,
        "recommendations_served": 0,
        "recommendation_feedback": 0,
    }
