"""One context manager that builds a service's infrastructure in its lifespan and closes it on exit.

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(app, app.state.settings):
            yield

    app = create_app("alchemical-core", routers=[..., auth_router], lifespan=lifespan)
    install_rate_limiting(app)

It sets ``app.state.db`` (:class:`~shared.db.Database`, when ``database``), ``app.state.redis`` (the
``redis.asyncio`` client or ``None``), ``app.state.cache`` (Redis-backed, else in-process),
``app.state.ratelimiter`` and ``app.state.auth`` (:class:`~shared.auth.Authenticator`), and registers the
readiness checks ``database`` and ``redis`` (the latter only when a Redis URL is configured).

Start-up never fails because Redis or the database is down: ``/ready`` says so, and requests degrade
(cache misses, local rate limits) until they return. In embedded mode (SQLite, not production) the
database is migrated to head at start-up (``migrate=None`` means exactly that; ``True``/``False`` force).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from redis.asyncio import Redis

from shared.auth.authenticator import Authenticator
from shared.auth.settings import AuthSettings
from shared.cache import Cache, MemoryCache, RedisCache
from shared.db.engine import Database
from shared.ratelimit import RateLimiter, RateLimitSettings, limiter_from_settings
from shared.redis import close_redis, create_redis, redis_readiness
from shared.settings import Settings

log = logging.getLogger("shared.infra")


@dataclass(frozen=True, slots=True)
class Infrastructure:
    db: Database | None
    redis: Redis | None
    cache: Cache
    ratelimiter: RateLimiter
    auth: Authenticator


@asynccontextmanager
async def infrastructure(
    app: FastAPI,
    settings: Settings,
    *,
    database: bool = True,
    redis: bool = True,
    migrate: bool | None = None,
    ratelimit_settings: RateLimitSettings | None = None,
    auth_settings: AuthSettings | None = None,
) -> AsyncIterator[Infrastructure]:
    service: str = getattr(app.state, "service", "alchm")
    readiness = app.state.readiness
    async with AsyncExitStack() as stack:
        db: Database | None = None
        if database:
            db = Database.from_settings(settings, application_name=service)
            stack.push_async_callback(db.dispose)
            if migrate or (migrate is None and db.is_sqlite and not settings.is_production):
                from shared.db.migrate import upgrade_engine, upgrade_sqlite_locked

                log.info("migrating %r to head at start-up", db)
                if db.is_memory:
                    await upgrade_engine(db.engine)
                else:
                    await asyncio.to_thread(upgrade_sqlite_locked, settings.database_url)
            readiness["database"] = db.ping

        client = create_redis(settings, service=service) if redis else None
        if client is not None:
            stack.push_async_callback(close_redis, client)
            readiness["redis"] = redis_readiness(client)
            try:
                async with asyncio.timeout(settings.redis_timeout_s * 2):
                    await client.ping()
            except Exception as exc:  # start degraded rather than not at all
                log.warning("Redis does not answer at start-up (%s); serving with local fallbacks", exc)

        cache: Cache = (
            RedisCache(client, timeout_s=settings.redis_timeout_s, service=service)
            if client is not None
            else MemoryCache()
        )
        limiter = limiter_from_settings(settings, client, service=service, cfg=ratelimit_settings)
        stack.push_async_callback(limiter.aclose)
        auth = Authenticator(settings, db, auth_settings, service=service)

        app.state.db = db
        app.state.redis = client
        app.state.cache = cache
        app.state.ratelimiter = limiter
        app.state.auth = auth
        try:
            yield Infrastructure(db=db, redis=client, cache=cache, ratelimiter=limiter, auth=auth)
        finally:
            readiness.pop("database", None)
            readiness.pop("redis", None)
