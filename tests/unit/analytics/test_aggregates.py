"""Aggregation math: percentiles, evenness, and the usage / performance / recommendation reports on
hand-made data, checked against counts computed independently here."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.aggregates import (
    bucket_starts,
    percentile_cont,
    performance_summary,
    recommendation_summary,
    shannon_evenness,
    usage_summary,
)
from services.analytics.store import AnalyticsStore
from shared.db.models import RecommendationFeedback
from tests.unit.analytics.conftest import NOW, ago, make_usage_rows, stream_entry

# --------------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------------


def test_percentile_cont_small_cases() -> None:
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7.0], 0.99) == 7.0
    assert percentile_cont([1.0, 2.0], 0.5) == 1.5
    assert percentile_cont([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)
    with pytest.raises(ValueError):
        percentile_cont([1.0], 1.5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 1.0]),
)
def test_percentile_cont_matches_numpy_linear(values: list[float], p: float) -> None:
    ours = percentile_cont(sorted(values), p)
    assert ours == pytest.approx(float(np.percentile(values, p * 100, method="linear")), rel=1e-9, abs=1e-9)


def test_percentile_cont_matches_statistics_inclusive() -> None:
    values = sorted(float(v) for v in [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert percentile_cont(values, 0.5) == pytest.approx(cuts[49])
    assert percentile_cont(values, 0.95) == pytest.approx(cuts[94])
    assert percentile_cont(values, 0.99) == pytest.approx(cuts[98])


def test_shannon_evenness() -> None:
    assert shannon_evenness([]) is None
    assert shannon_evenness([10]) is None
    assert shannon_evenness([5, 5, 5, 5]) == pytest.approx(1.0)
    skewed = [97, 1, 1, 1]
    p = [c / 100 for c in skewed]
    expected = -sum(x * math.log(x) for x in p) / math.log(4)
    assert shannon_evenness(skewed) == pytest.approx(expected)
    assert shannon_evenness([3, 0, 3]) == pytest.approx(1.0)  # zero counts are not categories


def test_bucket_starts_are_epoch_aligned() -> None:
    starts = bucket_starts(NOW - timedelta(hours=1), NOW, 300)
    assert len(starts) == 13 and all(s % 300 == 0 for s in starts)
    assert starts[-1] == int(NOW.timestamp())


# --------------------------------------------------------------------------------------------------
# Reports on SQLite (the PostgreSQL twin is in tests/integration/test_analytics_pg.py)
# --------------------------------------------------------------------------------------------------


async def _load(store: AnalyticsStore, rows: list[dict[str, Any]]) -> None:
    async with store.db.session() as s:
        await store.insert_usage(s, rows)
        await s.commit()


async def test_usage_summary_matches_independent_counts(store: AnalyticsStore) -> None:
    rows = make_usage_rows(3000)
    await _load(store, rows)
    log_row = store.log_row(level="error", message="boom", data=None, client_ts=None, user_hash=None, now=NOW)
    await _load(store, [log_row])  # client logs are not usage
    in_24h = [r for r in rows if r["ts"] >= NOW - timedelta(hours=24)]
    in_1h = [r for r in rows if r["ts"] >= NOW - timedelta(hours=1)]

    async with store.db.session() as s:
        by_service = await usage_summary(s, window="24h", group_by="service", now=NOW)
        by_endpoint = await usage_summary(s, window="1h", group_by="endpoint", now=NOW)
        by_status = await usage_summary(s, window="24h", group_by="status", interval="1h", now=NOW)

    assert by_service["total"] == len(in_24h) == 3000
    expected = Counter(r["service"] for r in in_24h)
    assert {g["key"]: g["count"] for g in by_service["groups"]} == dict(expected)
    core = next(g for g in by_service["groups"] if g["key"] == "alchemical-core")
    core_rows = [r for r in in_24h if r["service"] == "alchemical-core"]
    assert core["server_errors"] == sum(r["status"] >= 500 for r in core_rows)
    assert core["client_errors"] == sum(400 <= r["status"] < 500 for r in core_rows)
    assert core["error_rate"] == round(core["server_errors"] / len(core_rows), 4)
    assert core["mean_latency_ms"] == pytest.approx(
        statistics.fmean(r["latency_ms"] for r in core_rows), abs=1e-3
    )
    assert core["users"] == len({r["user_hash"] for r in core_rows if r["user_hash"]})
    counts = [g["count"] for g in by_service["groups"]]
    assert counts == sorted(counts, reverse=True)

    assert by_endpoint["total"] == len(in_1h)
    expected_ep = Counter(f"{r['service']} {r['method']} {r['route']}" for r in in_1h)
    assert {g["key"]: g["count"] for g in by_endpoint["groups"]} == dict(expected_ep)

    assert {g["key"]: g["count"] for g in by_status["groups"]} == {
        str(k): v for k, v in Counter(r["status"] for r in in_24h).items()
    }
    assert {g["class"] for g in by_status["groups"]} == {"2xx", "4xx", "5xx"}
    series = by_status["series"]
    assert len(series) == 25 and sum(p["count"] for p in series) == len(in_24h)
    expected_series = Counter(int(r["ts"].timestamp()) // 3600 * 3600 for r in in_24h)
    from datetime import datetime

    got = {
        int(datetime.fromisoformat(p["ts"].replace("Z", "+00:00")).timestamp()): p["count"] for p in series
    }
    assert {k: v for k, v in got.items() if v} == dict(expected_series)


async def test_usage_service_filter_and_empty_window(store: AnalyticsStore) -> None:
    await _load(store, make_usage_rows(500))
    async with store.db.session() as s:
        rune = await usage_summary(s, window="24h", service="rune", now=NOW)
        empty = await usage_summary(s, window="1h", now=NOW + timedelta(days=3))
    assert {g["key"] for g in rune["groups"]} == {"rune"}
    assert empty["total"] == 0 and empty["groups"] == []


async def test_performance_percentiles_match_independent_computation(store: AnalyticsStore) -> None:
    rows = make_usage_rows(2500, seed=11)
    await _load(store, rows)
    async with store.db.session() as s:
        perf = await performance_summary(s, window="24h", now=NOW)
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(f"{r['service']} {r['method']} {r['route']}", []).append(r["latency_ms"])
    assert {e["key"] for e in perf["endpoints"]} == set(groups)
    for e in perf["endpoints"]:
        values = groups[e["key"]]
        assert e["count"] == len(values)
        for name, p in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
            assert e[name] == pytest.approx(float(np.percentile(values, p)), abs=1e-3), (e["key"], name)
        assert e["max_ms"] == pytest.approx(max(values), abs=1e-3)
        assert e["mean_ms"] == pytest.approx(statistics.fmean(values), abs=1e-3)


async def test_recommendation_summary_math(store: AnalyticsStore) -> None:
    # Three served lists through the stream decoder: cuisines recorded, resolved from the catalog, unknown.
    fields = stream_entry(
        [
            [
                ago(5),
                "POST",
                "/recommend/recipes",
                200,
                0.012,
                "u1",
                ["r1", "r2", "r3"],
                {"rec_scores": [0.9, 0.7, 0.5]},
            ],
            [
                ago(4),
                "POST",
                "/recommend/recipes",
                200,
                0.010,
                None,
                ["r4", "r5"],
                {"rec_cuisines": ["italian", "italian"], "rec_scores": [0.8, None]},
            ],
            [ago(3), "POST", "/recommend/recipes", 200, 0.009, None, ["zz"], None],
            [ago(days=2), "POST", "/recommend/recipes", 200, 0.009, None, ["r1"], None],
        ],
        "kitchen-intelligence",
    )
    result = await store.ingest_entries([fields])
    assert result.inserted == 4
    async with store.db.session() as s:
        for action, rating, recipe in [
            ("clicked", None, "r1"),
            ("clicked", None, "r4"),
            ("rated", 5, "r1"),
            ("rated", 2, "r3"),
            ("rated", 4, "r4"),
            ("dismissed", None, "zz"),
        ]:
            s.add(
                RecommendationFeedback(
                    recipe_id=recipe, action=action, rating=rating, ts=NOW - timedelta(minutes=1)
                )
            )
        s.add(RecommendationFeedback(recipe_id="r1", action="clicked", ts=NOW - timedelta(days=3)))
        await s.commit()
        rec = await recommendation_summary(s, window="24h", now=NOW)

    assert rec["served"] == {"lists": 3, "items": 6}
    assert rec["feedback"] == {"clicked": 2, "rated": 3, "dismissed": 1}
    assert rec["click_through_rate"] == round(2 / 6, 4)
    assert rec["clicks_per_list"] == round(2 / 3, 4)
    assert rec["ratings"]["count"] == 3 and rec["ratings"]["mean"] == round(11 / 3, 3)
    assert rec["ratings"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert rec["scored_items"] == 4 and rec["mean_served_score"] == round((0.9 + 0.7 + 0.5 + 0.8) / 4, 4)
    # cuisines: thai ×2 (catalog), mexican ×1 (catalog), italian ×2 (recorded); "zz" unknown
    cuis = rec["cuisines"]
    assert cuis["items_with_cuisine"] == 5 and cuis["distinct"] == 3
    assert cuis["coverage"] == round(3 / 5, 4)
    assert cuis["shannon_evenness"] == round(shannon_evenness([2, 1, 2]) or 0, 4)
    assert cuis["top"][0]["count"] == 2 and {t["cuisine"] for t in cuis["top"]} == {
        "thai",
        "mexican",
        "italian",
    }


async def test_recommendation_summary_empty(store: AnalyticsStore) -> None:
    async with store.db.session() as s:
        rec = await recommendation_summary(s, window="1h", now=NOW)
    assert rec["served"] == {"lists": 0, "items": 0}
    assert rec["click_through_rate"] is None and rec["mean_served_score"] is None
    assert rec["cuisines"]["shannon_evenness"] is None
