"""The app factory: health, readiness, metrics, error format, request id, body limit, CORS."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, Field

from shared.app import create_app
from shared.errors import InvalidInput, NotFound
from shared.settings import Settings


class Body(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    count: int = Field(ge=1, le=10)


def _app(readiness_ok: bool = True) -> FastAPI:
    router = APIRouter()

    @router.post("/echo", tags=["test"])
    async def echo(body: Body) -> dict[str, object]:
        return {"name": body.name, "count": body.count}

    @router.get("/items/{item_id}", tags=["test"])
    async def item(item_id: int) -> dict[str, int]:
        if item_id > 100:
            raise NotFound(f"item {item_id} does not exist")
        if item_id < 0:
            raise InvalidInput("item_id", "must not be negative")
        return {"id": item_id}

    @router.get("/boom", tags=["test"])
    async def boom() -> None:
        raise RuntimeError("secret internals")

    settings = Settings(env="test", max_body_bytes=2048, cors_origins=["https://alchm.kitchen"])
    app = create_app("unit-test", routers=[router], settings=settings)

    async def check() -> None:
        if not readiness_ok:
            raise ConnectionError("db down")

    app.state.readiness["db"] = check
    return app


@pytest.fixture
async def client() -> AsyncClient:
    transport = ASGITransport(app=_app(), raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_health_and_ready(client: AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["service"] == "unit-test" and body["uptime_s"] >= 0
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"db": "ok"}


async def test_ready_fails_with_dependency_named() -> None:
    transport = ASGITransport(app=_app(readiness_ok=False))
    async with AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.get("/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["error"] == "DEPENDENCY_UNAVAILABLE"
    assert body["details"][0]["dependency"] == "db"
    assert "db down" in body["details"][0]["reason"]


async def test_validation_error_names_field(client: AsyncClient) -> None:
    r = await client.post("/echo", json={"name": "x", "count": 99})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert body["details"][0]["field"] == "count"
    assert "count" in body["message"]
    assert body["request_id"] == r.headers["x-request-id"]


async def test_invalid_json_is_400(client: AsyncClient) -> None:
    r = await client.post("/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "INVALID_JSON"


async def test_app_errors_and_no_stack_trace(client: AsyncClient) -> None:
    r = await client.get("/items/101")
    assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"
    r = await client.get("/items/-1")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "item_id"
    r = await client.get("/items/abc")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "item_id"
    r = await client.get("/boom")
    assert r.status_code == 500
    assert "secret internals" not in r.text and r.json()["error"] == "INTERNAL_ERROR"
    r = await client.get("/nope")
    assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"


async def test_request_id_echoed_or_generated(client: AsyncClient) -> None:
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 24


async def test_body_limit_413(client: AsyncClient) -> None:
    r = await client.post("/echo", content=b"x" * 5000, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "PAYLOAD_TOO_LARGE"

    async def chunks():  # no content-length: streamed body
        for _ in range(10):
            yield b"y" * 1000

    r = await client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


async def test_metrics_by_route_template(client: AsyncClient) -> None:
    await client.get("/items/5")
    await client.get("/items/6")
    r = await client.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert 'route="/items/{item_id}"' in text
    assert 'route="/items/5"' not in text


async def test_cors(client: AsyncClient) -> None:
    r = await client.options(
        "/echo",
        headers={"Origin": "https://alchm.kitchen", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://alchm.kitchen"
    r = await client.options(
        "/echo", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in r.headers


def test_production_refuses_weak_config() -> None:
    with pytest.raises(ValueError, match="production configuration refused"):
        Settings(
            env="production", database_url="sqlite+aiosqlite:///x.db", redis_url="", jwt_secret="changethis"
        )
    ok = Settings(
        env="production",
        database_url="postgresql+asyncpg://u:p@localhost/db",
        redis_url="redis://localhost:6379/0",
        jwt_secret="x" * 40,
    )
    assert ok.is_production and not ok.show_docs


def test_development_defaults() -> None:
    s = Settings(env="development")
    assert s.uses_sqlite and s.jwt_secret_generated and s.show_docs
    s2 = Settings(cors_origins="http://a.test, http://b.test")  # type: ignore[arg-type]
    assert s2.cors_origins == ["http://a.test", "http://b.test"]


async def test_docs_take_a_sane_forwarded_prefix_only() -> None:
    app = _app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        page = await client.get("/docs", headers={"X-Forwarded-Prefix": "/api/alchemical/"})
        assert "url: '/api/alchemical/openapi.json'" in page.text
        schema = (await client.get("/openapi.json", headers={"X-Forwarded-Prefix": "/api/alchemical"})).json()
        assert schema["servers"][0]["url"] == "/api/alchemical"
        # anything but a plain path prefix is ignored (it would end up inside the page's script)
        for bad in ("/x';alert(1)//", "https://evil.example", "/a b", "//evil", "/" + "a" * 65):
            page = await client.get("/docs", headers={"X-Forwarded-Prefix": bad})
            assert "url: '/openapi.json'" in page.text, bad
        assert "servers" not in (await client.get("/openapi.json")).json()
