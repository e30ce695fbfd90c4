"""Request and response bodies of the ``/auth`` endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from shared.auth.roles import TIERS, is_valid_scope


def _no_control_characters(value: str) -> str:
    """Refuse NUL and other control characters in text that is stored or looked up (PostgreSQL cannot
    store NUL; the others are never legitimate in names and addresses)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


Password = Annotated[str, Field(min_length=1, max_length=128)]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_no_control_characters),
]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    email: Annotated[EmailStr, AfterValidator(_no_control_characters)] = Field(max_length=254)
    password: Password
    display_name: DisplayName | None = Field(
        default=None, validation_alias=AliasChoices("display_name", "displayName", "name")
    )


class LoginRequest(BaseModel):
    """JSON ``{email, password}``; ``username`` is accepted for ``email`` (the OAuth2 form's name)."""

    model_config = ConfigDict(extra="ignore")

    email: str = Field(min_length=3, max_length=254, validation_alias=AliasChoices("email", "username"))
    password: Password

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        value = _no_control_characters(value.strip().lower())
        local, sep, domain = value.partition("@")
        if not sep or not local or not domain or any(c.isspace() for c in value):
            raise ValueError("not an email address")
        return value


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    refresh_token: str = Field(
        min_length=16, max_length=256, validation_alias=AliasChoices("refresh_token", "refreshToken")
    )


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    refresh_token: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        validation_alias=AliasChoices("refresh_token", "refreshToken"),
    )
    #: Revoke every session of the calling user (needs an access token).
    all: bool = False


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str | None
    roles: list[str]
    scopes: list[str]
    tier: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenResponse(BaseModel):
    """Tokens in snake_case and the camelCase the legacy clients read (``accessToken``)."""

    access_token: str
    accessToken: str  # legacy field name
    refresh_token: str
    refreshToken: str
    token_type: str = "bearer"
    expires_in: int
    expiresIn: int
    refresh_expires_in: int
    user: UserOut


class MeResponse(BaseModel):
    authenticated: bool = True
    kind: str
    user: UserOut | None
    roles: list[str]
    scopes: list[str]
    tier: str
    api_key_id: uuid.UUID | None = None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: DisplayName
    #: Defaults to all of the owner's scopes; each must be one the owner holds.
    scopes: list[str] | None = Field(default=None, max_length=50)
    #: Defaults to the owner's tier; only admins may choose another.
    tier: str | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("scopes")
    @classmethod
    def _scopes_valid(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [s for s in value if not is_valid_scope(s)]
        if bad:
            raise ValueError(f"invalid scope(s): {', '.join(b[:100] for b in bad[:5])}")
        return sorted(set(value))

    @field_validator("tier")
    @classmethod
    def _tier_valid(cls, value: str | None) -> str | None:
        if value is not None and value not in TIERS:
            raise ValueError(f"must be one of {', '.join(TIERS)}")
        return value


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    tier: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    #: The key itself: shown once, never stored.
    key: str


class UsersPage(BaseModel):
    total: int
    limit: int
    offset: int
    users: list[UserOut]
