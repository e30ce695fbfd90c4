"""``alchm``: the project's command line.

    alchm services                     list the services, their ports and import paths
    alchm serve NAME [--port P] [--host H] [--workers N]
                                       run one service under uvicorn (uvloop, httptools)

Further command groups (``db``, ``user``) register themselves in :data:`COMMAND_GROUPS`.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    module: str
    port: int
    public_prefix: str

    @property
    def app_path(self) -> str:
        return f"{self.module}:app"

    def exists(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except ModuleNotFoundError:  # the service's package itself is missing
            return False


#: The fleet. Ports are the ones the frontend already uses.
SERVICES: dict[str, ServiceEntry] = {
    e.name: e
    for e in (
        ServiceEntry("alchemical-core", "services.alchemical_core.main", 8000, "/api/alchemical/"),
        ServiceEntry("kitchen-intelligence", "services.kitchen_intelligence.main", 8100, "/api/kitchen/"),
        ServiceEntry("realtime", "services.realtime.main", 8001, "/ws/"),
        ServiceEntry("rune", "services.rune.main", 8002, "/api/runes/"),
        ServiceEntry("analytics", "services.analytics.main", 8003, "/api/analytics/"),
    )
}
ALIASES = {"core": "alchemical-core", "kitchen": "kitchen-intelligence", "ws": "realtime", "runes": "rune"}

#: name → (configure subparser, run) for command groups contributed by other modules.
COMMAND_GROUPS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {}


def raise_fd_limit(target: int = 65536) -> int:
    """Raise the soft open-files limit (WebSocket servers need far more than the default 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(target, hard) if hard != resource.RLIM_INFINITY else target
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        return want
    return soft


def _cmd_services(_: argparse.Namespace) -> int:
    for entry in SERVICES.values():
        state = "present" if entry.exists() else "not built"
        print(f"{entry.name:22} :{entry.port:<5} {entry.public_prefix:18} {entry.app_path} ({state})")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.settings import get_settings

    name = ALIASES.get(args.name, args.name)
    entry = SERVICES.get(name)
    if entry is None:
        print(f"unknown service {args.name!r}; known: {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    if not entry.exists():
        print(f"service {name} is not built yet ({entry.module} missing)", file=sys.stderr)
        return 2
    raise_fd_limit()
    options: dict[str, object] = {
        "ws": "websockets-sansio",
        "timeout_keep_alive": 75,
        "timeout_graceful_shutdown": 10,
    }
    # A service may declare the uvicorn options it is designed for (e.g. realtime's WebSocket settings)
    # as ``uvicorn_options()`` in its main module; it is looked up by name, like the app itself.
    module = importlib.import_module(entry.module)
    service_options = getattr(module, "uvicorn_options", None)
    if callable(service_options):
        options.update(service_options())
    uvicorn.run(
        entry.app_path,
        host=args.host,
        port=args.port or entry.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips or get_settings().forwarded_allow_ips,
        access_log=False,
        log_config=None,
        **options,  # type: ignore[arg-type]
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alchm", description="alchm.kitchen backend command line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("services", help="list the services")
    p.set_defaults(func=_cmd_services)

    p = sub.add_parser("serve", help="run one service under uvicorn")
    p.add_argument("name", help="service name (alchemical-core|kitchen-intelligence|realtime|rune|analytics)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="default: the service's own port")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies whose X-Forwarded-For is trusted (default: ALCHM_FORWARDED_ALLOW_IPS, 127.0.0.1)",
    )
    p.set_defaults(func=_cmd_serve)

    _load_groups()
    for name, (configure, run) in COMMAND_GROUPS.items():
        gp = sub.add_parser(name)
        configure(gp)
        gp.set_defaults(func=run)
    return parser


def _load_groups() -> None:
    """Import the modules that contribute command groups (they register into COMMAND_GROUPS)."""
    for module in ("shared.db.cli",):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    # `python -m shared.cli` runs this file as __main__: hand over to the importable module, where the
    # command groups (shared.db.cli) register themselves.
    from shared.cli import main as _main

    raise SystemExit(_main())
