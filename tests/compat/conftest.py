from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from httpx import AsyncClient

from services.alchemical_core.main import build_app
from tests.support.apps import app_client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def core(request: pytest.FixtureRequest) -> AsyncIterator[AsyncClient]:
    async with app_client(build_app) as client:
        yield client
