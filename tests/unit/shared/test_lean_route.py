"""``shared.app.LeanRoute``: endpoints that take only the request skip FastAPI's request handler; all the
others keep it (validation, dependencies, response models)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Query, Request
from httpx import ASGITransport, AsyncClient

from shared.app import LeanRoute, api_router, create_app
from shared.errors import InvalidInput
from shared.http import ORJSONResponse
from shared.settings import Settings


async def dep() -> int:
    return 7


def _app() -> FastAPI:
    router = api_router(tags=["t"])

    @router.post("/lean")
    async def lean(request: Request) -> ORJSONResponse:
        body = await request.json()
        if body.get("n", 0) < 0:
            raise InvalidInput("n", "must not be negative")
        return ORJSONResponse({"n": body["n"], "path": request.url.path})

    @router.get("/not-a-response")
    async def not_a_response(request: Request) -> ORJSONResponse:
        return {"x": 1}  # type: ignore[return-value]  # the mistake under test

    @router.get("/query")
    async def with_query(n: Annotated[int, Query(ge=0)], d: Annotated[int, Depends(dep)]) -> dict[str, int]:
        return {"n": n, "d": d}

    return create_app("lean-test", routers=[router], settings=Settings(env="test"))


def _handler_is_fastapis(route: LeanRoute) -> bool:
    return route.get_route_handler().__qualname__ != "LeanRoute.get_route_handler.<locals>.handler"


def test_only_request_only_endpoints_are_lean() -> None:
    routes = {r.path: r for r in _app().router.routes if isinstance(r, LeanRoute)}
    assert not _handler_is_fastapis(routes["/lean"])
    assert _handler_is_fastapis(routes["/query"])  # query parameter and a dependency: FastAPI's handler


async def test_lean_endpoint_serves_and_errors_keep_the_api_format() -> None:
    async with AsyncClient(transport=ASGITransport(app=_app()), base_url="http://t") as client:
        ok = await client.post("/lean", json={"n": 3})
        assert ok.status_code == 200 and ok.json() == {"n": 3, "path": "/lean"}
        bad = await client.post("/lean", json={"n": -1})
        assert bad.status_code == 422
        assert bad.json()["details"] == [{"field": "n", "reason": "must not be negative"}]
        # FastAPI's handler still validates the others
        assert (await client.get("/query", params={"n": 2})).json() == {"n": 2, "d": 7}
        invalid = await client.get("/query", params={"n": -2})
        assert 400 <= invalid.status_code < 500


async def test_a_lean_endpoint_must_return_a_response() -> None:
    transport = ASGITransport(app=_app(), raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/not-a-response")).status_code == 500


def test_schema_unchanged_by_the_route_class() -> None:
    schema = _app().openapi()
    assert schema["paths"]["/lean"]["post"]["operationId"] == "t-lean"
    assert schema["paths"]["/query"]["get"]["parameters"][0]["name"] == "n"


@pytest.mark.parametrize("path", ["/lean"])
def test_route_class_is_the_default_of_api_router(path: str) -> None:
    assert any(isinstance(r, LeanRoute) and r.path == path for r in _app().router.routes)
