"""The one app factory used by all five services.

``create_app(service, routers=..., lifespan=...)`` gives every service the same: ``/health`` (liveness),
``/ready`` (readiness: runs the dependency checks registered in ``app.state.readiness``), ``/metrics``,
the error format, CORS from settings, the request-id / body-limit / metrics middleware and orjson
responses. A service's own ``lifespan`` builds its dependencies (DB engine, Redis, catalog…), registers
readiness checks and may add more startup state; the factory wraps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from shared.errors import error_response, install_error_handlers
from shared.http import ORJSONResponse
from shared.logging import configure_logging
from shared.metrics import SERVICE_INFO, metrics_endpoint
from shared.middleware import RequestContextMiddleware
from shared.settings import Settings, get_settings

ReadinessCheck = Callable[[], Awaitable[Any]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

READINESS_TIMEOUT_S = 2.0

log = logging.getLogger("shared.app")


def freeze_startup_heap() -> int:
    """Collect once, then freeze every surviving object (``gc.freeze()``): the start-up heap (catalog,
    tables, routes, ~100k+ objects) is never scanned again, so a full collection under load costs what
    requests allocated, not a 30-60 ms stop of the worker. Returns the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put ``router``'s routes in the app's own route table instead of ``include_router``.

    FastAPI 0.16x keeps an included router as one nested node: every request is matched against each
    included router ahead of its route, then matched again inside it, about 35 µs per request on this
    machine (a third of what a cached calculation costs). Our routers carry no include-time options
    (prefix, tags and dependencies are given to ``APIRouter(...)`` and already applied to each route), so
    adding their routes directly is equivalent. Build routers with :func:`api_router` so their routes get
    the app's operation ids (``include_router`` would have applied them)."""
    app.router.routes.extend(router.routes)


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose endpoint takes only ``request: Request`` and returns a ``Response`` is called
    directly, without FastAPI's request handler.

    That handler solves the endpoint's dependencies, reads and validates the body, runs the endpoint and
    serialises its result: for an endpoint with nothing to solve (the hot calculation routes parse their own
    input with ``shared.validation.json_body`` and build their own response) it is pure overhead
    (``bench/bench_asgi.py``: with the other routing changes, 391 → 275 µs per elemental request). The
    route is otherwise a normal ``APIRoute``: same matching, OpenAPI entry (``openapi_extra``), exception
    handlers and middleware. Any other endpoint gets FastAPI's own handler (``get_route_handler`` is
    FastAPI's documented hook for custom route classes)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        d = self.dependant
        lean = (
            d.request_param_name is not None
            and not (d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params)
            and not d.dependencies
            and d.response_param_name is None
            and d.background_tasks_param_name is None
            and self.response_model is None
            and inspect.iscoroutinefunction(self.endpoint)
        )
        if not lean:
            return super().get_route_handler()
        endpoint = self.endpoint
        name: str = d.request_param_name  # type: ignore[assignment]  # checked above

        async def handler(request: Request) -> Response:
            response = await endpoint(**{name: request})
            if not isinstance(response, Response):  # a lean endpoint must build its own response
                raise TypeError(f"{endpoint.__name__} returned {type(response).__name__}, not a Response")
            return response

        return handler


def api_router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` for :func:`create_app`'s ``routers=``: operation ids ``<tag>-<name>``, and
    :class:`LeanRoute` (endpoints that take only the request skip FastAPI's request handler)."""
    kwargs.setdefault("route_class", LeanRoute)
    return APIRouter(generate_unique_id_function=_operation_id, **kwargs)


async def get_app_settings(request: Request) -> Settings:
    """Dependency: the settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def _run_check(name: str, check: ReadinessCheck) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(check(), timeout=READINESS_TIMEOUT_S)
        return name, None
    except TimeoutError:
        return name, f"no answer within {READINESS_TIMEOUT_S:g}s"
    except Exception as exc:
        return name, f"{type(exc).__name__}: {exc}"[:300]


def create_app(
    service: str,
    *,
    routers: Sequence[APIRouter] = (),
    settings: Settings | None = None,
    lifespan: Lifespan | None = None,
    title: str | None = None,
    description: str = "",
) -> FastAPI:
    """Build a service app. ``service`` is the public service name (e.g. ``alchemical-core``)."""
    cfg = settings or get_settings()

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, cfg.log_level, cfg.log_json)
        SERVICE_INFO.labels(service, cfg.version, cfg.env).set(1)
        app.state.started_monotonic = time.monotonic()
        async with lifespan(app) if lifespan is not None else contextlib.nullcontext():
            if cfg.gc_freeze:
                log.info("gc: froze %d start-up objects", freeze_startup_heap())
            yield

    app = FastAPI(
        title=title or f"alchm.kitchen {service}",
        description=description,
        version=cfg.version,
        lifespan=_lifespan,
        default_response_class=ORJSONResponse,
        docs_url="/docs" if cfg.show_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if cfg.show_docs else None,
        generate_unique_id_function=_operation_id,
        # FastAPI's native OpenTelemetry hooks: off (metrics are Prometheus, shared.metrics); when on, every
        # request pays for the provider checks even with no exporter configured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = cfg
    app.state.service = service
    app.state.readiness = {}
    app.state.started_monotonic = time.monotonic()

    install_error_handlers(app)

    @app.get("/health", tags=["ops"], summary="Liveness: 200 while the process serves")
    async def health() -> ORJSONResponse:
        return ORJSONResponse(
            {
                "status": "ok",
                "service": service,
                "version": cfg.version,
                "uptime_s": round(time.monotonic() - app.state.started_monotonic, 3),
            }
        )

    @app.get("/ready", tags=["ops"], summary="Readiness: 200 only when every dependency answers")
    async def ready() -> ORJSONResponse:
        checks: dict[str, ReadinessCheck] = app.state.readiness
        results = await asyncio.gather(*(_run_check(n, c) for n, c in checks.items()))
        failed = [{"dependency": n, "reason": r} for n, r in results if r is not None]
        status_map = {n: ("ok" if r is None else "failed") for n, r in results}
        if failed:
            resp = error_response(
                503,
                "DEPENDENCY_UNAVAILABLE",
                "not ready: " + ", ".join(f["dependency"] for f in failed),
                failed,
            )
            return resp
        return ORJSONResponse({"status": "ready", "service": service, "checks": status_map})

    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)

    for router in routers:
        _add_routes(app, router)
    docs_paths = frozenset(
        p for p in (app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url) if p and cfg.show_docs
    )
    # Routing is a linear scan: the rarely requested framework routes (docs, schema, readiness, metrics) go
    # after the API's, each skipped match costs every API request. /health stays first (probes hit it most).
    rare = docs_paths | {"/ready", "/metrics"}
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) in rare)  # stable

    app.add_middleware(
        CORSMiddleware,
        allow_origins=cfg.cors_origins,
        allow_credentials="*" not in cfg.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "X-Request-ID",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "Retry-After",
        ],
        max_age=600,
    )
    app.add_middleware(
        RequestContextMiddleware,
        service=service,
        max_body_bytes=cfg.max_body_bytes,
        access_log=cfg.access_log,
        docs_paths=docs_paths,
    )
    return app
