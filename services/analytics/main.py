"""analytics (:8003): usage, performance and recommendation analytics.

Every service records its requests as usage events (``shared.usage``) into the Redis stream
``alchm:usage``; this service consumes the stream with a consumer group into PostgreSQL (at-least-once
delivery, exactly-once storage by event id), so analytics downtime loses nothing within the stream's
bound. It also ingests event batches over HTTP, the frontend logger's records and recommendation
feedback, serves usage / latency / recommendation reports to admins and services, and deletes data older
than the retention period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from shared.aio import checkpoint
from shared.app import create_app
from shared.infra import infrastructure
from shared.ratelimit import install_rate_limiting
from shared.settings import Settings, get_settings
from shared.usage import UsageSettings, UserHasher, set_local_sink, usage_hash_key, usage_recording

from . import routes
from .config import AnalyticsSettings
from .consumer import UsageConsumer
from .store import AnalyticsStore, CuisineResolver

SERVICE = "analytics"

log = logging.getLogger("services.analytics")


def _catalog_cuisines() -> CuisineResolver | None:
    """recipe id → cuisine slug from the shipped catalog (None when the catalog cannot be loaded)."""
    try:
        from shared.catalog import get_catalog

        catalog = get_catalog()
        mapping = {rid: recipe.cuisine.slug for rid, recipe in catalog.recipes.items() if recipe.cuisine}
    except Exception as exc:
        log.info("catalog not available for cuisine lookup: %s", exc)
        return None
    return mapping.get


def _redis_client(url: str, timeout_s: float) -> Any:
    import redis.asyncio as aioredis

    return aioredis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=5.0, health_check_interval=30
    )


async def run_cleanup(app: FastAPI) -> dict[str, int]:
    """Delete analytics rows older than the retention period now (also run periodically)."""
    store: AnalyticsStore = app.state.analytics_store
    acfg: AnalyticsSettings = app.state.analytics_settings
    deleted = await store.cleanup(acfg.retention_days, batch=acfg.cleanup_batch)
    if any(deleted.values()):
        log.info("retention cleanup deleted %s", deleted, extra={"deleted": deleted})
    return deleted


async def _cleanup_loop(app: FastAPI, interval_s: float) -> None:
    await asyncio.sleep(min(60.0, interval_s))
    while True:
        checkpoint()
        try:
            await run_cleanup(app)
        except Exception as exc:
            log.warning("retention cleanup failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(interval_s)


@asynccontextmanager
async def analytics_runtime(app: FastAPI, settings: Settings, acfg: AnalyticsSettings) -> AsyncIterator[None]:
    """The store, the stream consumer (or, without Redis, the in-process sink) and the cleanup job."""
    resolver = await asyncio.to_thread(_catalog_cuisines)
    store = AnalyticsStore(app.state.db, cuisine_resolver=resolver)
    app.state.analytics_store = store
    app.state.analytics_settings = acfg
    app.state.user_hasher = UserHasher(usage_hash_key(settings, UsageSettings()))
    consumer: UsageConsumer | None = None
    consumer_redis = None
    local = False
    if settings.redis_url:
        if acfg.consumer_enabled:
            # A client of its own: blocking reads must not hold the shared pool or hit its short timeout.
            consumer_redis = _redis_client(settings.redis_url, acfg.block_ms / 1000 + 5.0)
            consumer = UsageConsumer(
                consumer_redis,
                store,
                stream=UsageSettings().stream,
                group=acfg.consumer_group,
                name=acfg.consumer_name or None,
                read_count=acfg.read_count,
                block_ms=acfg.block_ms,
                claim_idle_ms=acfg.claim_idle_ms,
                claim_interval_s=acfg.claim_interval_s,
                prune_idle_s=acfg.consumer_prune_idle_s,
            )
            consumer.start()
    else:
        set_local_sink(store.ingest_batches)
        local = True
    app.state.usage_consumer = consumer
    cleanup = (
        asyncio.create_task(_cleanup_loop(app, acfg.cleanup_interval_s), name="analytics-cleanup")
        if acfg.cleanup_interval_s > 0
        else None
    )
    try:
        yield
    finally:
        if cleanup is not None:
            cleanup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleanup
        if consumer is not None:
            await consumer.stop()
        if consumer_redis is not None:
            with contextlib.suppress(Exception):
                await consumer_redis.aclose()
        if local:
            set_local_sink(None)


def build_app(
    settings: Settings | None = None,
    analytics: AnalyticsSettings | None = None,
    usage: UsageSettings | None = None,
) -> FastAPI:
    cfg = settings or get_settings()
    acfg = analytics or AnalyticsSettings()
    if cfg.max_body_bytes < acfg.max_body_bytes:
        # Batches of up to 1000 events do not fit the fleet's default 64 KiB body limit.
        cfg = cfg.model_copy(update={"max_body_bytes": acfg.max_body_bytes})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            infrastructure(app, cfg, database=True, redis=True),
            analytics_runtime(app, cfg, acfg),
            usage_recording(app, cfg, usage=usage),
        ):
            yield

    app = create_app(
        SERVICE, routers=[routes.router], settings=cfg, lifespan=lifespan, description=__doc__ or ""
    )
    install_rate_limiting(app)
    return app


app = build_app()
