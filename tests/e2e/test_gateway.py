"""The NGINX gateway (nginx/gateway.conf.template rendered by scripts/render_nginx.py) in front of a real
uvicorn app: routes and prefix stripping, its own /health, /metrics blocked, request ids, forwarded
headers, the 64 KiB body limit, JSON errors when an upstream is down, upstream keepalive, N instances,
and WebSocket upgrades."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from types import ModuleType

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.gateway import render_for_harness
from tests.support.servers import NginxServer, ServiceProcess, free_port

pytestmark = pytest.mark.integration


def _json(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, object] = response.json()
    return body


def test_gateway_answers_health_itself(gateway: NginxServer) -> None:
    r = httpx.get(gateway.base_url + "/health")
    assert r.status_code == 200
    assert _json(r) == {"status": "ok", "service": "gateway"}
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("public", "upstream"),
    [
        ("/api/alchemical/echo/a/b", "/echo/a/b"),
        ("/api/auth/login", "/auth/login"),
        ("/api/kitchen/echo/recipes", "/echo/recipes"),
        ("/api/v1/cuisines", "/api/v1/cuisines"),  # the frontend's AlchmAPIClient, kept as it is
        ("/api/runes/echo/daily", "/echo/daily"),
        ("/api/analytics/echo/usage", "/echo/usage"),
    ],
)
def test_routes_strip_the_public_prefix(gateway: NginxServer, public: str, upstream: str) -> None:
    r = httpx.get(gateway.base_url + public + "?x=1&y=%20z")
    assert r.status_code == 200, r.text
    seen = _json(r)
    assert seen["path"] == upstream
    assert seen["query"] == "x=1&y=%20z"


def test_service_health_passes_through(gateway: NginxServer) -> None:
    for prefix in ("/api/alchemical", "/api/kitchen", "/api/runes", "/api/analytics", "/ws"):
        r = httpx.get(gateway.base_url + prefix + "/health")
        assert r.status_code == 200, prefix
        assert _json(r)["service"] == "e2e-echo"
    assert httpx.get(gateway.base_url + "/api/alchemical/ready").json()["status"] == "ready"


@pytest.mark.parametrize(
    "path",
    [
        "/metrics",
        "/api/alchemical/metrics",
        "/api/alchemical//metrics",
        "/api/alchemical/metrics/",
        "/api/alchemical/METRICS",
        "/api/alchemical/%6Detrics",
        "/api/kitchen/metrics",
        "/api/runes/metrics?format=prometheus",
        "/api/analytics/metrics",
        "/api/auth/metrics",
        "/ws/metrics",
    ],
)
def test_metrics_are_not_public(gateway: NginxServer, echo_service: ServiceProcess, path: str) -> None:
    r = httpx.get(gateway.base_url + path)
    assert r.status_code == 404
    assert _json(r)["error"] == "NOT_FOUND"
    # ...while the service itself does export them to the private network
    assert "alchm_http_requests_total" in httpx.get(echo_service.base_url + "/metrics").text


def test_unknown_path_is_a_json_404(gateway: NginxServer) -> None:
    r = httpx.get(gateway.base_url + "/nope", headers={"X-Request-ID": "rid-404"})
    assert r.status_code == 404
    assert _json(r) == {
        "error": "NOT_FOUND",
        "message": "no route for this path at the gateway",
        "request_id": "rid-404",
    }


def test_request_id_passes_both_ways(gateway: NginxServer) -> None:
    r = httpx.get(gateway.base_url + "/api/alchemical/echo/x", headers={"X-Request-ID": "client-id.42:a-b"})
    assert r.headers.get_list("x-request-id") == ["client-id.42:a-b"]  # exactly once
    assert _json(r)["x_request_id"] == "client-id.42:a-b"

    generated = httpx.get(gateway.base_url + "/api/alchemical/echo/x")
    rid = generated.headers["x-request-id"]
    assert len(rid) == 32 and _json(generated)["x_request_id"] == rid

    unsafe = httpx.get(gateway.base_url + "/api/alchemical/echo/x", headers={"X-Request-ID": 'bad"id{}'})
    assert unsafe.headers["x-request-id"] != 'bad"id{}'
    assert _json(unsafe)["x_request_id"] == unsafe.headers["x-request-id"]


def test_forwarded_headers(gateway: NginxServer) -> None:
    seen = _json(
        httpx.get(gateway.base_url + "/api/kitchen/echo/x", headers={"X-Forwarded-For": "203.0.113.9"})
    )
    assert seen["x_real_ip"] == "127.0.0.1"
    assert seen["x_forwarded_for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x_forwarded_proto"] == "http"
    assert seen["x_forwarded_prefix"] == "/api/kitchen"
    assert _json(httpx.get(gateway.base_url + "/api/auth/x"))["x_forwarded_prefix"] == "/api"
    # keepalive to the upstream: NGINX sends no "Connection: close"
    assert seen["connection"] in (None, "")


def test_body_limit_is_a_json_413(gateway: NginxServer) -> None:
    ok = httpx.post(gateway.base_url + "/api/alchemical/upload", content=b"a" * 60_000)
    assert ok.status_code == 200 and _json(ok)["bytes"] == 60_000
    big = httpx.post(
        gateway.base_url + "/api/alchemical/upload", content=b"a" * 70_000, headers={"X-Request-ID": "big-1"}
    )
    assert big.status_code == 413
    body = _json(big)
    assert body["error"] == "PAYLOAD_TOO_LARGE"
    assert body["request_id"] == "big-1"
    assert body["details"] == [{"field": "body", "reason": "larger than 65536 bytes"}]
    # analytics takes event batches up to 1 MiB
    batch = httpx.post(gateway.base_url + "/api/analytics/upload", content=b"a" * 500_000)
    assert batch.status_code == 200 and _json(batch)["bytes"] == 500_000
    too_big = httpx.post(gateway.base_url + "/api/analytics/upload", content=b"a" * 1_100_000)
    assert too_big.status_code == 413
    assert _json(too_big)["details"] == [{"field": "body", "reason": "larger than 1048576 bytes"}]


def test_large_responses_stream_and_compress(gateway: NginxServer) -> None:
    plain = httpx.get(gateway.base_url + "/api/alchemical/big", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and len(plain.json()["items"]) == 5000
    with httpx.stream(
        "GET", gateway.base_url + "/api/alchemical/big", headers={"Accept-Encoding": "gzip"}
    ) as compressed:
        assert compressed.headers["content-encoding"] == "gzip"
        raw = b"".join(compressed.iter_raw())
    assert len(raw) < len(plain.content) / 10
    assert json.loads(gzip.decompress(raw)) == plain.json()


def test_upstream_connections_are_kept_alive(gateway: NginxServer) -> None:
    """Sequential requests reuse the gateway's upstream connection (design/performance.md: mandatory)."""
    with httpx.Client(base_url=gateway.base_url) as client:
        ports = {client.get("/api/alchemical/echo/k").json()["client_port"] for _ in range(20)}
    assert len(ports) <= 2, ports


def test_access_log_is_json_with_request_id_and_upstream_time(gateway: NginxServer) -> None:
    httpx.get(gateway.base_url + "/api/runes/echo/logged", headers={"X-Request-ID": "log-me-1"})
    log_path = gateway.root / "logs" / "access.log"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the log is buffered for up to 1 s
        lines = log_path.read_text().splitlines() if log_path.exists() else []
        entries = [json.loads(line) for line in lines]
        mine = [e for e in entries if e["request_id"] == "log-me-1"]
        if mine:
            break
        time.sleep(0.2)
    else:
        pytest.fail("no access-log line for the request")
    entry = mine[0]
    assert entry["uri"] == "/api/runes/echo/logged" and entry["status"] == 200
    assert entry["upstream_status"] == "200" and float(entry["upstream_response_time"]) >= 0


def test_upstream_down_is_a_json_502(
    renderer: ModuleType, echo_service: ServiceProcess, nginx_factory: Callable[[str], NginxServer]
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    live = f"127.0.0.1:{echo_service.port}"
    server = nginx_factory(render_for_harness(renderer, {"core": [dead], "kitchen": [live], "rune": []}))
    for method in ("GET", "POST"):
        r = httpx.request(
            method, server.base_url + "/api/alchemical/echo/x", headers={"X-Request-ID": "down-1"}
        )
        assert r.status_code == 502
        assert _json(r) == {
            "error": "UPSTREAM_UNAVAILABLE",
            "message": "the service behind this route is unavailable; retry shortly",
            "request_id": "down-1",
        }
        assert r.headers["x-request-id"] == "down-1"
    # a service that is not running at all (no instance) answers the same way
    r = httpx.get(server.base_url + "/api/runes/daily")
    assert r.status_code == 502 and _json(r)["error"] == "UPSTREAM_UNAVAILABLE"
    # the other routes are unaffected
    assert httpx.get(server.base_url + "/api/kitchen/health").status_code == 200


def test_several_instances_and_failover(
    renderer: ModuleType, echo_service: ServiceProcess, nginx_factory: Callable[[str], NginxServer]
) -> None:
    """N instances per upstream; a dead one is skipped (connection refused is retried even for POST,
    since nothing was sent to it)."""
    dead = f"127.0.0.1:{free_port()}"
    live = f"127.0.0.1:{echo_service.port}"
    server = nginx_factory(render_for_harness(renderer, {"core": [dead, live]}))
    with httpx.Client(base_url=server.base_url) as client:
        for _ in range(6):
            assert client.get("/api/alchemical/echo/x").status_code == 200
            assert client.post("/api/alchemical/upload", content=b"{}").status_code == 200


@pytest.mark.parametrize(("public", "upstream"), [("/ws/", "/"), ("/ws", "/ws"), ("/ws/ws", "/ws")])
def test_websocket_upgrade(gateway: NginxServer, public: str, upstream: str) -> None:
    url = gateway.base_url.replace("http://", "ws://") + public
    with connect(url, additional_headers={"X-Request-ID": "ws-rid-1"}, open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["path"] == upstream
        assert hello["x_request_id"] == "ws-rid-1"
        assert hello["x_forwarded_for"] == "127.0.0.1"
        for i in range(3):
            ws.send(f"ping {i}")
            assert ws.recv(timeout=5) == f"echo:ping {i}"
