from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from httpx import AsyncClient

from services.alchemical_core.main import build_app
from shared.ratelimit import RateLimitSettings
from tests.support.apps import app_client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def core(request: pytest.FixtureRequest) -> AsyncIterator[AsyncClient]:
    # route tests, not rate-limit tests (those live in tests/unit/ratelimit and tests/integration)
    async with app_client(build_app, build_kwargs={"ratelimit": RateLimitSettings(enabled=False)}) as client:
        yield client
