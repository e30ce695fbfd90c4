"""The reports on REAL PostgreSQL (SQL ``percentile_cont``, ``jsonb`` expansion) give the same results as the
embedded SQLite path (exact Python percentiles) on the same data, and as counts made here."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.analytics.aggregates import performance_summary, recommendation_summary, usage_summary
from services.analytics.store import AnalyticsStore
from shared.db.base import Base
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.db.models import RecommendationFeedback
from tests.unit.analytics.conftest import NOW, ago, make_usage_rows, stream_entry

pytestmark = pytest.mark.integration

CUISINES = {"r1": "thai", "r2": "thai", "r3": "mexican", "r4": "italian", "r5": "japanese"}


@pytest.fixture
async def stores(pg_url: str, tmp_path: Path) -> AsyncIterator[tuple[AnalyticsStore, AnalyticsStore]]:
    import shared.db.models  # noqa: F401

    await asyncio.to_thread(upgrade, pg_url)
    pg = Database(pg_url)
    lite = Database(f"sqlite+aiosqlite:///{tmp_path / 'twin.db'}")
    async with lite.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield (
        AnalyticsStore(pg, cuisine_resolver=CUISINES.get),
        AnalyticsStore(lite, cuisine_resolver=CUISINES.get),
    )
    await pg.dispose()
    await lite.dispose()


def _served_entry(n: int) -> dict[bytes, bytes]:
    events = []
    for i in range(n):
        ids = [f"r{1 + (i + k) % 6}" for k in range(1 + i % 4)]  # r6 has no cuisine
        extra: dict[str, Any] = {
            "rec_scores": [round(0.1 + 0.8 * ((i * 7 + k) % 10) / 10, 2) for k in range(len(ids))]
        }
        if i % 5 == 0:
            extra["rec_cuisines"] = ["vietnamese"] * len(ids)
        events.append([ago(i % 300), "POST", "/recommend/recipes", 200, (5 + i % 9) / 1000, None, ids, extra])
    return stream_entry(events, "kitchen-intelligence")


async def _load(store: AnalyticsStore, rows: list[dict[str, Any]]) -> None:
    async with store.db.session() as s:
        await store.insert_usage(s, rows)
        for i in range(90):
            action = ("clicked", "rated", "dismissed")[i % 3]
            s.add(
                RecommendationFeedback(
                    recipe_id=f"r{i % 5}",
                    action=action,
                    rating=1 + i % 5 if action == "rated" else None,
                    ts=NOW - timedelta(minutes=i),
                )
            )
        await s.commit()
    await store.ingest_entries([_served_entry(400)])


def _close(a: Any, b: Any, path: str = "") -> None:
    """Equal, with floats compared to 1e-6 (PostgreSQL and SQLite sum doubles in different orders)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=2e-3), path
    else:
        assert a == b, path


async def test_postgresql_and_sqlite_reports_agree(stores: tuple[AnalyticsStore, AnalyticsStore]) -> None:
    pg, lite = stores
    rows = make_usage_rows(4000, seed=5)
    await asyncio.gather(_load(pg, rows), _load(lite, rows))

    async with pg.db.session() as a, lite.db.session() as b:
        for window, group_by, interval in [
            ("24h", "service", "5m"),
            ("1h", "endpoint", "1m"),
            ("7d", "status", "1h"),
        ]:
            ra = await usage_summary(a, window=window, group_by=group_by, interval=interval, now=NOW)
            rb = await usage_summary(b, window=window, group_by=group_by, interval=interval, now=NOW)
            _close(ra, rb, f"usage {window} {group_by}")
        perf_pg = await performance_summary(a, window="24h", now=NOW)
        perf_pg_python = await performance_summary(a, window="24h", now=NOW, force_python=True)
        perf_lite = await performance_summary(b, window="24h", now=NOW)
        rec_pg = await recommendation_summary(a, window="24h", now=NOW)
        rec_lite = await recommendation_summary(b, window="24h", now=NOW)

    _close(perf_pg, perf_lite, "performance pg/sqlite")
    _close(perf_pg, perf_pg_python, "performance sql/python")
    _close(rec_pg, rec_lite, "recommendations")

    # and against an independent computation
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(f"{r['service']} {r['method']} {r['route']}", []).append(r["latency_ms"])
    groups["kitchen-intelligence POST /recommend/recipes"] += [5.0 + i % 9 for i in range(400)]
    for e in perf_pg["endpoints"]:
        values = groups[e["key"]]
        assert e["count"] == len(values)
        for name, p in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
            assert e[name] == pytest.approx(float(np.percentile(values, p)), abs=1e-3)

    items = sum(1 + i % 4 for i in range(400))
    assert rec_pg["served"] == {"lists": 400, "items": items}
    assert rec_pg["feedback"] == {"clicked": 30, "rated": 30, "dismissed": 30}
    assert rec_pg["click_through_rate"] == round(30 / items, 4)
    expected_cuisines: Counter[str] = Counter()
    for i in range(400):
        for k in range(1 + i % 4):
            rid = f"r{1 + (i + k) % 6}"
            cuisine = "vietnamese" if i % 5 == 0 else CUISINES.get(rid)
            if cuisine:
                expected_cuisines[cuisine] += 1
    assert rec_pg["cuisines"]["items_with_cuisine"] == sum(expected_cuisines.values())
    assert {t["cuisine"]: t["count"] for t in rec_pg["cuisines"]["top"]} == dict(expected_cuisines)
