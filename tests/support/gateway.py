"""The gateway renderer (``scripts/render_nginx.py``, loaded from its path: ``scripts`` is not a package) and
the local-profile config with :class:`tests.support.servers.NginxServer`'s placeholders, for the e2e tests
and the benchmarks."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.support.servers import REPO_ROOT


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


def render_for_harness(renderer: ModuleType, upstreams: dict[str, list[str]], **kwargs: object) -> str:
    """The local-profile config with the harness's placeholders (``NginxServer`` fills them in)."""
    text: str = renderer.render(
        profile="local", listen="127.0.0.1:{{PORT}}", prefix="{{PREFIX}}", upstreams=upstreams, **kwargs
    )
    return text
