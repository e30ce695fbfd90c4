"""scripts/render_nginx.py: the gateway template renders into complete configs, the fleet table matches
shared.cli.SERVICES, and the committed compose configs are up to date. (``nginx -t`` and real traffic:
tests/e2e/.)"""

from __future__ import annotations

import importlib.util
import re
import resource
import sys
from pathlib import Path
from types import ModuleType

import pytest

from shared.cli import SERVICES

ROOT = Path(__file__).resolve().parents[3]


def _load() -> ModuleType:
    name = "alchm_render_nginx"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "render_nginx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


render_nginx = _load()
TEMPLATE = (ROOT / "nginx" / "gateway.conf.template").read_text()


def _upstream_block(text: str, name: str) -> str:
    match = re.search(r"upstream " + name + r" \{(.*?)\n    \}", text, re.S)
    assert match, name
    return match.group(1)


def test_fleet_table_matches_the_cli() -> None:
    fleet = {u.service: (u.port, u.prefix) for u in render_nginx.FLEET}
    assert fleet == {e.name: (e.port, e.public_prefix) for e in SERVICES.values()}


def test_every_public_prefix_has_a_route() -> None:
    for entry in SERVICES.values():
        assert f"location {entry.public_prefix} {{" in TEMPLATE, entry.public_prefix
    assert "location /api/auth/ {\n            proxy_pass http://alchm_core/auth/;" in TEMPLATE
    assert "location = /ws {" in TEMPLATE


def test_local_render_is_complete() -> None:
    text = render_nginx.render(listen="127.0.0.1:18080", prefix="/srv/alchm/var/nginx")
    assert "{{" not in text and "}}" not in text
    assert "listen 127.0.0.1:18080 backlog=4096;" in text
    assert "pid /srv/alchm/var/nginx/nginx.pid;" in text
    assert "client_body_temp_path /srv/alchm/var/nginx/tmp/client_body;" in text
    assert "access_log /srv/alchm/var/nginx/logs/access.log alchm_json" in text
    assert "\nuser " not in text  # no user directive unless asked
    assert "---8<---" not in text and "TEMPLATE" not in text
    for u in render_nginx.FLEET:
        block = _upstream_block(text, f"alchm_{u.key}")
        assert f"server 127.0.0.1:{u.port} max_fails=3 fail_timeout=10s;" in block
        assert "keepalive 64;" in block
    assert "proxy_http_version 1.1;" in text
    assert 'proxy_set_header Connection "";' in text
    assert "proxy_next_upstream error timeout http_502 http_503;" in text
    directives = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "non_idempotent" not in directives  # POST/PATCH are never retried on another instance
    assert "map $http_upgrade $connection_upgrade" in text
    assert "client_max_body_size 64k;" in text


def test_harness_placeholders_pass_through() -> None:
    text = render_nginx.render(listen="127.0.0.1:{{PORT}}", prefix="{{PREFIX}}")
    assert "listen 127.0.0.1:{{PORT}} backlog=4096;" in text
    assert "pid {{PREFIX}}/nginx.pid;" in text


def test_several_instances_and_absent_services() -> None:
    text = render_nginx.render(upstreams={"core": ["10.0.0.1:8000", "10.0.0.2:8000"], "rune": []})
    core = _upstream_block(text, "alchm_core")
    assert core.count("server 10.0.0.") == 2
    rune = _upstream_block(text, "alchm_rune")
    assert "server 127.0.0.1:9 down;" in rune
    # service names and aliases are accepted too
    text = render_nginx.render(upstreams={"kitchen-intelligence": ["127.0.0.1:9100"]})
    assert "server 127.0.0.1:9100 " in _upstream_block(text, "alchm_kitchen")


def test_bad_input_is_refused() -> None:
    with pytest.raises(render_nginx.RenderError):
        render_nginx.render(upstreams={"nope": ["127.0.0.1:1"]})
    with pytest.raises(render_nginx.RenderError):
        render_nginx.render(upstreams={"core": ["127.0.0.1:8000; evil"]})
    with pytest.raises(render_nginx.RenderError):
        render_nginx.render(profile="staging")
    with pytest.raises(render_nginx.RenderError, match="UNKNOWN_THING"):
        render_nginx.render(template="x {{UNKNOWN_THING}} y")
    with pytest.raises(render_nginx.RenderError):
        render_nginx.parse_upstreams(["core"])
    assert render_nginx.parse_upstreams(["core=a:1,b:2", "ws="]) == {"core": ["a:1", "b:2"], "realtime": []}


def test_file_limits_stay_within_the_hard_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    text = render_nginx.render()
    nofile = int(re.search(r"worker_rlimit_nofile (\d+);", text).group(1))  # type: ignore[union-attr]
    connections = int(re.search(r"worker_connections (\d+);", text).group(1))  # type: ignore[union-attr]
    if hard != resource.RLIM_INFINITY:
        assert nofile <= hard
    assert connections < nofile
    # 10,000 WebSockets need 20,000 connections when the limits allow it
    if hard == resource.RLIM_INFINITY or hard >= 65536:
        assert nofile == 65536 and connections >= 20_000


@pytest.mark.parametrize("profile", ["dev", "production"])
def test_committed_configs_are_up_to_date(profile: str) -> None:
    path = ROOT / "nginx" / f"nginx.{profile}.conf"
    assert path.read_text() == render_nginx.committed_text(profile), (
        f"{path.name} is stale: run python3 scripts/render_nginx.py --write-committed"
    )


def test_compose_profiles() -> None:
    dev = render_nginx.render(profile="dev")
    assert "user nginx;" in dev and "listen 80 default_server;" in dev
    assert "server alchemical-core:8000 max_fails=3 fail_timeout=10s resolve;" in dev
    assert "resolver 127.0.0.11" in dev and "ssl_certificate" not in dev
    prod = render_nginx.render(profile="production")
    assert "listen 443 ssl default_server;" in prod and "Strict-Transport-Security" in prod
    assert "server alchemical-core-2:8000 max_fails=3 fail_timeout=10s resolve;" in prod
    assert "server kitchen-intelligence-2:8100 max_fails=3 fail_timeout=10s resolve;" in prod


def test_cli_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "nginx.conf"
    rc = render_nginx.main(
        ["--prefix", str(tmp_path), "--listen", "127.0.0.1:1234", "--upstream", "rune=", "-o", str(out)]
    )
    assert rc == 0
    text = out.read_text()
    assert "listen 127.0.0.1:1234 " in text and "server 127.0.0.1:9 down;" in text
    assert render_nginx.main(["--upstream", "bogus=1.2.3.4:5", "-o", str(out)]) == 2
    assert render_nginx.main(["--check-committed"]) == 0
