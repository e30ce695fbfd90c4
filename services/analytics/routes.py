"""HTTP routes of the analytics service: ingestion (events, frontend log, feedback) and the three reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

from shared.app import api_router
from shared.auth.deps import OptionalUser, require_roles, require_scopes
from shared.auth.principal import Principal
from shared.db.session import DbSession
from shared.errors import DependencyUnavailable, InvalidInput
from shared.logging import request_id_var
from shared.usage import UserHasher

from . import aggregates
from .schemas import EventBatch, FeedbackIn, LogIn
from .store import AnalyticsStore, served_row, usage_row

router = api_router(tags=["analytics"])

ReadAccess = Annotated[Principal, Depends(require_roles("admin", "service"))]
WriteAccess = Annotated[Principal, Depends(require_scopes("analytics:write"))]


def get_store(request: Request) -> AnalyticsStore:
    store: AnalyticsStore | None = getattr(request.app.state, "analytics_store", None)
    if store is None:
        raise DependencyUnavailable("the analytics store is not available")
    return store


def get_hasher(request: Request) -> UserHasher:
    hasher: UserHasher = request.app.state.user_hasher
    return hasher


Store = Annotated[AnalyticsStore, Depends(get_store)]
Hasher = Annotated[UserHasher, Depends(get_hasher)]

WindowQ = Annotated[Literal["1h", "24h", "7d"], Query(description="time window ending now")]


def _user_hash(principal: Principal, hasher: UserHasher) -> str | None:
    return hasher(principal.user_id) if principal.user_id is not None else None


# --------------------------------------------------------------------------------------------------
# Ingestion
# --------------------------------------------------------------------------------------------------


@router.post("/events", summary="Batch ingest of usage events (service role or API key with analytics:write)")
async def ingest_events(
    body: EventBatch, _caller: WriteAccess, session: DbSession, store: Store
) -> dict[str, Any]:
    usage = [
        usage_row(
            event_id=e.event_id,
            ts=e.ts,
            service=e.service,
            instance=e.instance,
            method=e.method,
            route=e.route,
            status=e.status,
            latency_ms=e.latency_ms,
            user_hash=e.user_hash,
            recommendation_ids=e.recommendation_ids,
            extra=e.extra,
        )
        for e in body.events
    ]
    served = [s for s in (served_row(r, store.cuisine_resolver) for r in usage) if s is not None]
    result = await store.store_rows(session, usage, served)
    store.count_ingest("http", result)
    return {"received": len(usage), "inserted": result.inserted, "duplicates": result.duplicates}


@router.post(
    "/log", status_code=201, summary="The frontend logger's record (anonymous allowed, rate limited)"
)
async def client_log(
    body: LogIn, caller: OptionalUser, session: DbSession, store: Store, hasher: Hasher
) -> dict[str, Any]:
    row = store.log_row(
        level=body.level,
        message=body.message,
        data=body.data,
        client_ts=body.timestamp.isoformat() if body.timestamp else None,
        user_hash=_user_hash(caller, hasher),
    )
    await store.insert_usage(session, [row])
    return {"status": "stored", "id": row["event_id"]}


@router.post(
    "/feedback", status_code=201, summary="Feedback on a recommendation: clicked, rated (1–5), dismissed"
)
async def feedback(
    body: FeedbackIn, caller: OptionalUser, session: DbSession, store: Store, hasher: Hasher
) -> dict[str, Any]:
    problem = body.problem()
    if problem is not None:
        raise InvalidInput(*problem)
    feedback_id = await store.insert_feedback(
        session,
        {
            "recommendation_id": body.recommendation_id,
            "recipe_id": body.recipe_id,
            "user_hash": _user_hash(caller, hasher),
            "action": body.action,
            "rating": body.rating,
            "ts": datetime.now(UTC),
            "request_id": request_id_var.get(),
        },
    )
    return {"status": "recorded", "id": feedback_id}


# --------------------------------------------------------------------------------------------------
# Reports (admin or service)
# --------------------------------------------------------------------------------------------------


@router.get("/analytics/usage", summary="Request counts over a window, grouped, with an optional time series")
async def usage(
    _caller: ReadAccess,
    session: DbSession,
    window: WindowQ = "24h",
    group_by: Annotated[Literal["service", "endpoint", "status"], Query()] = "service",
    interval: Annotated[
        Literal["1m", "5m", "1h", "1d"] | None, Query(description="bucket of the series")
    ] = None,
    service: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    if interval is not None:
        window_s, interval_s = aggregates.WINDOWS[window], aggregates.INTERVALS[interval]
        if interval_s > window_s:
            raise InvalidInput("interval", f"{interval} is longer than the window {window}", value=interval)
        points = aggregates.series_points(window_s, interval_s)
        if points > aggregates.MAX_SERIES_POINTS:
            raise InvalidInput(
                "interval",
                f"{interval} over {window} gives {points} points; at most {aggregates.MAX_SERIES_POINTS}",
                value=interval,
            )
    return await aggregates.usage_summary(
        session, window=window, group_by=group_by, interval=interval, service=service
    )


@router.get("/analytics/performance", summary="Latency percentiles (p50/p95/p99) per endpoint")
async def performance(
    _caller: ReadAccess,
    session: DbSession,
    window: WindowQ = "24h",
    service: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    return await aggregates.performance_summary(session, window=window, service=service)


@router.get(
    "/analytics/recommendations", summary="Served recommendations, feedback, click-through, diversity"
)
async def recommendations(_caller: ReadAccess, session: DbSession, window: WindowQ = "24h") -> dict[str, Any]:
    return await aggregates.recommendation_summary(session, window=window)
