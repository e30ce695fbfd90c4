"""Two real uvicorn processes of one service share the login limit through Redis.

``create_service_app`` is the factory the subprocesses run (``uvicorn --factory``), configured only by
environment variables, as a deployed service is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from tests.support.servers import RedisServer, ServiceProcess

pytestmark = pytest.mark.integration


def create_service_app() -> FastAPI:
    from shared.app import create_app
    from shared.auth.router import auth_router
    from shared.infra import infrastructure
    from shared.ratelimit import install_rate_limiting
    from shared.settings import Settings

    settings = Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(app, settings):
            yield

    app = create_app("rl-process", routers=[auth_router], settings=settings, lifespan=lifespan)
    install_rate_limiting(app)
    return app


async def test_two_processes_share_the_login_limit(
    pg_url: str, redis_server: RedisServer, service_factory: Callable[..., ServiceProcess]
) -> None:
    from shared.db import migrate

    await asyncio.to_thread(migrate.upgrade, pg_url)
    env = {
        "ALCHM_DATABASE_URL": pg_url,
        "ALCHM_REDIS_URL": redis_server.url,
        "ALCHM_JWT_SECRET": "process-test-secret-" + "p" * 44,
        "ALCHM_AUTH_ARGON2_MEMORY_KIB": "1024",
        "ALCHM_AUTH_ARGON2_TIME_COST": "1",
        "ALCHM_LOG_LEVEL": "WARNING",
    }
    app_path = "tests.integration.test_ratelimit_processes:create_service_app"
    one, two = await asyncio.gather(
        asyncio.to_thread(service_factory, app_path, env, factory=True),
        asyncio.to_thread(service_factory, app_path, env, factory=True),
    )
    async with httpx.AsyncClient(timeout=10) as http:
        xff = {"X-Forwarded-For": "198.51.100.23"}
        r = await http.post(
            one.base_url + "/auth/register",
            json={"email": "proc@example.com", "password": "Process-Pass-1"},
            headers=xff,
        )
        assert r.status_code == 201, r.text
        statuses = []
        for n in range(5):
            base = (one, two)[n % 2].base_url
            r = await http.post(
                base + "/auth/login",
                json={"email": "proc@example.com", "password": "Nope-Nope-1"},
                headers=xff,
            )
            statuses.append(r.status_code)
            assert r.headers["ratelimit-policy"] == "5;w=900"
        assert statuses == [401] * 5
        r = await http.post(
            two.base_url + "/auth/login",
            json={"email": "proc@example.com", "password": "Process-Pass-1"},
            headers=xff,
        )
        assert r.status_code == 429 and r.json()["error"] == "RATE_LIMITED"
        assert int(r.headers["retry-after"]) > 800 and r.headers["x-request-id"]
        r = await http.get(one.base_url + "/ready")
        assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok"}
