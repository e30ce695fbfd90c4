"""kitchen-intelligence (:8100; public prefix ``/api/kitchen/``): the catalog, recipe / ingredient / cuisine
recommendations for a moment and a place, and ingredient compatibility. See docs/kitchen.md.

Start-up: the catalog is loaded and indexed once (off the event loop); Redis (when ``ALCHM_REDIS_URL`` is set)
backs the shared response cache, the rate limits and the bus; a background task publishes
``recommendations_refresh`` when the planetary hour changes.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.app import create_app
from shared.bus import build_bus
from shared.infra import infrastructure
from shared.ratelimit import RateLimitSettings, install_rate_limiting
from shared.settings import Settings, get_settings
from shared.usage import UsageSettings, usage_recording

from . import routes
from .cache import ResponseCache
from .deps import build_state
from .refresh import HourRefresher

SERVICE = "kitchen-intelligence"


def build_app(
    settings: Settings | None = None,
    *,
    ratelimit: RateLimitSettings | None = None,
    usage: UsageSettings | None = None,
    refresh: bool = True,
) -> FastAPI:
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            infrastructure(app, cfg, database=False, redis=True, ratelimit_settings=ratelimit) as infra,
            usage_recording(app, cfg, usage=usage),
        ):
            state = await asyncio.to_thread(build_state, cfg, ResponseCache(infra.cache))
            app.state.kitchen = state
            # The index is ~10^5 long-lived objects: move everything alive now out of the cyclic collector's
            # scans so that full collections do not walk the catalog on the request path.
            gc.collect()
            gc.freeze()

            async def catalog_ready() -> None:
                if not state.index.recipes:
                    raise RuntimeError("catalog not loaded")

            app.state.readiness["catalog"] = catalog_ready
            refresher: HourRefresher | None = None
            bus = None
            if refresh:
                bus = build_bus(cfg, infra.redis)
                refresher = HourRefresher(bus, state.engine.location(None), infra.redis)
                refresher.start()
                app.state.refresher = refresher
            try:
                yield
            finally:
                if refresher is not None:
                    await refresher.stop()
                if bus is not None:
                    await bus.close()

    app = create_app(
        SERVICE,
        routers=[routes.router, routes.legacy],
        settings=cfg,
        lifespan=lifespan,
        description=__doc__ or "",
    )
    install_rate_limiting(app)
    return app


app = build_app()
