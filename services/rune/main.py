"""Rune service (:8002; public prefix ``/api/runes/``): Elder Futhark runes for the kitchen.

Endpoints (see ``docs/runes.md``): ``GET /rune/daily``, ``POST /rune/cast``, ``POST /interpret/situation``,
``GET /runes``, ``GET /runes/{name}``, ``GET /guidance/culinary`` and the frontend's
``POST /api/runes/guidance`` (also at ``POST /guidance`` for the gateway, which strips ``/api/runes``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query
from starlette.requests import Request

from services.rune.kitchen import get_kitchen_index
from services.rune.runes import get_rune_set
from services.rune.schemas import MAX_USER_ID_CHARS, CastRequest, GuidanceRequest, SituationRequest
from services.rune.service import RuneService
from shared.app import api_router, create_app
from shared.infra import infrastructure
from shared.ratelimit import RateLimitSettings, install_rate_limiting
from shared.settings import Settings, get_settings
from shared.usage import usage_recording

SERVICE = "rune"


def build_service(settings: Settings) -> RuneService:
    """Load the rune data and resolve its ingredients in the catalog (both cached per process)."""
    return RuneService(
        get_rune_set(),
        get_kitchen_index(),
        default_latitude=settings.default_latitude,
        default_longitude=settings.default_longitude,
        default_timezone=settings.default_timezone,
    )


def get_service(request: Request) -> RuneService:
    """Dependency: the app's service (built by the lifespan, or on first use when no lifespan ran)."""
    service: RuneService | None = getattr(request.app.state, "rune_service", None)
    if service is None:
        service = build_service(request.app.state.settings)
        request.app.state.rune_service = service
    return service


ServiceDep = Annotated[RuneService, Depends(get_service)]
DateQuery = Annotated[
    date | None, Query(alias="date", description="Local date YYYY-MM-DD (default: today in `tz`)")
]
TzQuery = Annotated[
    str | None, Query(max_length=64, description="IANA time zone (default: the service's, America/New_York)")
]
UserQuery = Annotated[
    str | None, Query(max_length=MAX_USER_ID_CHARS, description="Optional: personalises the daily choice")
]

router = api_router(tags=["rune"])


@router.get("/rune/daily", summary="The rune of the day for a local date and zone")
async def daily_rune(
    service: ServiceDep,
    day: DateQuery = None,
    tz: TzQuery = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Echoed; does not change the rune")] = None,
    lon: Annotated[
        float | None, Query(ge=-180, le=180, description="Echoed; does not change the rune")
    ] = None,
    user_id: UserQuery = None,
) -> dict[str, Any]:
    return service.daily(date_=day, tz=tz, lat=lat, lon=lon, user_id=user_id)


@router.post("/rune/cast", summary="Cast 1, 3 or 9 runes without replacement")
async def cast_runes(body: CastRequest, service: ServiceDep) -> dict[str, Any]:
    return service.cast(body)


@router.post("/interpret/situation", summary="Themes, runes and kitchen advice for a situation in free text")
async def interpret_situation(body: SituationRequest, service: ServiceDep) -> dict[str, Any]:
    return service.interpret(body)


@router.get("/runes", summary="The 24 Elder Futhark runes, optionally filtered")
async def list_runes(
    service: ServiceDep,
    aett: Annotated[str | None, Query(max_length=32, description="freyr, hagal or tyr (or 1, 2, 3)")] = None,
    element: Annotated[str | None, Query(max_length=16, description="Fire, Water, Earth or Air")] = None,
    planet: Annotated[str | None, Query(max_length=16, description="Ruling planet, e.g. Venus")] = None,
) -> dict[str, Any]:
    return service.list_runes(aett=aett, element=element, planet=planet)


@router.get("/runes/{name}", summary="One rune by name, alternate spelling, glyph or position")
async def get_rune(name: Annotated[str, Path(max_length=64)], service: ServiceDep) -> dict[str, Any]:
    return service.get_rune(name)


@router.get("/guidance/culinary", summary="Today's rune as kitchen advice")
async def culinary_guidance(
    service: ServiceDep, day: DateQuery = None, tz: TzQuery = None, user_id: UserQuery = None
) -> dict[str, Any]:
    return service.culinary(date_=day, tz=tz, user_id=user_id)


async def rune_guidance(body: GuidanceRequest, service: ServiceDep) -> dict[str, Any]:
    """RuneResult ``{symbol, name, meaning, influence: {elemental, energy, guidance}}`` plus extra fields."""
    return service.guidance(body, datetime.now(UTC))


router.add_api_route(
    "/api/runes/guidance",
    rune_guidance,
    methods=["POST"],
    name="rune_guidance",
    summary="RuneResult for the frontend's RuneAgentClient",
)
router.add_api_route(
    "/guidance",
    rune_guidance,
    methods=["POST"],
    name="rune_guidance_gateway",
    summary="RuneResult (the gateway path once /api/runes is stripped)",
)


def make_app(settings: Settings | None = None, *, ratelimit: RateLimitSettings | None = None) -> FastAPI:
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            infrastructure(app, cfg, database=False, ratelimit_settings=ratelimit),
            usage_recording(app, cfg),
        ):
            service = await asyncio.to_thread(build_service, app.state.settings)
            app.state.rune_service = service

            async def data_loaded() -> None:
                if len(service.runes) != 24:
                    raise RuntimeError("rune data not loaded")

            app.state.readiness["rune_data"] = data_loaded
            yield

    app = create_app(
        SERVICE,
        routers=[router],
        settings=cfg,
        lifespan=lifespan,
        description="Elder Futhark runes: daily rune, casts, situation interpretation and culinary guidance.",
    )
    install_rate_limiting(app)
    return app


app = make_app()
