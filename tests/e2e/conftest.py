"""Fixtures for the deploy/gateway end-to-end tests: the integration harness's real NGINX and uvicorn, plus
the gateway renderer (``scripts/render_nginx.py``, loaded from its path: ``scripts`` is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration.conftest import (  # noqa: F401 - fixtures re-exported for this directory
    _require,
    nginx_factory,
    service_factory,
)
from tests.support.servers import REPO_ROOT, NginxServer, ServiceProcess

pytestmark = pytest.mark.integration


def load_renderer() -> ModuleType:
    name = "alchm_render_nginx"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / "render_nginx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered while it executes
    spec.loader.exec_module(module)
    return module


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


def render_for_harness(renderer: ModuleType, upstreams: dict[str, list[str]], **kwargs: object) -> str:
    """The local-profile config with the harness's placeholders (``NginxServer`` fills them in)."""
    text: str = renderer.render(
        profile="local", listen="127.0.0.1:{{PORT}}", prefix="{{PREFIX}}", upstreams=upstreams, **kwargs
    )
    return text


@pytest.fixture(scope="module")
def gateway(renderer: ModuleType, echo_service: ServiceProcess) -> Iterator[NginxServer]:
    """The gateway with every route pointed at the echo service."""
    _require("nginx")
    target = [f"127.0.0.1:{echo_service.port}"]
    text = render_for_harness(renderer, {u.key: target for u in renderer.FLEET})
    server = NginxServer(text).start()
    yield server
    server.stop()
