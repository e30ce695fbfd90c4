"""Fixtures for the deploy/gateway end-to-end tests: the integration harness's real NGINX and uvicorn, plus
the gateway renderer (``tests.support.gateway``)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration.conftest import (  # noqa: F401 - fixtures re-exported for this directory
    _require,
    nginx_factory,
    service_factory,
)
from tests.support.gateway import load_renderer, render_for_harness
from tests.support.servers import NginxServer, ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def renderer() -> ModuleType:
    return load_renderer()


@pytest.fixture(scope="session")
def echo_service() -> Iterator[ServiceProcess]:
    """``tests/e2e/apps.py`` (built with ``shared.app.create_app``) under uvicorn, shared by the e2e tests."""
    env = {
        # uvicorn's own variable: trust no proxy, so the app sees the TCP peer (keepalive test)
        "FORWARDED_ALLOW_IPS": "192.0.2.1",
        # the app accepts large bodies, so every 413 in these tests comes from the gateway
        "ALCHM_MAX_BODY_BYTES": str(2 * 1024 * 1024),
    }
    proc = ServiceProcess(app="tests.e2e.apps:app", env=env).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def gateway(renderer: ModuleType, echo_service: ServiceProcess) -> Iterator[NginxServer]:
    """The gateway with every route pointed at the echo service."""
    _require("nginx")
    target = [f"127.0.0.1:{echo_service.port}"]
    text = render_for_harness(renderer, {u.key: target for u in renderer.FLEET})
    server = NginxServer(text).start()
    yield server
    server.stop()
