"""The database handle a service builds in its lifespan: async engine, session factory, ping, dispose.

- PostgreSQL through asyncpg: a bounded pool with pre-ping and recycling; every connection announces the
  service as ``application_name`` and carries a ``statement_timeout`` and an
  ``idle_in_transaction_session_timeout``, so a stuck query or a forgotten transaction cannot hold a
  connection for ever.
- SQLite through aiosqlite (the embedded default): WAL journal, foreign keys on, ``synchronous=NORMAL``
  and a busy timeout, set on every new connection. ``sqlite+aiosqlite://`` (no file) is an in-memory
  database shared by every session of the engine (tests).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from shared.settings import Settings

log = logging.getLogger("shared.db")

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_database_url(url: str) -> URL:
    """Accept ``postgres://``, ``postgresql://`` and ``sqlite://`` and pick the async drivers."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in {"postgres", "postgresql"} and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


class Database:
    """Engine + session factory of one service process."""

    def __init__(
        self,
        url: str,
        *,
        application_name: str = "alchm",
        pool_size: int = 10,
        max_overflow: int = 5,
        echo: bool = False,
        connect_timeout_s: float = 5.0,
        statement_timeout_ms: int = 15_000,
        idle_in_transaction_timeout_ms: int = 60_000,
    ) -> None:
        self.url = normalise_database_url(url)
        self.dialect = self.url.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            else:
                # One shared connection, or every session would see its own empty database.
                kwargs["poolclass"] = StaticPool
                kwargs["connect_args"] = {"check_same_thread": False}
        elif self.dialect == "postgresql":
            kwargs.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                pool_recycle=1800,
                pool_timeout=connect_timeout_s,
                connect_args={
                    "timeout": connect_timeout_s,
                    "server_settings": {
                        "application_name": application_name[:63],
                        "statement_timeout": str(statement_timeout_ms),
                        "idle_in_transaction_session_timeout": str(idle_in_transaction_timeout_ms),
                    },
                },
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_on_connect)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, application_name: str = "alchm") -> Database:
        return cls(
            settings.database_url,
            application_name=application_name,
            pool_size=settings.database_pool_size,
            echo=settings.database_echo,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_memory(self) -> bool:
        """An in-memory SQLite database (it lives in the engine's one connection)."""
        database = self.url.database
        return self.is_sqlite and (not database or database == ":memory:" or "mode=memory" in database)

    def session(self) -> AsyncSession:
        """A new session (use as ``async with db.session() as s:``; commit explicitly)."""
        return self.sessionmaker()

    async def ping(self) -> None:
        """Readiness: a round trip to the database (raises on failure)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)})"
