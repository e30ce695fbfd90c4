"""Prometheus metrics: one registry, HTTP metrics labelled by route template (never the raw path).

With several uvicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` before start; ``/metrics`` then aggregates
every worker through ``MultiProcessCollector``.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _mp
from starlette.requests import Request
from starlette.responses import Response

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

HTTP_REQUESTS = Counter(
    "alchm_http_requests_total",
    "HTTP requests by service, method, route template and status code",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "alchm_http_request_duration_seconds",
    "HTTP request latency by service, method and route template",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "alchm_http_requests_in_flight",
    "HTTP requests being served",
    ["service"],
    multiprocess_mode="livesum",
)
HTTP_BODY_REJECTED = Counter(
    "alchm_http_body_rejected_total", "Requests refused because the body was too large", ["service"]
)
DEPENDENCY_FAILURES = Counter(
    "alchm_dependency_failures_total",
    "Failures talking to a dependency (redis, database, upstream service)",
    ["service", "dependency", "operation"],
)
CACHE_EVENTS = Counter("alchm_cache_events_total", "Cache hits and misses by cache name", ["cache", "result"])
SERVICE_INFO = Gauge(
    "alchm_service_info", "Static service information", ["service", "version", "env"], multiprocess_mode="max"
)


def metrics_payload() -> bytes:
    """The exposition text: all workers' metrics when multiprocess mode is on, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _mp.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


async def metrics_endpoint(_: Request) -> Response:
    return Response(metrics_payload(), media_type=CONTENT_TYPE_LATEST)


# --- identity and rate limiting (shared.auth, shared.ratelimit) ------------------------------------------
AUTH_EVENTS = Counter(
    "alchm_auth_events_total",
    "Authentication outcomes (register, login, refresh, logout) by result",
    ["service", "event", "result"],
)
RATELIMIT_REJECTED = Counter(
    "alchm_ratelimit_rejected_total", "Requests refused with 429, by rate-limit rule", ["service", "rule"]
)
RATELIMIT_LOCAL_FALLBACK = Gauge(
    "alchm_ratelimit_local_fallback",
    "1 while rate limits are enforced in local memory because Redis is unreachable",
    ["service"],
    multiprocess_mode="max",
)
