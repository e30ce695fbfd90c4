"""Fixtures of the kitchen-intelligence unit tests: the indexed catalog (once per session) and an in-process
app with a fixed clock, no rate limits and no refresh task."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from services.kitchen_intelligence.deps import KitchenState, get_index
from services.kitchen_intelligence.index import KitchenIndex
from services.kitchen_intelligence.main import build_app
from services.kitchen_intelligence.recommend import RecommendEngine
from shared.ratelimit import RateLimitSettings
from shared.settings import Settings
from shared.usage import UsageSettings

#: A fixed "now" for the app under test (a Tuesday evening in New York).
NOW = datetime(2025, 3, 18, 23, 7, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def index() -> KitchenIndex:
    return get_index()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(env="test")


@pytest.fixture(scope="session")
def engine(index: KitchenIndex, settings: Settings) -> RecommendEngine:
    return RecommendEngine(index, settings)


def make_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        settings or Settings(env="test"),
        ratelimit=RateLimitSettings(enabled=False),
        usage=UsageSettings(enabled=False),
        refresh=False,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app() -> AsyncIterator[FastAPI]:
    application = make_app()
    async with LifespanManager(application, startup_timeout=60):
        state: KitchenState = application.state.kitchen
        state.clock = lambda: NOW
        yield application


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
