"""FastAPI dependencies for identity.

    current_user            401 AUTH_TOKEN_MISSING without a credential, 401 AUTH_TOKEN_INVALID/EXPIRED
                            for a bad one; returns the Principal
    optional_user           the Principal, ANONYMOUS without a credential (a bad credential is still 401)
    require_roles(*roles)   current_user holding ANY of the roles, else 403 AUTH_INSUFFICIENT_ROLE
    require_scopes(*scopes) current_user holding ALL the scopes (``x:*`` matches under ``x:``), else
                            403 AUTH_INSUFFICIENT_PERMISSIONS

Use the ``Annotated`` aliases: ``user: CurrentUser``, ``caller: OptionalUser``, or
``admin: Annotated[Principal, Depends(require_roles("admin"))]`` / ``dependencies=[Depends(...)]``.

Hot routes that take ``request: Request`` and parse it themselves can skip FastAPI's dependency
resolution (tens of microseconds a request) with ``await authenticate_request(request, roles=...,
scopes=...)``: the same checks and errors, as a plain call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import Depends, Request

from shared.auth.authenticator import Authenticator, get_authenticator
from shared.auth.errors import InsufficientPermissions, InsufficientRole, TokenMissing
from shared.auth.principal import Principal
from shared.auth.roles import ROLES, is_valid_scope, scope_allows


def authenticator(request: Request) -> Authenticator:
    return get_authenticator(request.app)


async def optional_user(request: Request) -> Principal:
    return await get_authenticator(request.app).authenticate(request.scope)


async def current_user(request: Request) -> Principal:
    principal = await get_authenticator(request.app).authenticate(request.scope)
    if not principal.is_authenticated:
        raise TokenMissing()
    return principal


async def authenticate_request(
    request: Request, *, roles: Iterable[str] = (), scopes: Iterable[str] = ()
) -> Principal:
    """``current_user`` plus optional ``require_roles`` (any of) and ``require_scopes`` (all of), as a plain
    call for hot routes (no dependency resolution)."""
    principal = await get_authenticator(request.app).authenticate(request.scope)
    if not principal.is_authenticated:
        raise TokenMissing()
    wanted = frozenset(roles)
    if wanted and principal.roles.isdisjoint(wanted):
        raise InsufficientRole(sorted(wanted), sorted(principal.roles))
    required = tuple(scopes)
    if required and not principal.has_scopes(*required):
        missing = [s for s in required if not any(scope_allows(g, s) for g in principal.scopes)]
        raise InsufficientPermissions(list(required), missing)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal, Depends(optional_user)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers with any of ``roles``."""
    unknown = set(roles) - ROLES
    if not roles or unknown:
        raise ValueError(f"require_roles needs known roles; unknown: {sorted(unknown)}")
    wanted = frozenset(roles)

    async def _require_roles(principal: CurrentUser) -> Principal:
        if principal.roles.isdisjoint(wanted):
            raise InsufficientRole(sorted(wanted), sorted(principal.roles))
        return principal

    _require_roles.__name__ = f"require_roles_{'_'.join(sorted(wanted))}"
    return _require_roles


def require_scopes(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers holding every one of ``scopes``."""
    bad = [s for s in scopes if not is_valid_scope(s) or s.endswith("*")]
    if not scopes or bad:
        raise ValueError(f"require_scopes needs concrete scopes; invalid: {bad}")
    required = tuple(scopes)

    async def _require_scopes(principal: CurrentUser) -> Principal:
        if not principal.has_scopes(*required):
            missing = [s for s in required if not any(scope_allows(g, s) for g in principal.scopes)]
            raise InsufficientPermissions(list(required), missing)
        return principal

    _require_scopes.__name__ = f"require_scopes_{len(required)}"
    return _require_scopes
