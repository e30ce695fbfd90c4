"""Test apps built the way a service builds itself: ``create_app`` + ``infrastructure`` + ``auth_router`` +
``install_rate_limiting``, plus probe routes for the auth and rate-limit dependencies."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI, Request
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from shared.app import create_app
from shared.auth.deps import CurrentUser, OptionalUser, authenticate_request, require_roles, require_scopes
from shared.auth.principal import Principal
from shared.auth.router import auth_router
from shared.auth.service import create_user
from shared.auth.settings import AuthSettings
from shared.db.base import Base, utcnow
from shared.db.models import UsageEvent
from shared.db.session import DbSession
from shared.errors import InvalidInput
from shared.infra import infrastructure
from shared.ratelimit import RateLimitSettings, heavy_calculation, install_rate_limiting
from shared.settings import Settings

SECRET = "unit-test-secret-" + "s" * 48
PASSWORD = "Correct-Horse-9"
#: Cheap Argon2 for tests (the production cost is asserted separately).
FAST_AUTH = AuthSettings(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1, hash_concurrency=4)

_ips = itertools.count(1)


def fresh_ip() -> str:
    """A distinct client address (TEST-NET-3) so per-IP limits of one test do not meet another's."""
    n = next(_ips)
    return f"203.0.{(n // 250) % 250}.{n % 250 + 1}"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": "sqlite+aiosqlite://",
        "jwt_secret": SECRET,
        "redis_url": "",
        "log_json": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


class Calc(BaseModel):
    x: float


def probe_router() -> APIRouter:
    router = APIRouter(prefix="/probe", tags=["probe"])

    @router.get("/public")
    async def public() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/me")
    async def me(principal: CurrentUser) -> dict[str, object]:
        return principal.describe()

    @router.get("/optional")
    async def optional(principal: OptionalUser) -> dict[str, object]:
        return principal.describe()

    @router.get("/admin")
    async def admin(principal: Annotated[Principal, Depends(require_roles("admin"))]) -> dict[str, object]:
        return principal.describe()

    @router.get("/service-or-admin", dependencies=[Depends(require_roles("service", "admin"))])
    async def service_or_admin() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/recommend", dependencies=[Depends(require_scopes("kitchen:recommend"))])
    async def recommend() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/analytics-write", dependencies=[Depends(require_scopes("analytics:write"))])
    async def analytics_write() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/direct")
    async def direct(
        request: Request, role: str | None = None, scope: str | None = None
    ) -> dict[str, object]:
        principal = await authenticate_request(
            request, roles=[role] if role else (), scopes=[scope] if scope else ()
        )
        return principal.describe()

    @router.post("/heavy", dependencies=[Depends(heavy_calculation)])
    async def heavy(body: Calc) -> dict[str, float]:
        return {"y": body.x * 2}

    @router.post("/write")
    async def write(session: DbSession, fail: bool = False) -> dict[str, str]:
        event_id = uuid.uuid4().hex
        session.add(
            UsageEvent(
                event_id=event_id,
                ts=utcnow(),
                service="probe",
                route="/probe/write",
                method="POST",
                status=200,
                latency_ms=1.0,
            )
        )
        await session.flush()
        if fail:
            raise InvalidInput("fail", "asked to fail after writing")
        return {"event_id": event_id}

    return router


def build_app(
    settings: Settings | None = None,
    *,
    ratelimit: RateLimitSettings | None = None,
    auth: AuthSettings = FAST_AUTH,
    create_schema: bool = True,
    service: str = "auth-test",
    migrate: bool | None = False,
) -> FastAPI:
    cfg = settings or make_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(
            app, cfg, migrate=migrate, ratelimit_settings=ratelimit, auth_settings=auth
        ) as infra:
            if create_schema and infra.db is not None:
                async with infra.db.engine.begin() as conn:
                    await conn.run_sync(Base.metadata.create_all)
            yield

    app = create_app(service, routers=[auth_router, probe_router()], settings=cfg, lifespan=lifespan)
    install_rate_limiting(app)
    return app


@asynccontextmanager
async def running(app: FastAPI, client_addr: str = "127.0.0.1") -> AsyncIterator[AsyncClient]:
    """The app with its lifespan running, and a client whose peer address is ``client_addr``."""
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, client=(client_addr, 40000))
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: AsyncClient, email: str | None = None, password: str = PASSWORD, ip: str | None = None
) -> dict[str, Any]:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = await client.post(
        "/auth/register",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip or fresh_ip()},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def login(
    client: AsyncClient, email: str, password: str = PASSWORD, ip: str | None = None
) -> dict[str, Any]:
    r = await client.post(
        "/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip or fresh_ip()},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def make_user(
    app: FastAPI, email: str, *, roles: list[str], password: str = PASSWORD, tier: str | None = None
) -> None:
    """Insert an account directly (e.g. an admin, which /auth/register never creates)."""
    async with app.state.db.session() as session:
        await create_user(session, app.state.auth, email=email, password=password, roles=roles, tier=tier)
        await session.commit()
