"""Writing analytics data: usage batches (stream or in-process), ingested events, client logs, feedback,
and the retention cleanup. Every usage insert is idempotent by ``event_id`` (``INSERT … ON CONFLICT DO
NOTHING`` on PostgreSQL and SQLite alike), so redelivered stream entries are stored exactly once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from prometheus_client import Counter
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import Database
from shared.db.models import RecommendationFeedback, RecommendationServed, UsageEvent
from shared.usage import MAX_RECOMMENDATION_IDS, EventIdFactory, dump_events

log = logging.getLogger("services.analytics.store")

USAGE_TABLE: Table = UsageEvent.__table__  # type: ignore[assignment]
SERVED_TABLE: Table = RecommendationServed.__table__  # type: ignore[assignment]
FEEDBACK_TABLE: Table = RecommendationFeedback.__table__  # type: ignore[assignment]

#: Frontend log records are stored as usage_events rows with this pseudo-method (and service
#: ``frontend``); usage and performance aggregates leave them out.
LOG_METHOD = "LOG"
LOG_SERVICE = "frontend"
LOG_ROUTE = "/log"
#: Log levels as numbers (Python's logging levels), kept in the ``status`` column of LOG rows.
LOG_LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}

INGESTED = Counter(
    "alchm_analytics_events_ingested_total",
    "Usage events reaching the analytics store by result (inserted, duplicate, malformed) and source",
    ["source", "result"],
)

CuisineResolver = Callable[[str], str | None]


def _clip(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:limit]


def _opt_clip(value: Any, limit: int) -> str | None:
    return None if value is None else _clip(value, limit)


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


@dataclass
class DecodedBatch:
    usage: list[dict[str, Any]]
    served: list[dict[str, Any]]
    malformed: int = 0


def usage_row(
    *,
    event_id: str,
    ts: datetime,
    service: str,
    instance: str | None,
    method: str,
    route: str,
    status: int,
    latency_ms: float,
    user_hash: str | None,
    recommendation_ids: Sequence[Any] | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One usage_events row, clipped to the column sizes."""
    rec = [_clip(r, 128) for r in recommendation_ids[:MAX_RECOMMENDATION_IDS]] if recommendation_ids else None
    return {
        "event_id": _clip(event_id, 64),
        "ts": ts,
        "service": _clip(service, 64),
        "instance": _opt_clip(instance, 128),
        "route": _clip(route, 256),
        "method": _clip(method, 10).upper(),
        "status": max(0, min(int(status), 32767)),
        "latency_ms": max(0.0, _finite(latency_ms)),
        "user_hash": _opt_clip(user_hash, 64),
        "recommendation_ids": rec or None,
        "extra": dict(extra) if extra else None,
    }


def served_row(row: Mapping[str, Any], resolver: CuisineResolver | None) -> dict[str, Any] | None:
    """The recommendations_served row implied by a usage row that carries recommendation ids."""
    ids: list[str] | None = row.get("recommendation_ids")
    if not ids:
        return None
    extra = row.get("extra") or {}
    context: dict[str, Any] = {"route": row["route"]}
    scores = extra.get("rec_scores")
    if isinstance(scores, list) and len(scores) == len(ids):
        context["scores"] = [s if isinstance(s, int | float) and math.isfinite(s) else None for s in scores]
    cuisines = extra.get("rec_cuisines")
    given = cuisines if isinstance(cuisines, list) and len(cuisines) == len(ids) else [None] * len(ids)
    resolved = [
        (str(c) if c else (resolver(rid) if resolver is not None else None))
        for rid, c in zip(ids, given, strict=True)
    ]
    if any(resolved):
        context["cuisines"] = resolved
    return {
        "recommendation_id": _clip(extra.get("recommendation_id") or row["event_id"], 64),
        "ts": row["ts"],
        "service": row["service"],
        "request_id": _opt_clip(extra.get("request_id"), 128),
        "user_hash": row["user_hash"],
        "recipe_ids": ids,
        "context": context,
    }


def decode_stream_batch(fields: Mapping[Any, Any], resolver: CuisineResolver | None = None) -> DecodedBatch:
    """Rows from one ``alchm:usage`` entry (format v1, see ``shared.usage``). Malformed events are
    counted and skipped; an entry that is not v1 at all counts as one malformed event."""
    norm = {_text(k): v for k, v in fields.items()}
    if _text(norm.get("v", "")) != "1" or "ev" not in norm or "idb" not in norm:
        return DecodedBatch([], [], malformed=1)
    service = _text(norm.get("svc", "unknown"))
    instance = _text(norm["inst"]) if norm.get("inst") is not None else None
    try:
        base = int(_text(norm["idb"]), 16)
        events = orjson.loads(norm["ev"])
    except (ValueError, orjson.JSONDecodeError):
        return DecodedBatch([], [], malformed=1)
    if not isinstance(events, list):
        return DecodedBatch([], [], malformed=1)
    out = DecodedBatch([], [])
    for index, ev in enumerate(events):
        try:
            ts, method, route, status, elapsed, user_hash, rec_ids, extra = ev
            if not isinstance(ts, int | float) or not isinstance(elapsed, int | float):
                raise ValueError("time and latency must be numbers")
            ts_ms = int(ts * 1000)
            row = usage_row(
                event_id=EventIdFactory.derive(base, index, ts_ms),
                ts=datetime.fromtimestamp(ts_ms / 1000.0, UTC),
                service=service,
                instance=instance,
                method=str(method),
                route=str(route),
                status=int(status),
                latency_ms=round(elapsed * 1000.0, 3),
                user_hash=user_hash,
                recommendation_ids=rec_ids if isinstance(rec_ids, list) else None,
                extra=extra if isinstance(extra, dict) else None,
            )
        except (TypeError, ValueError, OverflowError):
            out.malformed += 1
            continue
        out.usage.append(row)
        served = served_row(row, resolver)
        if served is not None:
            out.served.append(served)
    return out


def _insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


@dataclass
class IngestResult:
    inserted: int = 0
    duplicates: int = 0
    malformed: int = 0

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.malformed += other.malformed
        return self


class AnalyticsStore:
    """Writes to the analytics tables through the service's :class:`Database`."""

    def __init__(self, db: Database, *, cuisine_resolver: CuisineResolver | None = None) -> None:
        self.db = db
        self.dialect = db.dialect
        self.cuisine_resolver = cuisine_resolver
        self._ids = EventIdFactory()

    # -- usage ------------------------------------------------------------------------------------------

    async def insert_usage(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert usage rows, skipping event ids already stored; returns how many were new."""
        if not rows:
            return 0
        table = USAGE_TABLE
        stmt = (
            _insert(self.dialect, table)
            .on_conflict_do_nothing(index_elements=[table.c.event_id])
            .returning(table.c.id)
        )
        inserted = 0
        for start in range(0, len(rows), 1000):
            result = await session.execute(stmt, list(rows[start : start + 1000]))
            inserted += len(result.all())
        return inserted

    async def insert_served(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        table = SERVED_TABLE
        stmt = (
            _insert(self.dialect, table)
            .on_conflict_do_nothing(index_elements=[table.c.recommendation_id])
            .returning(table.c.id)
        )
        inserted = 0
        for start in range(0, len(rows), 1000):
            result = await session.execute(stmt, list(rows[start : start + 1000]))
            inserted += len(result.all())
        return inserted

    async def store_rows(
        self, session: AsyncSession, usage: Sequence[Mapping[str, Any]], served: Sequence[Mapping[str, Any]]
    ) -> IngestResult:
        inserted = await self.insert_usage(session, usage)
        if served:
            await self.insert_served(session, served)
        return IngestResult(inserted=inserted, duplicates=len(usage) - inserted)

    def decode(self, entries: Iterable[Mapping[Any, Any]]) -> DecodedBatch:
        usage: list[dict[str, Any]] = []
        served: list[dict[str, Any]] = []
        malformed = 0
        for fields in entries:
            batch = decode_stream_batch(fields, self.cuisine_resolver)
            usage.extend(batch.usage)
            served.extend(batch.served)
            malformed += batch.malformed
        return DecodedBatch(usage, served, malformed)

    async def ingest_entries(
        self, entries: Sequence[Mapping[Any, Any]], *, source: str = "stream"
    ) -> IngestResult:
        """Decode stream entries and store them in one transaction (committed before returning)."""
        decoded = self.decode(entries)
        async with self.db.session() as session:
            result = await self.store_rows(session, decoded.usage, decoded.served)
            await session.commit()
        result.malformed = decoded.malformed
        self.count_ingest(source, result)
        return result

    async def ingest_batches(self, batches: Sequence[Mapping[str, Any]]) -> None:
        """The embedded-mode local sink of ``shared.usage``: batches as the recorder builds them."""
        entries = [
            {
                "v": b.get("v", "1"),
                "svc": b["svc"],
                "inst": b.get("inst"),
                "idb": b["idb"],
                "ev": dump_events(b["ev"]),
            }
            for b in batches
        ]
        await self.ingest_entries(entries, source="local")

    @staticmethod
    def count_ingest(source: str, result: IngestResult) -> None:
        if result.inserted:
            INGESTED.labels(source, "inserted").inc(result.inserted)
        if result.duplicates:
            INGESTED.labels(source, "duplicate").inc(result.duplicates)
        if result.malformed:
            INGESTED.labels(source, "malformed").inc(result.malformed)

    # -- client logs and feedback --------------------------------------------------------------------------

    def log_row(
        self,
        *,
        level: str,
        message: str,
        data: Any,
        client_ts: str | None,
        user_hash: str | None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        at = now or datetime.now(UTC)
        extra: dict[str, Any] = {"level": level, "message": message}
        if data is not None:
            extra["data"] = data
        if client_ts is not None:
            extra["client_ts"] = client_ts
        return usage_row(
            event_id=self._ids.new(int(at.timestamp() * 1000)),
            ts=at,
            service=LOG_SERVICE,
            instance=None,
            method=LOG_METHOD,
            route=LOG_ROUTE,
            status=LOG_LEVELS[level],
            latency_ms=0.0,
            user_hash=user_hash,
            recommendation_ids=None,
            extra=extra,
        )

    async def insert_feedback(self, session: AsyncSession, row: Mapping[str, Any]) -> int:
        table = FEEDBACK_TABLE
        result = await session.execute(_insert(self.dialect, table).values(**row).returning(table.c.id))
        return int(result.scalar_one())

    # -- retention ---------------------------------------------------------------------------------------

    async def cleanup(
        self, retention_days: int, *, batch: int = 10_000, now: datetime | None = None
    ) -> dict[str, int]:
        """Delete rows older than ``retention_days`` from the analytics tables, ``batch`` rows per
        transaction. Returns the rows deleted per table."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        deleted: dict[str, int] = {}
        for table in (USAGE_TABLE, SERVED_TABLE, FEEDBACK_TABLE):
            total = 0
            while True:
                ids = select(table.c.id).where(table.c.ts < cutoff).limit(batch).scalar_subquery()
                async with self.db.session() as session:
                    result = await session.execute(delete(table).where(table.c.id.in_(ids)))
                    await session.commit()
                count = int(getattr(result, "rowcount", 0) or 0)
                total += count
                if count < batch:
                    break
            deleted[table.name] = total
        return deleted
