"""The analytics HTTP API in embedded mode (SQLite, no Redis): auth, validation, storage, reports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from services.analytics.config import AnalyticsSettings
from services.analytics.main import build_app, run_cleanup
from shared.auth.roles import scopes_for_roles
from shared.db.models import RecommendationFeedback, UsageEvent
from shared.settings import Settings
from shared.usage import UsageSettings

SECRET = "unit-test-secret-" + "x" * 32


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}",
        redis_url="",
        jwt_secret=SECRET,
        log_json=False,
    )


def _anonymous_limit(monkeypatch: pytest.MonkeyPatch, rate: str) -> None:
    # (the variable was renamed while shared.ratelimit was written; set both spellings)
    monkeypatch.setenv("ALCHM_RATELIMIT_ANONYMOUS", rate)
    monkeypatch.setenv("ALCHM_RATELIMIT_TIER_ANONYMOUS", rate)


def token(app: FastAPI, *roles: str) -> dict[str, str]:
    issued = app.state.auth.tokens.issue_access(
        user_id=uuid.uuid4(),
        email=f"{'-'.join(roles) or 'nobody'}@example.org",
        roles=roles,
        scopes=scopes_for_roles(roles),
        tier="admin" if "admin" in roles else "service" if "service" in roles else "authenticated",
    )
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
async def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    _anonymous_limit(monkeypatch, "1000/minute")
    application = build_app(
        _settings(tmp_path),
        AnalyticsSettings(cleanup_interval_s=0),
        UsageSettings(flush_interval_s=0.02),
    )
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://analytics") as c:
        yield c


async def _count(app: FastAPI, model: type, *where: Any) -> int:
    async with app.state.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


def _event(i: int, **over: Any) -> dict[str, Any]:
    body = {
        "event_id": f"evt-{i:08d}",
        "ts": (datetime.now(UTC) - timedelta(seconds=i)).isoformat(),
        "service": "kitchen-intelligence",
        "route": "/recipes/{recipe_id}",
        "method": "GET",
        "status": 200 if i % 5 else 500,
        "latency_ms": 1.0 + i % 7,
    }
    body.update(over)
    return body


async def test_ready_checks_the_database(client: AsyncClient) -> None:
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok"}


async def test_events_need_analytics_write(app: FastAPI, client: AsyncClient) -> None:
    body = {"events": [_event(1)]}
    r = await client.post("/events", json=body)
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_MISSING"
    r = await client.post("/events", json=body, headers=token(app, "user"))
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_PERMISSIONS"
    r = await client.post("/events", json=body, headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


async def test_events_batch_is_idempotent(app: FastAPI, client: AsyncClient) -> None:
    svc = token(app, "service")
    events = [_event(i) for i in range(1000)]
    r = await client.post("/events", json={"events": events}, headers=svc)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 1000, "inserted": 1000, "duplicates": 0}
    r = await client.post("/events", json={"events": events[:10] + [_event(5000)]}, headers=svc)
    assert r.json() == {"received": 11, "inserted": 1, "duplicates": 10}
    assert await _count(app, UsageEvent, UsageEvent.service == "kitchen-intelligence") == 1001


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": [_event(i) for i in range(1001)]}, "events"),
        ({"events": [_event(1, status=99)]}, "events.0.status"),
        ({"events": [_event(1, latency_ms=-1)]}, "events.0.latency_ms"),
        ({"events": [_event(1, ts="yesterday")]}, "events.0.ts"),
        ({"events": [_event(1, ts=(datetime.now(UTC) + timedelta(days=2)).isoformat())]}, "events.0.ts"),
        ({"events": [_event(1, event_id="a b c d e f")]}, "events.0.event_id"),
        ({"events": [{k: v for k, v in _event(1).items() if k != "route"}]}, "events.0.route"),
        ({"events": [_event(1, recommendation_ids=["x"] * 101)]}, "events.0.recommendation_ids"),
        ({"events": [_event(1, surprise=1)]}, "events.0.surprise"),
    ],
)
async def test_events_validation_names_the_field(
    app: FastAPI, client: AsyncClient, body: Any, field: str
) -> None:
    r = await client.post("/events", json=body, headers=token(app, "service"))
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["details"]]


async def test_frontend_log_contract(app: FastAPI, client: AsyncClient) -> None:
    # The cbff logger's exact body: {level, message, data, timestamp}
    body = {
        "level": "warn",
        "message": "Backend unavailable",
        "data": {"url": "/x", "status": 0},
        "timestamp": "2025-11-10T12:00:00.000Z",
    }
    r = await client.post("/log", json=body)
    assert r.status_code == 201 and r.json()["status"] == "stored"
    r = await client.post(
        "/log", json={"level": "error", "message": "x", "data": None, "timestamp": 1762776000000}
    )
    assert r.status_code == 201
    r = await client.post("/log", json={"level": "info", "message": "who"}, headers=token(app, "user"))
    assert r.status_code == 201
    async with app.state.db.session() as s:
        rows = (
            (await s.execute(select(UsageEvent).where(UsageEvent.method == "LOG").order_by(UsageEvent.id)))
            .scalars()
            .all()
        )
    assert [(r.service, r.route, r.status) for r in rows] == [
        ("frontend", "/log", 30),
        ("frontend", "/log", 40),
        ("frontend", "/log", 20),
    ]
    assert rows[0].extra == {
        "level": "warn",
        "message": "Backend unavailable",
        "data": {"url": "/x", "status": 0},
        "client_ts": "2025-11-10T12:00:00+00:00",
    }
    assert rows[1].extra is not None and rows[1].extra["client_ts"].startswith("2025-11-10T12:00:00")
    assert rows[0].user_hash is None and rows[2].user_hash is not None and len(rows[2].user_hash) == 24


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"level": "fatal", "message": "x"}, "level"),
        ({"level": "info"}, "message"),
        ({"level": "info", "message": "x" * 2001}, "message"),
        ({"level": "info", "message": "x", "data": {"blob": "y" * 9000}}, "data"),
        ({"level": "info", "message": "x", "timestamp": "not a time"}, "timestamp"),
    ],
)
async def test_log_validation_names_the_field(client: AsyncClient, body: Any, field: str) -> None:
    r = await client.post("/log", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["field"] == field


async def test_feedback(app: FastAPI, client: AsyncClient) -> None:
    r = await client.post("/feedback", json={"recipe_id": "r1", "action": "clicked"})
    assert r.status_code == 201 and isinstance(r.json()["id"], int)
    r = await client.post(
        "/feedback",
        json={"recommendationId": "list-1", "recipeId": 42, "action": "rated", "rating": 4},
        headers=token(app, "user"),
    )
    assert r.status_code == 201
    for body, field in [
        ({"recipe_id": "r1", "action": "rated"}, "rating"),
        ({"recipe_id": "r1", "action": "rated", "rating": 6}, "rating"),
        ({"recipe_id": "r1", "action": "clicked", "rating": 3}, "rating"),
        ({"action": "clicked"}, "recipe_id"),
        ({"recipe_id": "r1", "action": "liked"}, "action"),
    ]:
        r = await client.post("/feedback", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["details"][0]["field"] == field
    async with app.state.db.session() as s:
        rows = (
            (await s.execute(select(RecommendationFeedback).order_by(RecommendationFeedback.id)))
            .scalars()
            .all()
        )
    assert [(r.recipe_id, r.action, r.rating, r.recommendation_id) for r in rows] == [
        ("r1", "clicked", None, None),
        ("42", "rated", 4, "list-1"),
    ]
    assert rows[0].user_hash is None and rows[1].user_hash is not None


@pytest.mark.parametrize("path", ["/analytics/usage", "/analytics/performance", "/analytics/recommendations"])
async def test_reports_need_admin_or_service(app: FastAPI, client: AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_MISSING"
    for roles in (("user",), ("guest",)):
        r = await client.get(path, headers=token(app, *roles))
        assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_ROLE"
    for roles in (("admin",), ("service",)):
        r = await client.get(path, headers=token(app, *roles))
        assert r.status_code == 200, r.text
        assert r.json()["window"] == "24h"


async def test_usage_report_counts_ingested_events(app: FastAPI, client: AsyncClient) -> None:
    admin = token(app, "admin")
    events = [_event(i, service="rune" if i % 3 == 0 else "kitchen-intelligence") for i in range(300)]
    assert (
        await client.post("/events", json={"events": events}, headers=token(app, "service"))
    ).status_code == 200
    r = await client.get(
        "/analytics/usage",
        params={"window": "1h", "group_by": "service", "interval": "5m", "service": "rune"},
        headers=admin,
    )
    body = r.json()
    assert body["total"] == 100 and body["groups"][0]["key"] == "rune"
    assert body["groups"][0]["server_errors"] == sum(1 for i in range(0, 300, 3) if i % 5 == 0)
    assert sum(p["count"] for p in body["series"]) == 100 and len(body["series"]) in (13, 14)
    r = await client.get(
        "/analytics/performance", params={"window": "1h", "service": "kitchen-intelligence"}, headers=admin
    )
    (endpoint,) = r.json()["endpoints"]
    assert endpoint["count"] == 200 and endpoint["route"] == "/recipes/{recipe_id}"
    assert endpoint["p50_ms"] is not None and endpoint["p50_ms"] <= endpoint["p95_ms"] <= endpoint["p99_ms"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window": "2h"}, "window"),
        ({"group_by": "planet"}, "group_by"),
        ({"interval": "10m"}, "interval"),
        ({"window": "7d", "interval": "1m"}, "interval"),
        ({"window": "1h", "interval": "1d"}, "interval"),
    ],
)
async def test_report_parameters_are_validated(
    app: FastAPI, client: AsyncClient, params: Any, field: str
) -> None:
    r = await client.get("/analytics/usage", params=params, headers=token(app, "admin"))
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["field"] == field


async def test_embedded_mode_records_its_own_usage(tmp_path: Path) -> None:
    application = build_app(
        _settings(tmp_path), AnalyticsSettings(cleanup_interval_s=0), UsageSettings(flush_interval_s=0.02)
    )
    async with LifespanManager(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://a") as c:
            for _ in range(7):
                await c.get("/analytics/usage")  # 401s are usage too
        recorder = application.state.usage_recorder
        assert recorder.sink.name == "local"
    # the shutdown flush went through the in-process sink into SQLite
    from shared.db.engine import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}")
    async with db.session() as s:
        n = (
            await s.execute(
                select(func.count())
                .select_from(UsageEvent)
                .where(
                    UsageEvent.service == "analytics",
                    UsageEvent.route == "/analytics/usage",
                    UsageEvent.status == 401,
                )
            )
        ).scalar_one()
    await db.dispose()
    assert n == 7


async def test_cleanup_function_uses_the_retention_setting(app: FastAPI, client: AsyncClient) -> None:
    old = [
        _event(i, event_id=f"old-{i:06d}", ts=(datetime.now(UTC) - timedelta(days=45)).isoformat())
        for i in range(20)
    ]
    await client.post("/events", json={"events": old + [_event(1)]}, headers=token(app, "service"))
    deleted = await run_cleanup(app)
    assert deleted["usage_events"] == 20
    assert await _count(app, UsageEvent, UsageEvent.event_id.like("old-%")) == 0


async def test_anonymous_log_is_rate_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _anonymous_limit(monkeypatch, "3/minute")
    application = build_app(_settings(tmp_path), AnalyticsSettings(cleanup_interval_s=0))
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://a") as c,
    ):
        codes = [(await c.post("/log", json={"level": "info", "message": "m"})).status_code for _ in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        r = await c.post("/log", json={"level": "info", "message": "m"})
        assert r.json()["error"] == "RATE_LIMITED" and "retry-after" in r.headers
