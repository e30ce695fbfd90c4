"""Migrations on a real PostgreSQL (and SQLite, through the same CLI): from empty to head, models equal
migrations (autogenerate finds nothing), and back down to empty."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import shared.db.models  # noqa: F401
from shared.cli import main
from shared.db import migrate
from shared.db.base import Base
from tests.support.servers import REPO_ROOT

pytestmark = pytest.mark.integration

TABLES = {
    "users",
    "refresh_tokens",
    "api_keys",
    "usage_events",
    "recommendations_served",
    "recommendation_feedback",
}


async def _inspect(url: str) -> tuple[set[str], list[object], dict[str, list[str]]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:

            def look(sync_conn):  # type: ignore[no-untyped-def]
                insp = inspect(sync_conn)
                tables = set(insp.get_table_names())
                diff = compare_metadata(
                    MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata
                )
                indexes = {t: sorted(i["name"] for i in insp.get_indexes(t)) for t in tables & TABLES}
                return tables, diff, indexes

            return await conn.run_sync(look)
    finally:
        await engine.dispose()


async def test_postgres_upgrade_matches_models_and_downgrades(pg_url: str) -> None:
    import asyncio

    await asyncio.to_thread(main, ["db", "--database-url", pg_url, "upgrade"])
    tables, diff, indexes = await _inspect(pg_url)
    assert TABLES <= tables
    assert diff == [], diff
    assert "ix_usage_events_service_route_ts" in indexes["usage_events"]
    assert "ix_refresh_tokens_family_id" in indexes["refresh_tokens"]
    engine = create_async_engine(pg_url, poolclass=NullPool)
    async with engine.connect() as conn:
        query = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'users'"
        types: dict[str, str] = {str(k): str(v) for k, v in (await conn.execute(text(query))).all()}
    await engine.dispose()
    assert (
        types["id"] == "uuid"
        and types["roles"] == "jsonb"
        and types["created_at"] == "timestamp with time zone"
    )

    assert await asyncio.to_thread(migrate.current, pg_url) == migrate.head_revision()
    await asyncio.to_thread(main, ["db", "--database-url", pg_url, "downgrade", "base"])
    tables, _, _ = await _inspect(pg_url)
    assert tables == {"alembic_version"}
    await asyncio.to_thread(main, ["db", "--database-url", pg_url, "upgrade", "head"])
    tables, diff, _ = await _inspect(pg_url)
    assert TABLES <= tables and diff == []


def test_cli_as_a_process(pg_url: str) -> None:
    """The ``alchm`` entry point (``shared.cli:main``) in its own process against PostgreSQL (the SQLite
    path of the same commands is covered in-process by tests/unit/db)."""
    env = {
        **os.environ,
        "ALCHM_DATABASE_URL": pg_url,
        "ALCHM_ENV": "test",
        "ALCHM_AUTH_ARGON2_MEMORY_KIB": "1024",
        "ALCHM_AUTH_ARGON2_TIME_COST": "1",
    }

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "import sys; from shared.cli import main; sys.exit(main())", *args],
            cwd=REPO_ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    up = run("db", "upgrade")
    assert up.returncode == 0 and f"at {migrate.head_revision()}" in up.stdout, up.stderr
    made = run(
        "user", "create-admin", "--email", "ops@example.com", "--password-stdin", stdin="Ops-Password-1\n"
    )
    assert made.returncode == 0 and "created admin ops@example.com" in made.stdout, made.stderr
    again = run(
        "user", "create-admin", "--email", "OPS@example.com", "--password-stdin", stdin="Ops-Password-1\n"
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    down = run("db", "downgrade", "base")
    assert down.returncode == 0 and "at base" in down.stdout
