"""deploy-backend.sh end to end, on ephemeral ports with a private ALCHM_VAR_DIR: start, --status, the
gateway and a service through it, idempotent second run (same pids, no duplicates), --stop (no process
left, ports free). It runs whatever services are built at test time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.cli import SERVICES, ServiceEntry
from tests.integration.conftest import _require
from tests.support.servers import REPO_ROOT, free_port

pytestmark = pytest.mark.integration

SCRIPT = REPO_ROOT / "deploy-backend.sh"
STEMS = {
    "alchemical-core": "CORE",
    "kitchen-intelligence": "KITCHEN",
    "realtime": "REALTIME",
    "rune": "RUNE",
    "analytics": "ANALYTICS",
}


def _present() -> list[ServiceEntry]:
    found = []
    for entry in SERVICES.values():
        try:
            if entry.exists():
                found.append(entry)
        except ImportError:  # parent package missing
            pass
    return found


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _processes(pattern: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in cmdline:
            pids.append(int(entry.name))
    return pids


@dataclass
class Fleet:
    env: dict[str, str]
    var: Path
    gateway_port: int
    ports: dict[str, int]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def pids(self) -> dict[str, str]:
        found = {p.stem: p.read_text().strip() for p in (self.var / "run").glob("*.pid")}
        nginx_pid = self.var / "nginx" / "nginx.pid"
        if nginx_pid.exists():
            found["gateway"] = nginx_pid.read_text().strip()
        return found


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    _require("nginx")
    var = tmp_path / "var"
    ports = {name: free_port() for name in STEMS}
    gateway_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALCHM_")}
    env |= {
        "ALCHM_VAR_DIR": str(var),
        "ALCHM_SKIP_INSTALL": "1",  # the test's own virtualenv is already installed
        "ALCHM_VENV": sys.prefix,
        "ALCHM_GATEWAY_PORT": str(gateway_port),
        "ALCHM_READY_TIMEOUT": "45",
    }
    env |= {f"ALCHM_{STEMS[name]}_PORT": str(port) for name, port in ports.items()}
    fleet = Fleet(env=env, var=var, gateway_port=gateway_port, ports=ports)
    yield fleet
    fleet.run("--stop", timeout=60)  # whatever happened above


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_deploy_status_idempotent_stop(fleet: Fleet) -> None:
    present = _present()
    first = fleet.run()
    assert first.returncode == 0, _output(first)
    gateway = f"http://127.0.0.1:{fleet.gateway_port}"
    assert httpx.get(gateway + "/health").json() == {"status": "ok", "service": "gateway"}

    if not present:
        assert "no service is built yet" in first.stderr, _output(first)
    for entry in present:
        through = httpx.get(gateway + entry.public_prefix + "health", timeout=5)
        assert through.status_code == 200, (entry.name, through.text)
        assert through.json()["service"] == entry.name
    for name in STEMS:
        if name not in {e.name for e in present}:
            assert f"{name}: not built yet" in first.stdout

    status = fleet.run("--status")
    assert status.returncode == 0, _output(status)
    pids = fleet.pids()
    assert set(pids) == {e.name for e in present} | {"gateway"}
    for name, pid in pids.items():
        line = next(x for x in status.stdout.splitlines() if x.startswith(name + " "))
        assert pid in line.split() and "200" in line.split(), line

    # Again: nothing healthy is restarted, nothing is duplicated.
    second = fleet.run()
    assert second.returncode == 0, _output(second)
    assert fleet.pids() == pids
    for entry in present:
        assert f"{entry.name}: already running and healthy" in second.stdout
        port = fleet.ports[entry.name]
        assert len(_processes(f"alchm serve {entry.name} --host 127.0.0.1 --port {port} ")) == 1
    assert "gateway: already running with the same config" in second.stdout
    assert _processes(f"-p {fleet.var / 'nginx'} ") == [int(pids["gateway"])]

    stop = fleet.run("--stop")
    assert stop.returncode == 0, _output(stop)
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"{name} (pid {pid}) still running"
    for port in [fleet.gateway_port, *(fleet.ports[e.name] for e in present)]:
        assert not _listening(port), f"port {port} still in use"
    assert not list((fleet.var / "run").glob("*.pid"))

    after = fleet.run("--status")
    assert after.returncode == 3  # nothing running


def _is_zombie(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_refuses_a_port_taken_by_someone_else(fleet: Fleet) -> None:
    present = _present()
    if not present:
        pytest.skip("no service is built yet")
    name = present[0].name
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", fleet.ports[name]))
        squatter.listen()
        result = fleet.run()
    assert result.returncode != 0
    expected = f"port {fleet.ports[name]} for {name} is in use by a process this script did not start"
    assert expected in result.stderr


def test_usage() -> None:
    ok = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and "--status" in ok.stdout and "ALCHM_GATEWAY_PORT" in ok.stdout
    bad = subprocess.run(["bash", str(SCRIPT), "--bogus"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2
