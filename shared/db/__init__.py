"""Data layer: async engine and sessions, the one ORM metadata, Alembic migrations, ``alchm db`` CLI."""

from shared.db.base import Base, TimestampMixin, UTCDateTime, utcnow
from shared.db.engine import Database, normalise_database_url
from shared.db.session import DbSession, get_database, get_session

__all__ = [
    "Base",
    "Database",
    "DbSession",
    "TimestampMixin",
    "UTCDateTime",
    "get_database",
    "get_session",
    "normalise_database_url",
    "utcnow",
]
