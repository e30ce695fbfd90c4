"""The WebSocket endpoint at ``/`` and ``/ws`` (NGINX strips ``/ws/``), as a pure ASGI layer in front of the
FastAPI app.

It sits outside FastAPI's routing on purpose: a broadcast to thousands of sockets wants the thinnest path
(no Starlette ``WebSocket`` wrapper, no exception-middleware wrapper around ``send``), and the raw uvicorn
``send`` lets a hopelessly stuck client's transport be aborted (:attr:`Connection.transport_abort`). Other
paths and HTTP requests go on to the app unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import TokenRejected
from .hub import CLOSE_POLICY, CLOSE_TRY_AGAIN, Hub
from .metrics import DISCONNECTS

log = logging.getLogger("realtime.endpoint")

WS_PATHS = frozenset({"/", "/ws", "/ws/"})


def _transport_abort(send: Any) -> Callable[[], None] | None:
    """``transport.abort`` of uvicorn's protocol behind a raw ASGI ``send`` (None when not reachable)."""
    protocol = getattr(send, "__self__", None)
    abort = getattr(getattr(protocol, "transport", None), "abort", None)
    return abort if callable(abort) else None


def _disconnect_reason(code: Any) -> str:
    if code in (1000, 1001):
        return "client_closed"
    if code in (1005, 1006, None):
        return "connection_lost"
    if code in (1002, 1003, 1007, 1009):
        return "protocol_error"
    if code == 1011:
        return "ping_timeout"
    return "other"


class RealtimeEndpoint:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope.get("path") not in WS_PATHS:
            await self.app(scope, receive, send)
            return
        hub: Hub | None = getattr(self.state, "realtime_hub", None)
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if hub is None:  # not started (or already stopped)
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN, "reason": "starting up"})
            return
        await handle(hub, scope, receive, send)


async def handle(hub: Hub, scope: Scope, receive: Receive, send: Send) -> None:
    ip = hub.client_ip(scope)
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    token = (params.get("token") or [None])[0]
    last_event_id = (params.get("last_event_id") or params.get("lastEventId") or [None])[0]

    refusal = hub.admission(ip)
    principal: Any = None
    if refusal is None and token and hub.verify_token is not None:
        try:
            principal = await hub.verify_token(token)
        except TokenRejected as exc:
            refusal = ("invalid_token", CLOSE_POLICY, f"invalid token: {exc}")
    await send({"type": "websocket.accept"})
    if refusal is not None:
        why, code, text = refusal
        DISCONNECTS.labels(why).inc()
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "websocket.close", "code": code, "reason": text[:120]})
        return

    conn = hub.attach(send, ip, principal)
    conn.handler_task = asyncio.current_task()
    conn.transport_abort = _transport_abort(send)
    reason: str | None = None
    try:
        await hub.on_connect(conn, last_event_id)
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                raw = message.get("text")
                if raw is None:
                    raw = message.get("bytes") or b""
                await hub.on_text(conn, raw)
            elif kind == "websocket.disconnect":
                reason = _disconnect_reason(message.get("code"))
                break
    except asyncio.CancelledError:
        if conn.closing is None:
            raise
        task = asyncio.current_task()  # we cancelled ourselves to end a stuck connection
        if task is not None:
            task.uncancel()
    except (OSError, RuntimeError):
        reason = "connection_lost"
    finally:
        hub.finish(conn, reason)
