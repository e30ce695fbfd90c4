"""Dependencies of the core routes (built in the lifespan, handed out here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.settings import Settings
from shared.sky import SkyCache


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_sky(request: Request) -> SkyCache:
    sky: SkyCache = request.app.state.sky
    return sky


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SkyDep = Annotated[SkyCache, Depends(get_sky)]
