"""A tiny service built with the real app factory, for the gateway tests: it echoes what reached it.

Every gateway route (``/api/alchemical/``, ``/api/auth/``, ``/ws/``…) is pointed at this one app, so a test
can see exactly which path, headers and body arrived upstream.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, WebSocket

from shared.app import create_app

router = APIRouter()


def _seen(request: Request) -> dict[str, object]:
    headers = request.headers
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "x_request_id": headers.get("x-request-id"),
        "x_forwarded_for": headers.get("x-forwarded-for"),
        "x_forwarded_proto": headers.get("x-forwarded-proto"),
        "x_forwarded_prefix": headers.get("x-forwarded-prefix"),
        "x_real_ip": headers.get("x-real-ip"),
        "connection": headers.get("connection"),
        "client": request.client.host if request.client else None,
        # the TCP peer's port (the echo service runs with FORWARDED_ALLOW_IPS set to nobody, so uvicorn
        # does not replace the peer with X-Forwarded-For): the same port means a reused connection
        "client_port": request.client.port if request.client else None,
    }


@router.get("/echo/{rest:path}")
async def echo_get(rest: str, request: Request) -> dict[str, object]:
    return _seen(request)


@router.get("/auth/{rest:path}")
async def echo_auth(rest: str, request: Request) -> dict[str, object]:
    return _seen(request)


@router.get("/api/v1/{rest:path}")
async def echo_api_v1(rest: str, request: Request) -> dict[str, object]:
    return _seen(request)


@router.post("/upload")
async def upload(request: Request) -> dict[str, object]:
    body = await request.body()
    return {**_seen(request), "bytes": len(body)}


@router.get("/big")
async def big() -> dict[str, object]:
    """A response larger than the proxy buffers (streamed through, never written to disk)."""
    return {"items": ["x" * 100 for _ in range(5000)]}


async def _echo_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(
        {
            "path": websocket.url.path,
            "x_request_id": websocket.headers.get("x-request-id"),
            "x_forwarded_for": websocket.headers.get("x-forwarded-for"),
        }
    )
    while True:
        text = await websocket.receive_text()
        await websocket.send_text("echo:" + text)


@router.websocket("/")
async def ws_root(websocket: WebSocket) -> None:
    await _echo_socket(websocket)


@router.websocket("/ws")
async def ws_path(websocket: WebSocket) -> None:
    await _echo_socket(websocket)


app = create_app("e2e-echo", routers=[router])
