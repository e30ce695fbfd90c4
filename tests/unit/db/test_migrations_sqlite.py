"""Alembic on SQLite (fast): upgrade from empty, models == migrations, downgrade to empty; the CLI."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import shared.db.models  # noqa: F401
from shared.cli import COMMAND_GROUPS, main
from shared.db import migrate
from shared.db.base import Base

TABLES = {
    "users",
    "refresh_tokens",
    "api_keys",
    "usage_events",
    "recommendations_served",
    "recommendation_feedback",
}


def _sync_url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_upgrade_check_downgrade(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head_revision()
    engine = create_engine(_sync_url(db))
    with engine.connect() as conn:
        assert TABLES <= set(inspect(conn).get_table_names())
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], diff
        fks = inspect(conn).get_foreign_keys("refresh_tokens")
        assert (
            fks[0]["name"] == "fk_refresh_tokens_user_id_users" and fks[0]["options"]["ondelete"] == "CASCADE"
        )
    migrate.downgrade(url, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    engine.dispose()
    assert migrate.current(url) is None
    migrate.upgrade(url)  # and up again
    assert migrate.current(url) == migrate.head_revision()


def test_offline_sql_renders_for_postgres() -> None:
    from alembic import command

    out = io.StringIO()
    cfg = migrate.alembic_config("postgresql+asyncpg://u@127.0.0.1:1/x", output_buffer=out)
    command.upgrade(cfg, "head", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE users" in sql and "JSONB" in sql and "TIMESTAMP WITH TIME ZONE" in sql
    assert "DEFAULT true" in sql and "DEFAULT now()" in sql


def test_cli_groups_registered() -> None:
    import shared.db.cli  # noqa: F401

    assert {"db", "user"} <= set(COMMAND_GROUPS)


def test_cli_db_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["db", "--database-url", url, "current"]) == 0
    assert capsys.readouterr().out.startswith("base (behind head")
    assert main(["db", "--database-url", url, "upgrade"]) == 0
    assert main(["db", "--database-url", url, "current"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{migrate.head_revision()} (head)")
    assert main(["db", "--database-url", url, "downgrade", "base"]) == 0
    assert "at base" in capsys.readouterr().out
    assert main(["db", "--database-url", url, "downgrade", "nonsense"]) == 1
    assert "error:" in capsys.readouterr().err


def test_cli_create_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/admin.db"
    migrate.upgrade(url)
    monkeypatch.setenv("ALCHM_AUTH_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("ALCHM_AUTH_ARGON2_TIME_COST", "1")

    monkeypatch.setenv("ALCHM_ADMIN_PASSWORD", "Admin-Password-1")
    assert main(["user", "--database-url", url, "create-admin", "--email", "Root@Example.com"]) == 0
    assert "created admin root@example.com" in capsys.readouterr().out
    # Same email again: a clear error and exit code 1.
    assert main(["user", "--database-url", url, "create-admin", "--email", "root@example.com"]) == 1
    assert "already exists" in capsys.readouterr().err

    monkeypatch.delenv("ALCHM_ADMIN_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO("Stdin-Password-2\n"))
    assert (
        main(
            ["user", "--database-url", url, "create-admin", "--email", "ops@example.com", "--password-stdin"]
        )
        == 0
    )
    assert (
        main(
            ["user", "--database-url", url, "create-admin", "--email", "w@example.com", "--password", "weak"]
        )
        == 1
    )
    assert "password: must be at least 10" in capsys.readouterr().err
    assert (
        main(
            [
                "user",
                "--database-url",
                url,
                "create-admin",
                "--email",
                "not-an-email",
                "--password",
                "Good-Pass-123",
            ]
        )
        == 1
    )
    assert "email" in capsys.readouterr().err
    assert main(["user", "--database-url", url, "create-admin", "--email", "x@example.com"]) == 2

    async def check() -> None:
        from sqlalchemy import select

        from shared.db.engine import Database
        from shared.db.models import User

        db = Database(url)
        async with db.session() as s:
            users = {u.email: u for u in (await s.scalars(select(User))).all()}
        await db.dispose()
        assert set(users) == {"root@example.com", "ops@example.com"}
        assert users["root@example.com"].roles == ["admin"] and users["root@example.com"].tier == "admin"
        assert users["ops@example.com"].password_hash.startswith("$argon2id$")

    asyncio.run(check())


def test_cli_create_admin_without_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    code = main(
        [
            "user",
            "--database-url",
            url,
            "create-admin",
            "--email",
            "a@example.com",
            "--password",
            "Good-Pass-123",
        ]
    )
    assert code == 1 and "alchm db upgrade" in capsys.readouterr().err
