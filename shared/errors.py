"""The one error format of every service (design/api.md):

``{"error": CODE, "message": human text, "details": [...]?, "request_id": ...}``

Domain and service code raise :class:`AppError` (or a subclass); FastAPI's validation errors become 422
(400 for a body that is not JSON at all) naming each field and the reason; nothing leaks a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.http import ORJSONResponse
from shared.logging import request_id_var

log = logging.getLogger("shared.errors")


class AppError(Exception):
    """An error with an HTTP status, a stable machine code and a human message."""

    status_code: int = 400
    code: str = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details = [dict(d) for d in details] if details else None
        self.headers = dict(headers) if headers else None


class InvalidInput(AppError):
    """Bad input caught by domain validation: 422 naming the field."""

    status_code = 422
    code = "VALIDATION_ERROR"

    def __init__(self, field: str, reason: str, *, value: Any = None) -> None:
        detail: dict[str, Any] = {"field": field, "reason": reason}
        if value is not None:
            detail["value"] = value
        super().__init__(f"{field}: {reason}", details=[detail])
        self.field = field
        self.reason = reason


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"


class DependencyUnavailable(AppError):
    status_code = 503
    code = "DEPENDENCY_UNAVAILABLE"


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "AUTH_TOKEN_MISSING",
    403: "AUTH_INSUFFICIENT_PERMISSIONS",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "DEPENDENCY_UNAVAILABLE",
}


def error_body(code: str, message: str, details: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = list(details)
    body["request_id"] = request_id_var.get()
    return body


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ORJSONResponse:
    return ORJSONResponse(error_body(code, message, details), status_code=status, headers=dict(headers or {}))


_UNION_TAGS = frozenset(
    {"str", "int", "float", "bool", "list", "dict", "none", "union", "tagged-union", "json-or-python"}
)


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] if len(parts) > 1 else parts
    # pydantic adds the union member / function name to the location (e.g. "function-after[...]");
    # keep the field names and indices a client can act on.
    cleaned = [
        p
        for p in parts
        if "[" not in p and not p.startswith(("function-", "constrained-")) and p not in _UNION_TAGS
    ]
    return ".".join(cleaned) or "body"


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    details = []
    seen = set()
    for err in errors:
        field = _field_path(err.get("loc", ()))
        reason = str(err.get("msg", "invalid value"))
        if reason.startswith("Value error, "):
            reason = reason[len("Value error, ") :]
        key = (field, reason)
        if key in seen:
            continue
        seen.add(key)
        details.append({"field": field, "reason": reason, "type": err.get("type", "invalid")})
    return details


async def _app_error_handler(_: Request, exc: Exception) -> ORJSONResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        log.warning("dependency error: %s", exc.message)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_handler(_: Request, exc: Exception) -> ORJSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = str(detail.get("ctx", {}).get("error", "malformed JSON"))
        return error_response(
            400,
            "INVALID_JSON",
            f"request body is not valid JSON: {reason}",
            [{"field": "body", "reason": reason}],
        )
    details = validation_details(errors)
    first = details[0] if details else {"field": "body", "reason": "invalid"}
    message = f"{first['field']}: {first['reason']}"
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    return error_response(422, "VALIDATION_ERROR", message, details)


async def _http_error_handler(_: Request, exc: Exception) -> ORJSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").lower()
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _unhandled_handler(request: Request, exc: Exception) -> ORJSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "INTERNAL_ERROR", "internal error; the request id identifies it in the logs")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
