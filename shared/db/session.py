"""The request-scoped session dependency: one transaction per request, committed at the boundary.

Use the ``DbSession`` alias (or ``Depends(get_session, scope="function")``): the ``function`` scope makes
the commit happen *before* the response is sent, so a client never sees 2xx for a write that then
fails to commit. Any exception from the route rolls the transaction back. Routes and domain code never
commit themselves (the one documented exception is refresh-token reuse detection, which must persist the
family revocation while answering 401).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import Database
from shared.errors import DependencyUnavailable


def get_database(request: Request) -> Database:
    db: Database | None = getattr(request.app.state, "db", None)
    if db is None:
        raise DependencyUnavailable("database is not configured for this service")
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit once if the route succeeded, roll back if it raised."""
    db = get_database(request)
    async with db.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if session.in_transaction():
            await session.commit()


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
