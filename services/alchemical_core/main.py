"""alchemical-core (:8000): elemental and thermodynamic calculations, ESMS, alchemize, planetary positions
and hours, celestial events, and identity (``/auth``). A thin shell over the pure engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.app import create_app
from shared.auth.router import auth_router
from shared.catalog.loader import get_catalog
from shared.catalog.resolver import IngredientResolver
from shared.infra import infrastructure
from shared.ratelimit import RateLimitSettings, install_rate_limiting
from shared.settings import Settings, get_settings
from shared.sky import SkyCache
from shared.usage import usage_recording

from . import routes_calc, routes_elemental, routes_planetary

SERVICE = "alchemical-core"


def build_app(settings: Settings | None = None, *, ratelimit: RateLimitSettings | None = None) -> FastAPI:
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(app, cfg, ratelimit_settings=ratelimit), usage_recording(app, cfg):
            catalog = await asyncio.to_thread(get_catalog)
            app.state.catalog = catalog
            app.state.resolver = await asyncio.to_thread(IngredientResolver, catalog)
            app.state.sky = SkyCache()
            yield

    app = create_app(
        SERVICE,
        routers=[routes_calc.router, routes_elemental.router, routes_planetary.router, auth_router],
        settings=cfg,
        lifespan=lifespan,
        description=__doc__ or "",
    )
    install_rate_limiting(app)
    return app


app = build_app()
