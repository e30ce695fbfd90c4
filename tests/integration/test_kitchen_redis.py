"""kitchen-intelligence with a real Redis: the shared recommendation cache across instances, Redis down →
still served, the one-publisher-per-hour refresh claim, and the service under uvicorn behind NGINX."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis

from services.kitchen_intelligence.inputs import Location
from services.kitchen_intelligence.main import build_app
from services.kitchen_intelligence.refresh import HourRefresher
from shared.astro import planetary_hour
from shared.bus import RECOMMENDATIONS_REFRESH, build_bus
from shared.ratelimit import RateLimitSettings
from shared.settings import Settings
from shared.usage import UsageSettings
from tests.support.servers import NginxServer, RedisServer, ServiceProcess

pytestmark = pytest.mark.integration

NOW = datetime(2025, 1, 15, 17, 42, 10, tzinfo=UTC)
PER_CALL = ("cache", "cache_level", "execution_time_ms", "dialect", "requested_time")


@asynccontextmanager
async def kitchen(redis_url: str) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    app = build_app(
        Settings(env="test", redis_url=redis_url, redis_timeout_s=0.3),
        ratelimit=RateLimitSettings(enabled=False),
        usage=UsageSettings(enabled=False),
        refresh=False,
    )
    async with LifespanManager(app, startup_timeout=60):
        app.state.kitchen.clock = lambda: NOW
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    out = orjson.loads(orjson.dumps(body))
    for key in PER_CALL:
        out["metadata"].pop(key, None)
    return out


async def test_instances_share_answers_through_redis(redis_server: RedisServer) -> None:
    body = {"cuisine_preferences": ["Korean"], "limit": 4}
    async with kitchen(redis_server.url) as (_a, one), kitchen(redis_server.url) as (_b, two):
        first = await one.post("/recommend/recipes", json=body)
        assert first.json()["metadata"]["cache"] == "miss"
        second = await two.post("/recommend/recipes", json=body)
        meta = second.json()["metadata"]
        assert (meta["cache"], meta["cache_level"]) == ("hit", "shared")
        assert _stable(first.json()) == _stable(second.json())
        third = await two.post("/recommend/recipes", json=body)
        assert third.json()["metadata"]["cache_level"] == "local"
        client = Redis.from_url(redis_server.url)
        try:
            keys = [k async for k in client.scan_iter(match="alchm:cache:kitchen:rec:*")]
            assert len(keys) == 1
            ttl = await client.pttl(keys[0])
            assert 0 < ttl <= 300_000
        finally:
            await client.aclose()


async def test_redis_down_still_served(redis_server: RedisServer) -> None:
    async with kitchen(redis_server.url) as (app, client):
        ok = await client.post("/recommend/recipes", json={"limit": 3})
        assert ok.status_code == 200
        redis_server.stop()
        started = time.perf_counter()
        for i in range(5):
            r = await client.post("/recommend/recipes", json={"limit": 3, "offset": i + 1})
            assert r.status_code == 200, r.text
            assert r.json()["metadata"]["cache"] == "miss"
        assert time.perf_counter() - started < 5.0  # one bounded timeout, then Redis is skipped
        # what this instance already had is still served from its own memory
        again = await client.post("/recommend/recipes", json={"limit": 3})
        assert again.json()["metadata"]["cache_level"] == "local"
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert "redis" in ready.text
        redis_server.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (await client.get("/ready")).status_code == 200:
                break
            await _sleep(0.2)
        assert (await client.get("/ready")).status_code == 200


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def test_refresh_claim_one_publisher_per_hour(shared_redis: RedisServer) -> None:
    settings = Settings(env="test", redis_url=shared_redis.url)
    nyc = Location(40.7128, -74.006, "America/New_York")
    clients = [Redis.from_url(shared_redis.url) for _ in range(3)]
    buses = [build_bus(settings, c) for c in clients]
    try:
        at = datetime.now(UTC) + timedelta(days=3650)  # an hour nobody else claims
        hour = planetary_hour(at, nyc.latitude, nyc.longitude, nyc.tz)
        refreshers = [HourRefresher(bus, nyc, c) for bus, c in zip(buses, clients, strict=True)]
        for i, r in enumerate(refreshers):
            r.identity = f"instance-{i}"
        results = [await r.publish(hour) for r in refreshers]
        published = [x for x in results if x is not None]
        assert len(published) == 1
        events = await buses[0].replay("0-0", [RECOMMENDATIONS_REFRESH])
        mine = [e for e in events if e.id == published[0]]
        assert mine and mine[0].data["planet"] == hour.planet
    finally:
        for bus in buses:
            await bus.close()
        for c in clients:
            await c.aclose()


def test_served_by_uvicorn_behind_nginx(
    shared_redis: RedisServer,
    service_factory: Callable[..., ServiceProcess],
    nginx_factory: Callable[[str], NginxServer],
) -> None:
    """The real process: start-up builds the index, /ready says catalog and redis, the gateway prefix
    /api/kitchen/ is stripped, the second identical request is a hit."""
    svc = service_factory(
        "services.kitchen_intelligence.main:app",
        {
            "ALCHM_REDIS_URL": shared_redis.url,
            "ALCHM_RATELIMIT_ENABLED": "false",
            "ALCHM_USAGE_ENABLED": "false",
            "ALCHM_LOG_LEVEL": "WARNING",
        },
    )
    config = _nginx_config(svc.port)
    gw = nginx_factory(config)
    with httpx.Client(base_url=gw.base_url, timeout=30) as http:
        ready = http.get("/api/kitchen/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"catalog": "ok", "redis": "ok"}
        body = {"current_time": "2025-01-15T17:42:10Z", "cuisine_preferences": ["Greek"], "limit": 2}
        a = http.post("/api/kitchen/recommend/recipes", json=body, headers={"Cache-Control": "no-cache"})
        b = http.post("/api/kitchen/recommend/recipes", json=body)
        assert a.status_code == b.status_code == 200
        assert b.headers["x-kitchen-cache"] == "hit"
        assert _stable(a.json()) == _stable(b.json())
        assert http.get("/api/kitchen/recipes", params={"limit": 1}).json()["total_count"] > 500


def _nginx_config(port: int) -> str:
    return """
worker_processes 1;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path {{PREFIX}}/tmp;
  proxy_temp_path {{PREFIX}}/tmp;
  fastcgi_temp_path {{PREFIX}}/tmp;
  uwsgi_temp_path {{PREFIX}}/tmp;
  scgi_temp_path {{PREFIX}}/tmp;
  upstream kitchen { server 127.0.0.1:@@PORT@@; keepalive 8; }
  server {
    listen 127.0.0.1:{{PORT}};
    location /api/kitchen/ {
      proxy_pass http://kitchen/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
""".replace("@@PORT@@", str(port))
