"""Who is calling: a user (access JWT), an API key, or nobody."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from shared.auth.roles import scopes_allow

PrincipalKind = Literal["user", "api_key", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    user_id: uuid.UUID | None = None
    email: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    tier: str = "anonymous"
    #: The API key's id when ``kind == "api_key"``.
    api_key_id: uuid.UUID | None = None
    #: The access token's ``jti`` when ``kind == "user"``.
    token_id: str | None = None
    #: Expiry (epoch seconds) of the credential, when it has one.
    expires_at: int | None = None

    #: The rate-limit bucket of an authenticated caller (anonymous callers are keyed by IP); derived.
    rate_key: str | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind == "api_key":
            key: str | None = f"k:{self.api_key_id}"
        elif self.kind == "user":
            key = f"u:{self.user_id}"
        else:
            key = None
        object.__setattr__(self, "rate_key", key)

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def has_scopes(self, *scopes: str) -> bool:
        return scopes_allow(self.scopes, scopes)

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "user_id": str(self.user_id) if self.user_id else None,
            "email": self.email,
            "roles": sorted(self.roles),
            "scopes": sorted(self.scopes),
            "tier": self.tier,
        }


ANONYMOUS = Principal(kind="anonymous")
