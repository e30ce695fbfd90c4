"""Alembic environment (async): targets ``shared.db.models`` (the one metadata).

The URL comes, in order, from ``config.attributes["database_url"]`` (set by ``shared.db.migrate``), the
``sqlalchemy.url`` option, or the settings (``ALCHM_DATABASE_URL``). A caller may also hand over an open
synchronous connection in ``config.attributes["connection"]`` (the Alembic cookbook's connection sharing).
SQLite runs in batch mode (``render_as_batch``) so ALTERs are emitted as table copies.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import shared.db.models  # noqa: F401  (registers every table on the metadata)
from shared.db.base import Base, UTCDateTime
from shared.db.engine import _sqlite_on_connect, normalise_database_url

config = context.config
# The ini's logging applies to the ``alembic`` command line only (``cmd_opts`` is set there); programmatic
# runs (``alchm db``, services in embedded mode, tests) keep the caller's logging.
if config.config_file_name is not None and config.cmd_opts is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from shared.settings import Settings

        url = Settings().database_url
    return normalise_database_url(str(url)).render_as_string(hide_password=False)


def _render_item(type_: str, obj: object, _autogen_context: object) -> str | Literal[False]:
    """Render the portable column types as plain SQLAlchemy types in new revisions."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    url = _database_url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    url = _database_url()
    engine = create_async_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
