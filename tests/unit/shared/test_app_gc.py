"""``create_app`` freezes the start-up heap once the service's own lifespan has loaded its state."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from shared.app import create_app
from shared.settings import Settings


class _Loaded:
    """Stands for start-up state (the catalog): must be frozen, not scanned by later collections."""


async def test_startup_objects_are_frozen_after_the_service_lifespan() -> None:
    loaded: list[_Loaded] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded.extend(_Loaded() for _ in range(10))
        yield

    app = create_app("gc-test", settings=Settings(env="test", gc_freeze=True), lifespan=lifespan)
    before = gc.get_freeze_count()
    try:
        async with LifespanManager(app):
            assert gc.get_freeze_count() > before
            # everything the lifespan loaded is in the permanent generation: no collection visits it
            tracked = {id(o) for o in gc.get_objects()}
            assert not any(id(o) in tracked for o in loaded)
    finally:
        gc.unfreeze()


async def test_freeze_is_off_when_disabled() -> None:
    app = create_app("gc-test", settings=Settings(env="test", gc_freeze=False))
    before = gc.get_freeze_count()
    async with LifespanManager(app):
        assert gc.get_freeze_count() == before
