"""Run Alembic programmatically (used by ``alchm db``, the embedded-mode auto-migration and the tests).

These functions are synchronous and start their own event loop (Alembic's async ``env.py`` uses
``asyncio.run``): from async code call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import normalise_database_url

log = logging.getLogger("shared.db.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str | None = None, *, output_buffer: io.TextIOBase | None = None) -> Config:
    """An Alembic config for the project's one history; ``alembic.ini`` is used when present.
    ``output_buffer`` receives the SQL of offline (``--sql``) runs."""
    ini = PROJECT_ROOT / "alembic.ini"
    kwargs = {"output_buffer": output_buffer} if output_buffer is not None else {}
    cfg = Config(str(ini), **kwargs) if ini.is_file() else Config(**kwargs)  # type: ignore[arg-type]
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        cfg.attributes["database_url"] = normalise_database_url(database_url).render_as_string(
            hide_password=False
        )
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str | None = None) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    import asyncio

    url = normalise_database_url(database_url or _settings_url())
    return asyncio.run(_current_async(url.render_as_string(hide_password=False)))


async def _current_async(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    finally:
        await engine.dispose()


def _settings_url() -> str:
    from shared.settings import get_settings

    return get_settings().database_url


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate through an engine's own connection (Alembic's connection-sharing recipe): the only way to
    reach an in-memory SQLite database, which exists per connection."""

    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_sqlite_locked(database_url: str) -> None:
    """Embedded mode: bring a SQLite file to head, serialised by a file lock so several services
    starting at once on the same file do not race."""
    url = normalise_database_url(database_url)
    database = url.database
    if not database or database == ":memory:":
        upgrade(database_url)
        return
    with _file_lock(Path(database + ".migrate.lock")):
        upgrade(database_url)
