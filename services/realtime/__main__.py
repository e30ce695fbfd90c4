"""``python -m services.realtime [--host H] [--port P]``: the realtime service under uvicorn with the
WebSocket options it is designed for (docs/realtime.md): the Sans-I/O ``websockets`` implementation,
protocol pings every ``ALCHM_REALTIME_PING_INTERVAL_S`` (timeout ``..._PING_TIMEOUT_S``), permessage-deflate
off (``ALCHM_REALTIME_PER_MESSAGE_DEFLATE``), a 64 KiB protocol frame cap, proxy headers from the trusted
proxies, and the open-files limit raised.

``alchm serve realtime`` can get the same options from :func:`uvicorn_options`.
"""

from __future__ import annotations

import argparse
from typing import Any

from shared.cli import raise_fd_limit
from shared.settings import get_settings

from .config import RealtimeSettings, get_realtime_settings


def uvicorn_options(rt: RealtimeSettings | None = None) -> dict[str, Any]:
    """The uvicorn keyword arguments that matter for this service's WebSockets."""
    rt = rt or get_realtime_settings()
    return {
        "ws": "websockets-sansio",
        "ws_ping_interval": rt.ping_interval_s,
        "ws_ping_timeout": rt.ping_timeout_s,
        "ws_per_message_deflate": rt.per_message_deflate,
        "ws_max_size": rt.ws_max_size,
        "backlog": 4096,
        "timeout_graceful_shutdown": 15,
    }


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m services.realtime")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    raise_fd_limit()
    uvicorn.run(
        "services.realtime.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=True,
        forwarded_allow_ips=get_settings().forwarded_allow_ips,
        access_log=False,
        log_config=None,
        **uvicorn_options(),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
