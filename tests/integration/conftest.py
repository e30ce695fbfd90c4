"""Fixtures for integration tests: real PostgreSQL, Redis and NGINX (Debian packages, see .ci/run).

When a server binary is missing the dependent tests are skipped locally, but FAIL under CI (``CI=true``)
so that a broken install step can never turn the suite green by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.support.servers import (
    NginxServer,
    PostgresServer,
    RedisServer,
    ServiceProcess,
    find_binary,
    run_uvicorn,
)

pytestmark = pytest.mark.integration

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _require(binary: str, globs: tuple[str, ...] = ()) -> None:
    if find_binary(binary, globs) is None:
        message = f"{binary} is not installed (run .ci/run or apt-get install it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    _require("postgres", ("/usr/lib/postgresql/*/bin/postgres",))
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL (asyncpg SQLAlchemy URL)."""
    return pg_server.create_database()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A private Redis for this test (it may stop and restart it)."""
    _require("redis-server")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_redis() -> Iterator[RedisServer]:
    """One Redis for tests that only need a working server (flush what you write)."""
    _require("redis-server")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def nginx_factory() -> Iterator[Callable[[str], NginxServer]]:
    _require("nginx")
    started: list[NginxServer] = []

    def make(config_text: str) -> NginxServer:
        server = NginxServer(config_text).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def service_factory() -> Iterator[Callable[..., ServiceProcess]]:
    """Start our apps under uvicorn subprocesses; all are stopped after the test."""
    started: list[ServiceProcess] = []

    def make(app: str, env: dict[str, str] | None = None, **kwargs: object) -> ServiceProcess:
        proc = run_uvicorn(app, env, **kwargs)  # type: ignore[arg-type]
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()
