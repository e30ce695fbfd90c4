"""The request middleware shared by every service, as one pure-ASGI layer (cheap on the hot path):

- ``X-Request-ID``: echoed when the client sent a sane one, else generated; set in the logging context.
- Request-body size limit: 413 with the api.md error body, by Content-Length or while streaming.
- Prometheus HTTP metrics labelled by route template (``/recipes/{recipe_id}``, never the raw path).
- Optional one-line access log.
- API docs behind the gateway: for the docs pages and the schema only, a sane ``X-Forwarded-Prefix``
  (the public prefix NGINX stripped, e.g. ``/api/alchemical``) becomes the ASGI ``root_path``, so
  ``/api/alchemical/docs`` loads ``/api/alchemical/openapi.json`` and "Try it out" calls the public paths.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import error_body
from shared.http import dumps
from shared.logging import request_id_var
from shared.metrics import HTTP_BODY_REJECTED, HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("shared.access")

_RID_OK = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: Routes that are not worth a metric series of their own (probes and the scrape itself).
UNMEASURED = frozenset({"/health", "/ready", "/metrics"})
#: A public path prefix: slash-separated plain segments only (it ends up inside the docs page's script).
_PREFIX_OK = re.compile(r"^(?:/[A-Za-z0-9._~-]{1,64}){1,8}$")


def forwarded_prefix(scope: Scope) -> str | None:
    """The request's ``X-Forwarded-Prefix`` when it is a plain path prefix, else None."""
    for name, value in scope["headers"]:
        if name == b"x-forwarded-prefix":
            candidate = value.decode("latin-1").rstrip("/")
            return candidate if _PREFIX_OK.match(candidate) else None
    return None


class _BodyTooLarge(Exception):
    pass


def _new_request_id() -> str:
    return os.urandom(12).hex()


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_body_bytes: int,
        access_log: bool = False,
        docs_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.docs_paths = docs_paths
        self.service = service
        self.max_body = max_body_bytes
        self.access_log = access_log
        self._in_flight = HTTP_IN_FLIGHT.labels(service)
        self._rejected = HTTP_BODY_REJECTED.labels(service)
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, str(status))
        pair = self._children.get(key)
        if pair is None:
            pair = (
                HTTP_REQUESTS.labels(self.service, method, route, key[2]),
                HTTP_LATENCY.labels(self.service, method, route),
            )
            self._children[key] = pair
        pair[0].inc()
        pair[1].observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                request_id_var.set(_new_request_id())
            await self.app(scope, receive, send)
            return

        if scope["path"] in self.docs_paths and not scope.get("root_path"):
            prefix = forwarded_prefix(scope)
            if prefix:
                scope = {**scope, "root_path": prefix}

        rid = None
        content_length = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _RID_OK.match(candidate):
                    rid = candidate
            elif name == b"content-length":
                try:
                    content_length = int(value)
                except ValueError:
                    content_length = None
        if rid is None:
            rid = _new_request_id()
        token = request_id_var.set(rid)
        rid_header = (b"x-request-id", rid.encode("latin-1"))
        status_holder = [500]
        started = [False]
        too_large = [False]
        replaced = [False]

        async def send_wrapper(message: Message) -> None:
            if too_large[0] or replaced[0]:
                # The app turned our streaming-limit exception into its own error response: replace it
                # with the 413 and swallow the rest of the app's response.
                if message["type"] == "http.response.start" and not started[0]:
                    await reject_too_large()
                return
            if message["type"] == "http.response.start":
                started[0] = True
                status_holder[0] = message["status"]
                headers = list(message.get("headers", ()))
                headers.append(rid_header)
                message = {**message, "headers": headers}
            await send(message)

        async def reject_too_large() -> None:
            too_large[0] = False
            self._rejected.inc()
            body = dumps(
                error_body(
                    "PAYLOAD_TOO_LARGE",
                    f"request body exceeds the limit of {self.max_body} bytes",
                    [{"field": "body", "reason": f"larger than {self.max_body} bytes"}],
                )
            )
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            replaced[0] = True

        t0 = time.perf_counter()
        self._in_flight.inc()
        try:
            if content_length is not None and content_length > self.max_body:
                await reject_too_large()
                return
            received = [0]

            async def receive_wrapper() -> Message:
                message = await receive()
                if message["type"] == "http.request":
                    received[0] += len(message.get("body", b""))
                    if received[0] > self.max_body:
                        too_large[0] = True
                        raise _BodyTooLarge
                return message

            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except _BodyTooLarge:
                if not started[0]:
                    await reject_too_large()

        finally:
            self._in_flight.dec()
            elapsed = time.perf_counter() - t0
            route_obj = scope.get("route")
            route = getattr(route_obj, "path_format", None) or getattr(route_obj, "path", None)
            path = scope.get("path", "")
            if route is None:
                route = "unmatched" if status_holder[0] == 404 else path if path in UNMEASURED else "other"
            if route not in UNMEASURED:
                self._observe(scope["method"], route, status_holder[0], elapsed)
                app = scope.get("app")
                recorder = getattr(getattr(app, "state", None), "usage_recorder", None)
                if recorder is not None:
                    # Must be synchronous and non-blocking (append to a bounded buffer).
                    recorder.record(scope, scope["method"], route, status_holder[0], elapsed)
            if self.access_log or status_holder[0] >= 500:
                log.log(
                    logging.WARNING if status_holder[0] >= 500 else logging.INFO,
                    "%s %s %s %.1fms",
                    scope["method"],
                    path,
                    status_holder[0],
                    elapsed * 1000,
                    extra={
                        "status": status_holder[0],
                        "route": route,
                        "latency_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)
