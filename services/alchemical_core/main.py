"""alchemical-core (:8000): elemental and thermodynamic calculations, ESMS, alchemize, planetary positions
and hours, celestial events, and identity (``/auth``). A thin shell over the pure engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.app import create_app
from shared.catalog.loader import get_catalog
from shared.catalog.resolver import IngredientResolver
from shared.settings import Settings, get_settings

from . import routes_calc, routes_elemental, routes_planetary
from .sky import SkyCache

SERVICE = "alchemical-core"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    catalog = await asyncio.to_thread(get_catalog)
    app.state.catalog = catalog
    app.state.resolver = await asyncio.to_thread(IngredientResolver, catalog)
    app.state.sky = SkyCache()
    yield


def build_app(settings: Settings | None = None) -> FastAPI:
    return create_app(
        SERVICE,
        routers=[routes_calc.router, routes_elemental.router, routes_planetary.router],
        settings=settings or get_settings(),
        lifespan=lifespan,
        description=__doc__ or "",
    )


app = build_app()
