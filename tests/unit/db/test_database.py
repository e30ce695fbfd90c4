"""Database handle, session-per-request dependency, portable types, constraints (SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from shared.db.base import Base, utcnow
from shared.db.engine import Database, normalise_database_url
from shared.db.models import RecommendationFeedback, RefreshToken, UsageEvent, User
from tests.unit.auth.apps import build_app, make_settings, running


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/sub/dir/test.db")
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


def test_url_normalisation() -> None:
    assert normalise_database_url("postgres://u:p@h/db").drivername == "postgresql+asyncpg"
    assert normalise_database_url("postgresql://u@h:5433/db").drivername == "postgresql+asyncpg"
    assert normalise_database_url("postgresql+asyncpg://u@h/db").drivername == "postgresql+asyncpg"
    assert normalise_database_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert "secret" not in repr(Database("postgresql://user:secret@127.0.0.1:1/db"))


async def test_sqlite_pragmas_and_ping(db: Database, tmp_path: Path) -> None:
    assert (tmp_path / "sub" / "dir" / "test.db").exists()
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    await db.ping()


async def test_memory_database_is_shared_between_sessions() -> None:
    database = Database("sqlite+aiosqlite://")
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with database.session() as s:
        s.add(User(email="m@example.com", password_hash="x"))
        await s.commit()
    async with database.session() as s:
        assert (await s.scalars(select(User.email))).all() == ["m@example.com"]
    await database.dispose()


async def test_timestamps_are_aware_utc(db: Database) -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=5)))
    async with db.session() as s:
        user = User(email="  MiXed@Example.COM ", password_hash="x")
        s.add(user)
        await s.flush()
        s.add(
            RefreshToken(
                user_id=user.id,
                token_hash="h" * 64,
                family_id=uuid.uuid4(),
                expires_at=moment,
            )
        )
        await s.commit()
    async with db.session() as s:
        user = (await s.scalars(select(User))).one()
        token = (await s.scalars(select(RefreshToken))).one()
    assert user.email == "mixed@example.com"
    assert user.roles == ["user"] and user.scopes == [] and user.tier == "authenticated" and user.is_active
    assert user.created_at.tzinfo is UTC and abs(user.created_at - utcnow()) < timedelta(minutes=1)
    assert token.expires_at == moment and token.expires_at.tzinfo is UTC
    async with db.session() as s:
        s.add(
            RefreshToken(
                user_id=user.id, token_hash="n" * 64, family_id=uuid.uuid4(), expires_at=datetime(2026, 1, 1)
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            await s.flush()


async def test_constraints(db: Database) -> None:
    async with db.session() as s:
        s.add(User(email="a@example.com", password_hash="x"))
        s.add(User(email="A@EXAMPLE.COM", password_hash="x"))
        with pytest.raises(IntegrityError):
            await s.commit()
    async with db.session() as s:
        s.add(User(email="t@example.com", password_hash="x", tier="platinum"))
        with pytest.raises(IntegrityError):
            await s.commit()
    async with db.session() as s:
        s.add(RecommendationFeedback(action="rated", rating=6, ts=utcnow()))
        with pytest.raises(IntegrityError):
            await s.commit()
    async with db.session() as s:
        s.add(RecommendationFeedback(action="loved", ts=utcnow()))
        with pytest.raises(IntegrityError):
            await s.commit()
    async with db.session() as s:
        s.add(
            RefreshToken(
                user_id=uuid.uuid4(), token_hash="f" * 64, family_id=uuid.uuid4(), expires_at=utcnow()
            )
        )
        with pytest.raises(IntegrityError):  # foreign keys are enforced
            await s.commit()
    async with db.session() as s:
        s.add(
            UsageEvent(
                event_id="e1", ts=utcnow(), service="s", route="/r", method="GET", status=200, latency_ms=1.5
            )
        )
        await s.commit()
        s.add(
            UsageEvent(
                event_id="e1", ts=utcnow(), service="s", route="/r", method="GET", status=200, latency_ms=1.5
            )
        )
        with pytest.raises(IntegrityError):  # idempotent ingestion by event id
            await s.commit()


async def test_deleting_a_user_cascades(db: Database) -> None:
    async with db.session() as s:
        user = User(email="gone@example.com", password_hash="x")
        s.add(user)
        await s.flush()
        s.add(RefreshToken(user_id=user.id, token_hash="c" * 64, family_id=uuid.uuid4(), expires_at=utcnow()))
        await s.commit()
        await s.execute(text("DELETE FROM users"))
        await s.commit()
        assert (await s.scalars(select(RefreshToken))).all() == []


async def test_session_commits_once_on_success_and_rolls_back_on_error() -> None:
    app: FastAPI = build_app()
    async with running(app) as client:
        r = await client.post("/probe/write")
        assert r.status_code == 200
        kept = r.json()["event_id"]
        r = await client.post("/probe/write?fail=true")
        assert r.status_code == 422 and r.json()["details"][0]["field"] == "fail"
        async with app.state.db.session() as s:
            assert (await s.scalars(select(UsageEvent.event_id))).all() == [kept]


async def test_session_without_database_is_503() -> None:
    from contextlib import asynccontextmanager

    from shared.app import create_app
    from shared.infra import infrastructure
    from tests.unit.auth.apps import make_settings, probe_router

    settings = make_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        async with infrastructure(app, settings, database=False):
            yield

    app = create_app("no-db", routers=[probe_router()], settings=settings, lifespan=lifespan)
    async with running(app) as client:
        r = await client.post("/probe/write")
        assert r.status_code == 503 and r.json()["error"] == "DEPENDENCY_UNAVAILABLE"
        assert (await client.get("/ready")).json()["checks"] == {}


@pytest.mark.parametrize("where", ["memory", "file"])
async def test_embedded_mode_migrates_at_start_up(where: str, tmp_path: Path) -> None:
    from shared.db import migrate

    url = "sqlite+aiosqlite://" if where == "memory" else f"sqlite+aiosqlite:///{tmp_path}/embedded.db"
    app = build_app(make_settings(database_url=url), create_schema=False, migrate=None)
    async with running(app) as client:
        r = await client.post("/probe/write")
        assert r.status_code == 200, r.text
        async with app.state.db.engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        assert version == migrate.head_revision()
