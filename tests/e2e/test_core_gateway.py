"""alchemical-core under uvicorn behind the real gateway (NGINX rendered from nginx/gateway.conf.template)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import httpx
import pytest

from tests.integration.conftest import _require
from tests.support.gateway import render_for_harness
from tests.support.servers import NginxServer, ServiceProcess

pytestmark = pytest.mark.integration

CLASSICAL = {"Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn"}


@pytest.fixture(scope="module")
def core_gateway(renderer: ModuleType) -> Iterator[str]:
    _require("nginx")
    core = ServiceProcess(app="services.alchemical_core.main:app", env={}).start(ready_path="/ready")
    upstreams = {u.key: [] for u in renderer.FLEET}
    upstreams["core"] = [f"127.0.0.1:{core.port}"]
    server = NginxServer(render_for_harness(renderer, upstreams)).start()
    yield server.base_url
    server.stop()
    core.stop()


def test_current_hour_for_new_york_through_the_gateway(core_gateway: str) -> None:
    r = httpx.get(core_gateway + "/api/alchemical/planetary/current-hour", timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["planet"] in CLASSICAL and body["dayRuler"] in CLASSICAL
    assert body["location"]["timezone"] == "America/New_York"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    assert body["start"] <= now <= body["end"]
    assert r.headers["x-request-id"]


def test_calculations_and_errors_pass_through(core_gateway: str) -> None:
    r = httpx.post(
        core_gateway + "/api/alchemical/calculate/elemental",
        json={"ingredients": ["tomato", "basil"]},
        timeout=10,
    )
    assert (
        r.status_code == 200 and abs(sum(r.json()[e] for e in ("Fire", "Water", "Earth", "Air")) - 1) < 1e-12
    )
    r = httpx.post(core_gateway + "/api/alchemical/calculate/thermodynamics", json={"Fire": 1}, timeout=10)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "Fire"
    r = httpx.post(core_gateway + "/api/alchemical/alchemize", json={}, timeout=10)
    assert r.status_code == 200 and set(r.json()["esms"]) == {"Spirit", "Essence", "Matter", "Substance"}


def test_metrics_hidden_and_health_served(core_gateway: str) -> None:
    assert httpx.get(core_gateway + "/api/alchemical/metrics", timeout=10).status_code in (403, 404)
    assert httpx.get(core_gateway + "/health", timeout=10).status_code == 200
    r = httpx.get(core_gateway + "/api/alchemical/health", timeout=10)
    assert r.status_code == 200 and r.json()["service"] == "alchemical-core"


def test_api_docs_work_through_the_gateway(core_gateway: str) -> None:
    """/api/alchemical/docs loads the schema from the public prefix, and the schema's server is that prefix,
    so "Try it out" calls the gateway's paths."""
    page = httpx.get(core_gateway + "/api/alchemical/docs", timeout=10)
    assert page.status_code == 200
    assert "url: '/api/alchemical/openapi.json'" in page.text
    schema = httpx.get(core_gateway + "/api/alchemical/openapi.json", timeout=10)
    assert schema.status_code == 200
    assert schema.json()["servers"][0]["url"] == "/api/alchemical"
    assert "/planetary/current-hour" in schema.json()["paths"]
