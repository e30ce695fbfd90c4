"""The committed compose gateways (nginx/nginx.dev.conf, nginx/nginx.production.conf) pass ``nginx -t``.

They are written for the nginx:1.28 image inside compose, so the test adapts what only exists there:
compose DNS names become 127.0.0.1, the image's ``nginx`` user, pid, temp and log paths move into a
temporary prefix, the TLS certificate is a throwaway self-signed one, and the two directives older than
this host's NGINX (``http2 on`` 1.25.1, ``server ... resolve`` 1.27.3) are dropped when it lacks them.
Everything else (routes, upstreams, TLS settings, maps, error pages) is parsed by the real binary.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import _require
from tests.support.servers import REPO_ROOT, NginxServer, ServiceProcess, find_binary, free_port

pytestmark = pytest.mark.integration


def _nginx_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    assert match, out
    return tuple(int(part) for part in match.groups())


def _self_signed(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _adapt(text: str, prefix: Path, version: tuple[int, ...], cert: Path, key: Path) -> str:
    text = re.sub(r"(?m)^user nginx;$", "", text)
    text = text.replace("/var/run/nginx.pid", str(prefix / "nginx.pid"))
    text = text.replace("/var/cache/nginx", str(prefix / "tmp"))
    text = text.replace("/etc/nginx/ssl/fullchain.pem", str(cert)).replace(
        "/etc/nginx/ssl/privkey.pem", str(key)
    )
    text = re.sub(r"server [a-z][a-z0-9-]*:(\d+) ", r"server 127.0.0.1:\1 ", text)
    if version < (1, 27, 3):
        text = text.replace(" resolve;", ";")
    if version < (1, 25, 1):
        text = text.replace("        http2 on;\n", "")
    return text


@pytest.mark.parametrize("name", ["nginx.dev.conf", "nginx.production.conf"])
def test_committed_gateway_config_is_valid(name: str, tmp_path: Path) -> None:
    _require("nginx")
    binary = find_binary("nginx")
    assert binary is not None
    (tmp_path / "tmp").mkdir()
    cert, key = _self_signed(tmp_path)
    text = (REPO_ROOT / "nginx" / name).read_text()
    conf = tmp_path / "nginx.conf"
    conf.write_text(_adapt(text, tmp_path, _nginx_version(binary), cert, key))
    result = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_production_config_shape() -> None:
    text = (REPO_ROOT / "nginx" / "nginx.production.conf").read_text()
    assert "listen 443 ssl default_server;" in text
    assert "return 301 https://$host$request_uri;" in text
    assert 'Strict-Transport-Security "max-age=63072000; includeSubDomains" always' in text
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    for instance in (
        "alchemical-core-1:8000",
        "alchemical-core-2:8000",
        "kitchen-intelligence-1:8100",
        "kitchen-intelligence-2:8100",
        "realtime:8001",
        "rune:8002",
        "analytics:8003",
    ):
        assert f"server {instance} max_fails=3 fail_timeout=10s resolve;" in text
    assert "stub_status;" in text  # internal :8081 for nginx-prometheus-exporter


def test_production_gateway_serves_tls_redirects_and_routes(
    tmp_path: Path, echo_service: ServiceProcess, nginx_factory: Callable[[str], NginxServer]
) -> None:
    """The production config, really running: HTTPS with HSTS, HTTP->HTTPS redirect, health on :80,
    routes to the upstream, metrics blocked, the internal status server."""
    binary = find_binary("nginx")
    assert binary is not None
    cert, key = _self_signed(tmp_path)
    http_port, status_port = free_port(), free_port()
    text = (REPO_ROOT / "nginx" / "nginx.production.conf").read_text()
    text = text.replace("/var/run/nginx.pid", "{{PREFIX}}/nginx.pid").replace(
        "/var/cache/nginx", "{{PREFIX}}/tmp"
    )
    text = text.replace("/dev/stdout", "{{PREFIX}}/logs/access.log")
    text = _adapt(text, tmp_path, _nginx_version(binary), cert, key)
    text = re.sub(r"server 127\.0\.0\.1:\d+ ", f"server 127.0.0.1:{echo_service.port} ", text)
    text = text.replace("listen 443 ssl default_server;", "listen 127.0.0.1:{{PORT}} ssl default_server;")
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;")
    text = text.replace("listen 8081;", f"listen 127.0.0.1:{status_port};")
    server = nginx_factory(text)
    https = f"https://127.0.0.1:{server.port}"

    with httpx.Client(verify=False) as client:
        health = client.get(https + "/health")
        assert health.status_code == 200 and health.json()["service"] == "gateway"
        assert health.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        assert health.headers["x-frame-options"] == "DENY"
        routed = client.get(https + "/api/kitchen/echo/x")
        assert routed.status_code == 200 and routed.json()["path"] == "/echo/x"
        assert routed.json()["x_forwarded_proto"] == "https"
        assert client.get(https + "/api/kitchen/metrics").status_code == 404

    plain = httpx.get(
        f"http://127.0.0.1:{http_port}/api/kitchen/recipes?x=1", headers={"Host": "alchm.kitchen"}
    )
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://alchm.kitchen/api/kitchen/recipes?x=1"
    assert httpx.get(f"http://127.0.0.1:{http_port}/health").status_code == 200
    status = httpx.get(f"http://127.0.0.1:{status_port}/nginx_status")
    assert status.status_code == 200 and "Active connections" in status.text
