"""The optional ``?token=`` of a WebSocket connection.

A verifier is ``async (token) -> principal`` raising :class:`TokenRejected` for a bad token. The default
uses ``shared.auth.tokens.TokenService.decode`` (JWT HS256, issuer/audience checked); when that package is
not importable the service accepts the token without checking it and attaches no principal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from shared.settings import Settings

log = logging.getLogger("realtime.auth")

TokenVerifier = Callable[[str], Awaitable[Any]]


class TokenRejected(Exception):
    """The token is invalid or expired (the connection is closed with 1008)."""


def build_verifier(settings: Settings) -> TokenVerifier:
    try:
        from shared.auth.errors import AuthError
        from shared.auth.settings import get_auth_settings
        from shared.auth.tokens import TokenService
    except ImportError:  # pragma: no cover - only while shared.auth is not there
        log.warning("shared.auth is not available: ?token= is accepted without verification")

        async def accept(_: str) -> Any:
            return None

        return accept

    service = TokenService(settings, get_auth_settings())

    async def verify(token: str) -> Any:
        try:
            return service.decode(token)
        except AuthError as exc:
            raise TokenRejected(getattr(exc, "message", str(exc))) from None

    return verify
