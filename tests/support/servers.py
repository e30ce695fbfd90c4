"""Real servers for integration tests: throwaway PostgreSQL, Redis and NGINX on ephemeral ports, and
uvicorn subprocesses running our apps. Binaries come from Debian's packages (installed by ``.ci/run``).

Nothing here touches the fleet's fixed ports (8000–8100, 8080) or system services (5432, 6379): every
server gets a free ephemeral port and a private temporary directory, and is stopped at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
_LIVE: list[object] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def find_binary(name: str, extra_globs: Sequence[str] = ()) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for pattern in extra_globs:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    for prefix in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        candidate = Path(prefix) / name
        if candidate.exists():
            return str(candidate)
    return None


def _stop_process(
    proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 10
) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster (trust auth, fsync off) in a temporary directory."""

    port: int = field(default_factory=free_port)
    user: str = "alchm"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="alchm-pg-")))
    proc: subprocess.Popen[bytes] | None = None

    def _owner(self) -> dict[str, object]:
        """Popen keyword arguments: PostgreSQL refuses to run as root, so drop to the postgres user
        (directly, not through runuser, so that signals reach the server itself)."""
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        return {}

    def start(self) -> PostgresServer:
        initdb = find_binary("initdb", ["/usr/lib/postgresql/*/bin/initdb"])
        postgres = find_binary("postgres", ["/usr/lib/postgresql/*/bin/postgres"])
        if not initdb or not postgres:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        data = self.root / "data"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        subprocess.run(
            [initdb, "-D", str(data), "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.root,
            **self._owner(),  # type: ignore[call-overload]
        )
        log = open(self.root / "postgres.log", "ab")
        self.proc = subprocess.Popen(
            [
                postgres,
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            **self._owner(),  # type: ignore[call-overload]
        )
        _LIVE.append(self)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("postgres exited: " + (self.root / "postgres.log").read_text()[-2000:])
            result = self.psql("SELECT 1", check=False)
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("postgres did not become ready")

    def psql(
        self, sql: str, database: str = "postgres", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ],
            check=check,
            capture_output=True,
            text=True,
        )

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database and return its SQLAlchemy asyncpg URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        tpl = f" TEMPLATE {template}" if template else ""
        self.psql(f'CREATE DATABASE "{name}"{tpl}')
        return self.url(name)

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        _stop_process(self.proc, signal.SIGINT)  # fast shutdown
        self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A private redis-server; ``stop()`` and ``start()`` keep the same port (for failure tests)."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = find_binary("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if self not in _LIVE:
            _LIVE.append(self)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        _stop_process(self.proc)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


# --------------------------------------------------------------------------------------------------
# NGINX
# --------------------------------------------------------------------------------------------------


@dataclass
class NginxServer:
    """NGINX with a given config text; ``{{PORT}}`` and ``{{PREFIX}}`` are filled in."""

    config_text: str
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="alchm-nginx-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NginxServer:
        binary = find_binary("nginx")
        if not binary:
            raise RuntimeError("nginx not found (apt-get install nginx-light)")
        for sub in ("logs", "tmp"):
            (self.root / sub).mkdir(exist_ok=True)
        os.chmod(self.root, 0o755)
        conf = self.root / "nginx.conf"
        conf.write_text(
            self.config_text.replace("{{PORT}}", str(self.port)).replace("{{PREFIX}}", str(self.root))
        )
        check = subprocess.run(
            [binary, "-t", "-p", str(self.root), "-c", str(conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError("nginx config rejected: " + check.stderr)
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.root), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "logs" / "stderr.log", "ab"),
        )
        _LIVE.append(self)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        _stop_process(self.proc, signal.SIGQUIT)
        self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# uvicorn
# --------------------------------------------------------------------------------------------------


@dataclass
class ServiceProcess:
    """One of our apps under uvicorn in a subprocess on an ephemeral port."""

    app: str
    env: Mapping[str, str]
    port: int = field(default_factory=free_port)
    factory: bool = False
    #: More uvicorn options (e.g. ``--ws websockets-sansio``, as ``python -m services.realtime`` runs).
    extra_args: Sequence[str] = ()
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(
        default_factory=lambda: Path(tempfile.mkstemp(prefix="alchm-svc-", suffix=".log")[1])
    )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/health", timeout: float = 30) -> ServiceProcess:
        env = {**os.environ, "ALCHM_ENV": "test", "ALCHM_LOG_JSON": "true", **self.env}
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        if self.factory:
            cmd.append("--factory")
        cmd.extend(self.extra_args)
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
        )
        _LIVE.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + ready_path, timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise TimeoutError(f"{self.app} not ready:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        _stop_process(self.proc, sig)
        self.proc = None

    def kill(self) -> None:
        """Simulate a crash: SIGKILL, no graceful shutdown."""
        _stop_process(self.proc, signal.SIGKILL)
        self.proc = None

    def logs(self) -> str:
        return self.log_path.read_text()


def run_uvicorn(
    app: str,
    env: Mapping[str, str] | None = None,
    *,
    factory: bool = False,
    ready_path: str = "/health",
    extra_args: Sequence[str] = (),
) -> ServiceProcess:
    return ServiceProcess(app=app, env=dict(env or {}), factory=factory, extra_args=tuple(extra_args)).start(
        ready_path=ready_path
    )


@atexit.register
def _cleanup() -> None:
    for server in reversed(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()  # type: ignore[attr-defined]
