"""In-process clients for our apps (lifespan run by asgi-lifespan; httpx's ASGITransport does not)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from shared.settings import Settings


@asynccontextmanager
async def app_client(
    build: Callable[..., FastAPI], *, build_kwargs: dict[str, Any] | None = None, **settings: object
) -> AsyncIterator[AsyncClient]:
    app = build(Settings(env="test", **settings), **(build_kwargs or {}))  # type: ignore[arg-type]
    async with LifespanManager(app, startup_timeout=60):
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
