"""Reading analytics: usage counts, latency percentiles and recommendation quality over a time window.

PostgreSQL does the work in SQL (``percentile_cont``, ``jsonb_array_elements``); SQLite (the embedded
mode) uses the same queries where it can and exact Python fallbacks where it cannot (percentiles), with
identical definitions, so both back ends give the same numbers (tested on the same data).

Definitions:
- Percentiles are ``percentile_cont``: linear interpolation between the two nearest ranks,
  ``x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)])`` with ``h = p * (n - 1)``.
- Click-through rate = ``clicked`` feedback / recommended items served (each recipe in each served list
  is one impression). ``clicks_per_list`` = clicked / lists served.
- Cuisine diversity over the served items whose cuisine is known: ``distinct`` cuisines,
  ``coverage`` = distinct / items with a known cuisine, and Pielou's evenness of the cuisine shares,
  ``H / ln(k)`` with ``H = -Σ pᵢ ln pᵢ`` over the ``k`` cuisines seen (1 = perfectly even, → 0 when one
  cuisine dominates; ``null`` when fewer than two cuisines were served).
"""

from __future__ import annotations

import math
from collections import Counter as CounterDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Integer, bindparam, case, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.base import UTCDateTime

from .store import FEEDBACK_TABLE, LOG_METHOD, SERVED_TABLE, USAGE_TABLE

WINDOWS: dict[str, int] = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
INTERVALS: dict[str, int] = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
GROUP_BY = ("service", "endpoint", "status")
#: The longest series served (7 days at 5 minutes).
MAX_SERIES_POINTS = 2016
PERCENTILES = (0.5, 0.95, 0.99)

Window = Literal["1h", "24h", "7d"]
GroupBy = Literal["service", "endpoint", "status"]
Interval = Literal["1m", "5m", "1h", "1d"]


# --------------------------------------------------------------------------------------------------
# Pure math
# --------------------------------------------------------------------------------------------------


def percentile_cont(sorted_values: Sequence[float], p: float) -> float | None:
    """``percentile_cont(p)`` of already sorted values (PostgreSQL's definition); None when empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be within [0, 1]")
    h = p * (n - 1)
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def shannon_evenness(counts: Iterable[int]) -> float | None:
    """Pielou's evenness ``H / ln(k)`` of positive counts; None with fewer than two categories."""
    values = [c for c in counts if c > 0]
    k = len(values)
    if k < 2:
        return None
    total = float(sum(values))
    entropy = -sum((c / total) * math.log(c / total) for c in values)
    return entropy / math.log(k)


def rnd(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    return None if not denominator else round(numerator / denominator, digits)


def bucket_starts(since: datetime, until: datetime, interval_s: int) -> list[int]:
    """Epoch-aligned bucket starts (seconds) covering ``[since, until]``."""
    first = int(since.timestamp()) // interval_s * interval_s
    last = int(until.timestamp()) // interval_s * interval_s
    return list(range(first, last + 1, interval_s))


def series_points(window_s: int, interval_s: int) -> int:
    return window_s // interval_s + 1


# --------------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------------


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _epoch_bucket(dialect: str, interval_s: int) -> Any:
    ts = USAGE_TABLE.c.ts
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", ts) / interval_s), Integer) * interval_s
    # SQLite stores UTC text; strftime('%s') is its epoch (integer division floors for positive values)
    return (cast(func.strftime("%s", ts), Integer) // interval_s) * interval_s


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def _window_bounds(window: str, now: datetime | None) -> tuple[datetime, datetime]:
    until = now or datetime.now(UTC)
    return until - timedelta(seconds=WINDOWS[window]), until


async def usage_summary(
    session: AsyncSession,
    *,
    window: str = "24h",
    group_by: str = "service",
    interval: str | None = None,
    service: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``{window, since, until, group_by, total, groups: [{key, count, …}], series?}``."""
    since, until = _window_bounds(window, now)
    t = USAGE_TABLE
    where = [t.c.ts >= since, t.c.ts <= until, t.c.method != LOG_METHOD]
    if service:
        where.append(t.c.service == service)
    keys: list[Any]
    if group_by == "service":
        keys = [t.c.service]
    elif group_by == "endpoint":
        keys = [t.c.service, t.c.method, t.c.route]
    elif group_by == "status":
        keys = [t.c.status]
    else:  # pragma: no cover - validated by the route
        raise ValueError(f"unknown group_by {group_by!r}")
    server_errors = func.sum(case((t.c.status >= 500, 1), else_=0))
    client_errors = func.sum(case(((t.c.status >= 400) & (t.c.status < 500), 1), else_=0))
    stmt = (
        select(
            *keys,
            func.count().label("count"),
            server_errors.label("server_errors"),
            client_errors.label("client_errors"),
            func.avg(t.c.latency_ms).label("mean_latency_ms"),
            func.max(t.c.latency_ms).label("max_latency_ms"),
            func.count(func.distinct(t.c.user_hash)).label("users"),
        )
        .where(*where)
        .group_by(*keys)
    )
    groups: list[dict[str, Any]] = []
    total = 0
    for row in (await session.execute(stmt)).mappings():
        count = int(row["count"])
        total += count
        group: dict[str, Any]
        if group_by == "service":
            group = {"key": row["service"], "service": row["service"]}
        elif group_by == "endpoint":
            group = {
                "key": f"{row['service']} {row['method']} {row['route']}",
                "service": row["service"],
                "method": row["method"],
                "route": row["route"],
            }
        else:
            status = int(row["status"])
            group = {"key": str(status), "status": status, "class": f"{status // 100}xx"}
        server = int(row["server_errors"] or 0)
        client = int(row["client_errors"] or 0)
        group.update(
            count=count,
            server_errors=server,
            client_errors=client,
            error_rate=ratio(server, count),
            mean_latency_ms=rnd(row["mean_latency_ms"]),
            max_latency_ms=rnd(row["max_latency_ms"]),
            users=int(row["users"] or 0),
        )
        groups.append(group)
    groups.sort(key=lambda g: (-g["count"], g["key"]))
    result: dict[str, Any] = {
        "window": window,
        "since": since.isoformat().replace("+00:00", "Z"),
        "until": until.isoformat().replace("+00:00", "Z"),
        "group_by": group_by,
        "total": total,
        "groups": groups,
    }
    if interval is not None:
        interval_s = INTERVALS[interval]
        bucket = _epoch_bucket(_dialect(session), interval_s).label("bucket")
        series_stmt = select(bucket, func.count().label("count")).where(*where).group_by(bucket)
        counts = {int(b): int(c) for b, c in (await session.execute(series_stmt)).all()}
        result["interval"] = interval
        result["series"] = [
            {"ts": _iso(start), "count": counts.get(start, 0)}
            for start in bucket_starts(since, until, interval_s)
        ]
    return result


async def performance_summary(
    session: AsyncSession,
    *,
    window: str = "24h",
    service: str | None = None,
    now: datetime | None = None,
    force_python: bool = False,
) -> dict[str, Any]:
    """Latency percentiles per endpoint: ``{window, endpoints: [{service, method, route, count, p50_ms,
    p95_ms, p99_ms, mean_ms, max_ms, error_rate}]}``. PostgreSQL computes ``percentile_cont`` in SQL;
    SQLite (or ``force_python``) sorts the latencies per endpoint and applies the same definition."""
    since, until = _window_bounds(window, now)
    t = USAGE_TABLE
    where = [t.c.ts >= since, t.c.ts <= until, t.c.method != LOG_METHOD]
    if service:
        where.append(t.c.service == service)
    keys = (t.c.service, t.c.method, t.c.route)
    endpoints: list[dict[str, Any]] = []
    if _dialect(session) == "postgresql" and not force_python:
        pct = [
            func.percentile_cont(p).within_group(t.c.latency_ms.asc()).label(f"p{int(p * 100)}")
            for p in PERCENTILES
        ]
        stmt = (
            select(
                *keys,
                func.count().label("count"),
                *pct,
                func.avg(t.c.latency_ms).label("mean"),
                func.max(t.c.latency_ms).label("max"),
                func.sum(case((t.c.status >= 500, 1), else_=0)).label("server_errors"),
            )
            .where(*where)
            .group_by(*keys)
        )
        for row in (await session.execute(stmt)).mappings():
            count = int(row["count"])
            endpoints.append(
                _endpoint(
                    row["service"],
                    row["method"],
                    row["route"],
                    count,
                    [row["p50"], row["p95"], row["p99"]],
                    float(row["mean"]),
                    float(row["max"]),
                    int(row["server_errors"] or 0),
                )
            )
    else:
        stmt = select(*keys, t.c.latency_ms, t.c.status).where(*where).order_by(*keys, t.c.latency_ms)
        current: tuple[str, str, str] | None = None
        values: list[float] = []
        errors = 0

        def close() -> None:
            if current is not None and values:
                pcts = [percentile_cont(values, p) for p in PERCENTILES]
                endpoints.append(
                    _endpoint(
                        *current, len(values), pcts, math.fsum(values) / len(values), values[-1], errors
                    )
                )

        for svc, method, route, latency, status in (await session.execute(stmt)).all():
            key = (svc, method, route)
            if key != current:
                close()
                current, values, errors = key, [], 0
            values.append(float(latency))
            if status >= 500:
                errors += 1
        close()
    endpoints.sort(key=lambda e: (-e["count"], e["service"], e["route"], e["method"]))
    return {
        "window": window,
        "since": since.isoformat().replace("+00:00", "Z"),
        "until": until.isoformat().replace("+00:00", "Z"),
        "endpoints": endpoints,
    }


def _endpoint(
    service: str,
    method: str,
    route: str,
    count: int,
    pcts: Sequence[float | None],
    mean: float,
    mx: float,
    server_errors: int,
) -> dict[str, Any]:
    return {
        "key": f"{service} {method} {route}",
        "service": service,
        "method": method,
        "route": route,
        "count": count,
        "p50_ms": rnd(pcts[0]),
        "p95_ms": rnd(pcts[1]),
        "p99_ms": rnd(pcts[2]),
        "mean_ms": rnd(mean),
        "max_ms": rnd(mx),
        "error_rate": ratio(server_errors, count),
    }


async def recommendation_summary(
    session: AsyncSession, *, window: str = "24h", now: datetime | None = None, top: int = 10
) -> dict[str, Any]:
    """Served lists and items, feedback by action, click-through, ratings, served scores, cuisine
    diversity (definitions in the module docstring)."""
    since, until = _window_bounds(window, now)
    dialect = _dialect(session)
    s, f = SERVED_TABLE, FEEDBACK_TABLE
    params = {"since": since, "until": until}
    in_window = (s.c.ts >= since) & (s.c.ts <= until)

    lists = int((await session.execute(select(func.count()).where(in_window))).scalar_one())

    # Items served, mean score and cuisine counts by expanding the JSON arrays.
    if dialect == "postgresql":
        items_sql = (
            "SELECT count(*) FROM recommendations_served rs, "
            "jsonb_array_elements(CASE WHEN jsonb_typeof(rs.recipe_ids) = 'array' "
            "THEN rs.recipe_ids END) AS e(v) "
            "WHERE rs.ts >= :since AND rs.ts <= :until"
        )
        score_sql = (
            "SELECT avg((e.v)::double precision), count(e.v) FROM recommendations_served rs, "
            "jsonb_array_elements_text(CASE WHEN jsonb_typeof(rs.context -> 'scores') = 'array' "
            "THEN rs.context -> 'scores' END) AS e(v) "
            "WHERE rs.ts >= :since AND rs.ts <= :until AND e.v IS NOT NULL"
        )
        cuisine_sql = (
            "SELECT e.v AS cuisine, count(*) FROM recommendations_served rs, "
            "jsonb_array_elements_text(CASE WHEN jsonb_typeof(rs.context -> 'cuisines') = 'array' "
            "THEN rs.context -> 'cuisines' END) AS e(v) "
            "WHERE rs.ts >= :since AND rs.ts <= :until AND e.v IS NOT NULL GROUP BY e.v"
        )
    else:
        items_sql = (
            "SELECT count(*) FROM recommendations_served rs, json_each(rs.recipe_ids) AS e "
            "WHERE rs.ts >= :since AND rs.ts <= :until AND json_type(rs.recipe_ids) = 'array'"
        )
        score_sql = (
            "SELECT avg(e.value), count(e.value) FROM recommendations_served rs, "
            "json_each(rs.context, '$.scores') AS e "
            "WHERE rs.ts >= :since AND rs.ts <= :until AND json_type(rs.context, '$.scores') = 'array' "
            "AND e.value IS NOT NULL"
        )
        cuisine_sql = (
            "SELECT e.value AS cuisine, count(*) FROM recommendations_served rs, "
            "json_each(rs.context, '$.cuisines') AS e "
            "WHERE rs.ts >= :since AND rs.ts <= :until AND json_type(rs.context, '$.cuisines') = 'array' "
            "AND e.value IS NOT NULL GROUP BY e.value"
        )
    items = int((await session.execute(_timed(items_sql), params)).scalar_one() or 0)
    score_row = (await session.execute(_timed(score_sql), params)).one()
    mean_score = float(score_row[0]) if score_row[0] is not None else None
    cuisine_counts: CounterDict[str] = CounterDict()
    for cuisine, count in (await session.execute(_timed(cuisine_sql), params)).all():
        cuisine_counts[str(cuisine)] += int(count)

    # Feedback.
    fb_window = (f.c.ts >= since) & (f.c.ts <= until)
    actions = {"clicked": 0, "rated": 0, "dismissed": 0}
    for action, count in (
        await session.execute(select(f.c.action, func.count()).where(fb_window).group_by(f.c.action))
    ).all():
        actions[str(action)] = int(count)
    ratings = {str(r): 0 for r in range(1, 6)}
    rating_sum = 0
    rating_n = 0
    for rating, count in (
        await session.execute(
            select(f.c.rating, func.count()).where(fb_window, f.c.rating.is_not(None)).group_by(f.c.rating)
        )
    ).all():
        ratings[str(int(rating))] = int(count)
        rating_sum += int(rating) * int(count)
        rating_n += int(count)

    known = sum(cuisine_counts.values())
    evenness = shannon_evenness(cuisine_counts.values())
    return {
        "window": window,
        "since": since.isoformat().replace("+00:00", "Z"),
        "until": until.isoformat().replace("+00:00", "Z"),
        "served": {"lists": lists, "items": items},
        "feedback": actions,
        "click_through_rate": ratio(actions["clicked"], items),
        "clicks_per_list": ratio(actions["clicked"], lists),
        "dismiss_rate": ratio(actions["dismissed"], items),
        "ratings": {"count": rating_n, "mean": ratio(rating_sum, rating_n, 3), "distribution": ratings},
        "mean_served_score": rnd(mean_score, 4),
        "scored_items": int(score_row[1] or 0),
        "cuisines": {
            "items_with_cuisine": known,
            "distinct": len(cuisine_counts),
            "coverage": ratio(len(cuisine_counts), known),
            "shannon_evenness": rnd(evenness, 4),
            "top": [
                {"cuisine": c, "count": n}
                for c, n in sorted(cuisine_counts.items(), key=lambda x: (-x[1], x[0]))[:top]
            ],
        },
    }


def _timed(sql: str) -> Any:
    """A text query whose ``:since``/``:until`` bind as timestamps the way the ORM stores them."""
    return text(sql).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
    )


__all__ = [
    "GROUP_BY",
    "INTERVALS",
    "MAX_SERIES_POINTS",
    "WINDOWS",
    "bucket_starts",
    "percentile_cont",
    "performance_summary",
    "recommendation_summary",
    "shannon_evenness",
    "usage_summary",
]
