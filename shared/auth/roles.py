"""Roles, scopes and rate-limit tiers, exactly as design/api.md (and the frontend's roles.ts) define them.

- A role grants a fixed list of scopes; a user's effective scopes are the union over their roles plus any
  extra scopes stored on the user.
- A granted scope ``x:*`` matches every scope under ``x:`` (``alchemical:*`` covers
  ``alchemical:calculate`` and ``alchemical:calculate:basic``), never ``x`` itself. Otherwise scopes match
  exactly: ``alchemical:calculate`` does not imply ``alchemical:calculate:basic``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"
    SERVICE = "service"


class Tier(StrEnum):
    ANONYMOUS = "anonymous"
    AUTHENTICATED = "authenticated"
    PREMIUM = "premium"
    ADMIN = "admin"
    SERVICE = "service"


ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.ADMIN: ("alchemical:*", "kitchen:*", "analytics:*", "user:*", "system:*"),
    Role.USER: (
        "alchemical:calculate",
        "alchemical:planetary",
        "kitchen:recommend",
        "kitchen:recipes:read",
        "user:profile:read",
        "user:profile:update",
    ),
    Role.GUEST: ("alchemical:calculate:basic", "kitchen:recipes:read:public", "kitchen:recommend:limited"),
    Role.SERVICE: ("alchemical:calculate", "kitchen:recommend", "analytics:write"),
}

ROLES: frozenset[str] = frozenset(ROLE_SCOPES)
TIERS: tuple[str, ...] = tuple(t.value for t in Tier)
#: Tiers an owner may hand to an API key: at most their own (ordered by budget).
TIER_ORDER: dict[str, int] = {t: i for i, t in enumerate(TIERS)}

_SCOPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789:_-*")


def is_valid_scope(scope: str) -> bool:
    """``segment(:segment)*`` of ``[a-z0-9_-]``, with an optional final ``*`` segment."""
    if not scope or len(scope) > 100 or not set(scope) <= _SCOPE_CHARS:
        return False
    parts = scope.split(":")
    if any(not p for p in parts):
        return False
    return all("*" not in p for p in parts[:-1]) and (parts[-1] == "*" or "*" not in parts[-1])


def scopes_for_roles(roles: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The effective scopes of a set of roles plus extra scopes (sorted, unique)."""
    granted: set[str] = set(extra)
    for role in roles:
        granted.update(ROLE_SCOPES.get(role, ()))
    return sorted(granted)


def scope_allows(granted: str, required: str) -> bool:
    if granted == required:
        return True
    return granted.endswith(":*") and required.startswith(granted[:-1]) and len(required) > len(granted) - 1


def scopes_allow(granted: Iterable[str], required: Iterable[str]) -> bool:
    """True when every required scope is matched by some granted scope (exactly or by ``x:*``)."""
    granted_set = granted if isinstance(granted, frozenset | set) else frozenset(granted)
    wildcards = [g for g in granted_set if g.endswith(":*")]
    for need in required:
        if need in granted_set:
            continue
        if not any(scope_allows(w, need) for w in wildcards):
            return False
    return True


def default_tier(roles: Iterable[str]) -> str:
    """The tier a new account gets from its roles (premium is granted explicitly, never derived)."""
    role_set = set(roles)
    if Role.SERVICE in role_set:
        return Tier.SERVICE
    if Role.ADMIN in role_set:
        return Tier.ADMIN
    return Tier.AUTHENTICATED


def roles_covered_by(roles: Iterable[str], scopes: Iterable[str]) -> list[str]:
    """The roles whose full scope list ``scopes`` covers (an API key keeps only these of its owner's)."""
    scope_set = frozenset(scopes)
    return sorted(r for r in roles if r in ROLE_SCOPES and scopes_allow(scope_set, ROLE_SCOPES[r]))
