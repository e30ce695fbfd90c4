"""Fixtures of the analytics unit tests: an embedded (SQLite) analytics store and hand-made data."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.analytics.store import AnalyticsStore, usage_row
from shared.db.base import Base
from shared.db.engine import Database
from shared.usage import EventIdFactory

#: A fixed "now" for the aggregation tests.
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    import shared.db.models  # noqa: F401 - registers the tables

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'analytics.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield db
    await db.dispose()


@pytest.fixture
async def store(sqlite_db: Database) -> AnalyticsStore:
    return AnalyticsStore(sqlite_db, cuisine_resolver={"r1": "thai", "r2": "thai", "r3": "mexican"}.get)


def stream_entry(events: list[list[Any]], svc: str = "svc") -> dict[bytes, bytes]:
    """An ``alchm:usage`` entry (format 1) as Redis returns it, with a fresh id base."""
    idb = f"{EventIdFactory().reserve(len(events)):020x}"
    return {
        b"v": b"1",
        b"svc": svc.encode(),
        b"inst": b"h:1",
        b"idb": idb.encode(),
        b"ev": orjson.dumps(events),
    }


def ago(minutes: float = 0, *, days: float = 0) -> float:
    """Unix seconds ``minutes`` (and ``days``) before NOW."""
    return (NOW - timedelta(minutes=minutes, days=days)).timestamp()


def make_usage_rows(
    n: int, *, seed: int = 7, now: datetime = NOW, span_s: int = 3 * 3600
) -> list[dict[str, Any]]:
    """``n`` usage rows over the ``span_s`` seconds before ``now``: 3 services, several routes and
    statuses, skewed latencies, some users."""
    rnd = random.Random(seed)
    ids = EventIdFactory()
    endpoints = [
        ("alchemical-core", "POST", "/calculate/elemental"),
        ("alchemical-core", "GET", "/planetary/current-hour"),
        ("kitchen-intelligence", "POST", "/recommend/recipes"),
        ("kitchen-intelligence", "GET", "/recipes/{recipe_id}"),
        ("rune", "GET", "/rune/daily"),
    ]
    rows = []
    for _ in range(n):
        service, method, route = rnd.choice(endpoints)
        ts = now - timedelta(seconds=rnd.uniform(0, span_s))
        status = rnd.choices([200, 201, 404, 422, 500, 503], weights=[80, 5, 5, 4, 4, 2])[0]
        latency = round(rnd.lognormvariate(1.5, 0.8), 3)
        rows.append(
            usage_row(
                event_id=ids.new(int(ts.timestamp() * 1000)),
                ts=ts,
                service=service,
                instance="h:1",
                method=method,
                route=route,
                status=status,
                latency_ms=latency,
                user_hash=rnd.choice([None, "u1", "u2", "u3"]),
                recommendation_ids=None,
                extra=None,
            )
        )
    return rows
