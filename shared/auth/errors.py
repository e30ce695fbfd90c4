"""Authentication (401) and authorisation (403) errors, in the api.md error format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.errors import AppError


class AuthError(AppError):
    """401. ``reason`` goes into the details and the ``WWW-Authenticate`` header (RFC 6750)."""

    status_code = 401
    code = "AUTH_TOKEN_INVALID"

    def __init__(self, message: str, *, reason: str | None = None, code: str | None = None) -> None:
        details: Sequence[Mapping[str, Any]] | None = [{"reason": reason}] if reason else None
        error = "invalid_request" if (code or self.code) == "AUTH_TOKEN_MISSING" else "invalid_token"
        super().__init__(
            message,
            code=code,
            details=details,
            headers={"WWW-Authenticate": f'Bearer realm="alchm.kitchen", error="{error}"'},
        )
        self.reason = reason


class TokenMissing(AuthError):
    code = "AUTH_TOKEN_MISSING"

    def __init__(self, message: str = "authentication required: send Authorization: Bearer <token>") -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": 'Bearer realm="alchm.kitchen"'}


class TokenInvalid(AuthError):
    code = "AUTH_TOKEN_INVALID"


class TokenExpired(AuthError):
    code = "AUTH_TOKEN_EXPIRED"


class InvalidCredentials(AuthError):
    code = "AUTH_INVALID_CREDENTIALS"

    def __init__(self, message: str = "email or password is wrong") -> None:
        super().__init__(message)


class AccountDisabled(AppError):
    status_code = 403
    code = "AUTH_ACCOUNT_DISABLED"


class InsufficientRole(AppError):
    status_code = 403
    code = "AUTH_INSUFFICIENT_ROLE"

    def __init__(self, required: Sequence[str], current: Sequence[str]) -> None:
        super().__init__(
            f"one of the roles {', '.join(required)} is required",
            details=[{"required": list(required), "current": sorted(current)}],
        )


class InsufficientPermissions(AppError):
    status_code = 403
    code = "AUTH_INSUFFICIENT_PERMISSIONS"

    def __init__(self, required: Sequence[str], missing: Sequence[str]) -> None:
        super().__init__(
            f"missing scope(s): {', '.join(missing)}",
            details=[{"required": list(required), "missing": list(missing)}],
        )
