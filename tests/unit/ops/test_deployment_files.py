"""Static checks of the deployment files that cannot run here (no Docker engine): the compose files agree
with the fleet (shared.cli.SERVICES), the gateway configs and Prometheus; the Dockerfile has the promised
shape; .env.example documents every setting; deploy-backend.sh is valid (shellcheck-clean when available).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.cli import SERVICES
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def _yaml(name: str) -> Any:
    pyyaml = pytest.importorskip("yaml", reason="PyYAML is not installed: YAML files not parsed")
    return pyyaml.safe_load((ROOT / name).read_text())


def _option(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def _fleet_services(compose: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """compose service name -> (fleet service name, definition) for the containers running `alchm serve`."""
    found = {}
    for name, svc in compose["services"].items():
        command = svc.get("command") or []
        if svc.get("entrypoint") is None and command and command[0] in SERVICES:
            found[name] = (command[0], svc)
    return found


@pytest.mark.parametrize("filename", ["docker-compose.yml", "docker-compose.production.yml"])
def test_compose_runs_the_whole_fleet_consistently(filename: str) -> None:
    compose = _yaml(filename)
    fleet = _fleet_services(compose)
    assert {name for name, _ in fleet.values()} == set(SERVICES)
    for container, (name, svc) in fleet.items():
        command = svc["command"]
        port = SERVICES[name].port
        assert _option(command, "--port") == str(port), container
        assert _option(command, "--host") == "0.0.0.0", container
        assert _option(command, "--forwarded-allow-ips") == "*", container
        env = svc["environment"]
        assert env["HEALTHCHECK_PORT"] == str(port), container
        workers = int(_option(command, "--workers") or 1)
        if workers > 1:
            assert env.get("PROMETHEUS_MULTIPROC_DIR") == "/tmp/prometheus", container
            assert any(t.startswith("/tmp/prometheus:") for t in svc.get("tmpfs", [])), container
        else:
            assert "PROMETHEUS_MULTIPROC_DIR" not in env, container
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert svc["restart"] == "unless-stopped"
    migrate = compose["services"]["migrate"]
    assert migrate["entrypoint"] == ["alchm"] and migrate["command"] == ["db", "upgrade"]
    for store in ("postgres", "redis"):
        assert "healthcheck" in compose["services"][store]


def test_production_compose_shape() -> None:
    compose = _yaml("docker-compose.production.yml")
    services = compose["services"]
    for required in (
        "alchemical-core-1",
        "alchemical-core-2",
        "kitchen-intelligence-1",
        "kitchen-intelligence-2",
        "realtime",
        "rune",
        "analytics",
        "nginx",
        "postgres",
        "redis",
        "prometheus",
        "grafana",
        "alertmanager",
        "postgres-exporter",
        "redis-exporter",
    ):
        assert required in services, required
    published = {name: svc["ports"] for name, svc in services.items() if "ports" in svc}
    assert published == {"nginx": ["80:80", "443:443"]}
    for name, svc in services.items():
        if name != "migrate":
            assert svc.get("restart") == "unless-stopped", name
            assert svc["deploy"]["resources"]["limits"]["memory"], name
    for name, (_, svc) in _fleet_services(compose).items():
        assert svc["environment"]["ALCHM_ENV"] == "production", name
        assert svc["env_file"] == [".env.production"], name
    assert compose["networks"]["backend"]["internal"] is True
    volumes = services["nginx"]["volumes"]
    assert "./nginx/nginx.production.conf:/etc/nginx/nginx.conf:ro" in volumes
    assert "./nginx/ssl:/etc/nginx/ssl:ro" in volumes


@pytest.mark.parametrize("filename", ["docker-compose.yml", "docker-compose.production.yml"])
def test_bind_mounts_exist(filename: str) -> None:
    compose = _yaml(filename)
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{filename}: {name} mounts missing {source}"


@pytest.mark.parametrize(
    ("compose_file", "nginx_conf", "prometheus"),
    [
        ("docker-compose.yml", "nginx/nginx.dev.conf", "monitoring/prometheus.dev.yml"),
        ("docker-compose.production.yml", "nginx/nginx.production.conf", "monitoring/prometheus.yml"),
    ],
)
def test_gateway_and_prometheus_targets_are_compose_services(
    compose_file: str, nginx_conf: str, prometheus: str
) -> None:
    compose = _yaml(compose_file)
    names = set(compose["services"])
    for svc in compose["services"].values():
        networks = svc.get("networks")
        if isinstance(networks, dict):
            for net in networks.values():
                names |= set((net or {}).get("aliases", []))
    upstream_hosts = re.findall(r"server ([a-z][a-z0-9-]*):\d+ ", (ROOT / nginx_conf).read_text())
    assert upstream_hosts and set(upstream_hosts) <= names
    config = _yaml(prometheus)
    hosts = {
        t.split(":")[0]
        for job in config["scrape_configs"]
        for sc in job["static_configs"]
        for t in sc["targets"]
    }
    assert hosts - {"localhost"} <= names, hosts - names
    mounted = " ".join(compose["services"]["prometheus"]["volumes"])
    assert f"./{prometheus}:/etc/prometheus/prometheus.yml:ro" in mounted


def test_dockerfile_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"(?m)^FROM ", text)) == 2
    assert "FROM ${PYTHON_IMAGE} AS builder" in text and "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "COPY --from=builder /opt/venv /opt/venv" in text
    assert re.search(r"(?m)^USER 10001:10001$", text) and "--uid 10001" in text
    assert 'ENTRYPOINT ["alchm", "serve"]' in text
    assert re.search(r"(?m)^HEALTHCHECK ", text) and "/health" in text
    assert "tzdata" in text
    ignore = (ROOT / ".dockerignore").read_text().split()
    for needed in ("!pyproject.toml", "!README.md", "!shared/", "!services/"):
        assert needed in ignore


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"(?m)^#?\s*(ALCHM_[A-Z0-9_]+)=", text))
    for field in Settings.model_fields:
        if field == "jwt_secret_generated":  # internal flag, not configuration
            continue
        assert f"ALCHM_{field.upper()}" in documented, field
    for stem in ("CORE", "KITCHEN", "REALTIME", "RUNE", "ANALYTICS", "GATEWAY"):
        assert f"ALCHM_{stem}_PORT" in documented


def test_deploy_script_is_valid_bash() -> None:
    script = ROOT / "deploy-backend.sh"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text
    assert script.stat().st_mode & 0o111, "deploy-backend.sh is not executable"
    subprocess.run(["bash", "-n", str(script)], check=True)
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run([shellcheck, "--severity=style", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
