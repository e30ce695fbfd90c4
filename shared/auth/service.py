"""Identity use cases on one request's session: register, login, refresh (rotation + reuse detection),
logout, API keys, user listing. Nothing here commits (the request boundary does), except the family
revocation on refresh-token reuse, which must persist although the request answers 401.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.apikeys import generate_api_key
from shared.auth.authenticator import Authenticator
from shared.auth.errors import (
    AccountDisabled,
    InsufficientPermissions,
    InvalidCredentials,
    TokenExpired,
    TokenInvalid,
)
from shared.auth.passwords import check_password_policy
from shared.auth.principal import Principal
from shared.auth.roles import ROLES, Role, default_tier, scopes_allow, scopes_for_roles
from shared.auth.schemas import ApiKeyCreate, ApiKeyOut, UserOut
from shared.auth.tokens import IssuedToken, hash_token, new_refresh_token
from shared.db.base import utcnow
from shared.db.models import ApiKey, RefreshToken, User, normalise_email
from shared.errors import Conflict, InvalidInput, NotFound
from shared.metrics import AUTH_EVENTS


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=sorted(user.roles or ()),
        scopes=scopes_for_roles(user.roles or (), user.scopes or ()),
        tier=user.tier,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=sorted(key.scopes or ()),
        tier=key.tier,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


async def create_user(
    session: AsyncSession,
    auth: Authenticator,
    *,
    email: str,
    password: str,
    display_name: str | None = None,
    roles: list[str] | None = None,
    tier: str | None = None,
) -> User:
    """Validate and insert a user (409 on a taken email). Shared by /auth/register and the CLI."""
    email = normalise_email(email)
    roles = sorted(set(roles or [Role.USER.value]))
    unknown = set(roles) - ROLES
    if unknown:
        raise InvalidInput("roles", f"unknown role(s): {', '.join(sorted(unknown))}")
    check_password_policy(password, email=email, cfg=auth.cfg)
    taken = await session.scalar(select(User.id).where(User.email == email))
    if taken is not None:
        raise Conflict(
            "an account with this email already exists",
            details=[{"field": "email", "reason": "already registered"}],
        )
    user = User(
        email=email,
        password_hash=await auth.passwords.hash(password),
        display_name=display_name,
        roles=roles,
        scopes=[],
        tier=tier or default_tier(roles),
        is_active=True,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent registration of the same email won the race
        raise Conflict(
            "an account with this email already exists",
            details=[{"field": "email", "reason": "already registered"}],
        ) from None
    return user


class AuthService:
    def __init__(self, session: AsyncSession, auth: Authenticator, *, service: str = "alchm") -> None:
        self.session = session
        self.auth = auth
        self.service = service

    def _event(self, event: str, result: str) -> None:
        AUTH_EVENTS.labels(self.service, event, result).inc()

    # -- tokens ------------------------------------------------------------------------------------------

    async def _issue(
        self,
        user: User,
        client: ClientInfo,
        *,
        family_id: uuid.UUID | None = None,
        parent_id: uuid.UUID | None = None,
    ) -> TokenPair:
        access = self.auth.tokens.issue_access(
            user_id=user.id,
            email=user.email,
            roles=user.roles or (),
            scopes=scopes_for_roles(user.roles or (), user.scopes or ()),
            tier=user.tier,
        )
        token, token_hash = new_refresh_token()
        now = utcnow()
        ttl = self.auth.tokens.refresh_ttl_s
        self.session.add(
            RefreshToken(
                user_id=user.id,
                token_hash=token_hash,
                family_id=family_id or uuid.uuid4(),
                parent_id=parent_id,
                issued_at=now,
                expires_at=now + timedelta(seconds=ttl),
                user_agent=client.user_agent.replace("\x00", "")[:256] if client.user_agent else None,
                ip=client.ip.replace("\x00", "")[:45] if client.ip else None,
            )
        )
        return TokenPair(access=access, refresh_token=token, refresh_expires_in=ttl)

    async def _revoke(self, *conditions: Any, reason: str) -> int:
        result = await self.session.execute(
            update(RefreshToken)
            .where(*conditions, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return int(cast(CursorResult[Any], result).rowcount or 0)

    # -- use cases ---------------------------------------------------------------------------------------

    async def register(
        self, *, email: str, password: str, display_name: str | None, client: ClientInfo
    ) -> tuple[User, TokenPair]:
        try:
            user = await create_user(
                self.session, self.auth, email=email, password=password, display_name=display_name
            )
        except Conflict:
            self._event("register", "conflict")
            raise
        pair = await self._issue(user, client)
        user.last_login_at = utcnow()
        self._event("register", "ok")
        return user, pair

    async def login(self, *, email: str, password: str, client: ClientInfo) -> tuple[User, TokenPair]:
        email = normalise_email(email)
        user = await self.session.scalar(select(User).where(User.email == email))
        if user is None:
            await self.auth.passwords.verify_dummy(password)
            self._event("login", "unknown_email")
            raise InvalidCredentials()
        valid, new_hash = await self.auth.passwords.verify(password, user.password_hash)
        if not valid:
            self._event("login", "bad_password")
            raise InvalidCredentials()
        if not user.is_active:
            self._event("login", "disabled")
            raise AccountDisabled("this account is disabled")
        if new_hash is not None:
            user.password_hash = new_hash  # parameters changed since it was hashed: upgrade it
        user.last_login_at = utcnow()
        pair = await self._issue(user, client)
        self._event("login", "ok")
        return user, pair

    async def refresh(self, *, refresh_token: str, client: ClientInfo) -> tuple[User, TokenPair]:
        token = await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_token(refresh_token))
        )
        if token is None:
            self._event("refresh", "unknown")
            raise TokenInvalid("refresh token is invalid", reason="unknown refresh token")
        now = utcnow()
        if token.revoked_at is not None:
            self._event("refresh", "revoked")
            raise TokenInvalid("refresh token has been revoked", reason=f"revoked ({token.revoked_reason})")
        if token.expires_at <= now:
            self._event("refresh", "expired")
            raise TokenExpired("refresh token has expired", reason="expired")
        # Claim the token atomically: of two concurrent uses exactly one wins, the other is a replay.
        claimed = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token.id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], claimed).rowcount != 1:
            await self._revoke(RefreshToken.family_id == token.family_id, reason="reuse_detected")
            await self.session.commit()  # persist the revocation although this request fails
            self._event("refresh", "reuse_detected")
            raise TokenInvalid(
                "refresh token was already used: every session of this login has been revoked",
                reason="refresh token reuse detected",
            )
        user = await self.session.get(User, token.user_id)
        if user is None or not user.is_active:
            await self._revoke(RefreshToken.family_id == token.family_id, reason="account_disabled")
            await self.session.commit()
            self._event("refresh", "disabled")
            raise TokenInvalid("refresh token is invalid", reason="account disabled")
        pair = await self._issue(user, client, family_id=token.family_id, parent_id=token.id)
        self._event("refresh", "ok")
        return user, pair

    async def logout(self, *, refresh_token: str | None, principal: Principal, all_sessions: bool) -> int:
        """Revoke the refresh token's family (and every family of the caller with ``all_sessions``)."""
        revoked = 0
        if all_sessions:
            if principal.kind != "user" or principal.user_id is None:
                raise InvalidInput("all", "needs an access token (Authorization: Bearer) of the user")
            revoked += await self._revoke(RefreshToken.user_id == principal.user_id, reason="logout_all")
        if refresh_token:
            token = await self.session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == hash_token(refresh_token))
            )
            if token is not None and (principal.user_id is None or principal.user_id == token.user_id):
                revoked += await self._revoke(RefreshToken.family_id == token.family_id, reason="logout")
        elif not all_sessions:
            raise InvalidInput("refresh_token", "required (or all=true with an access token)")
        self._event("logout", "ok")
        return revoked

    async def get_user(self, user_id: uuid.UUID | None) -> User:
        user = await self.session.get(User, user_id) if user_id else None
        if user is None or not user.is_active:
            raise TokenInvalid(
                "the account of this token no longer exists or is disabled", reason="no account"
            )
        return user

    # -- API keys ----------------------------------------------------------------------------------------

    async def create_api_key(self, principal: Principal, body: ApiKeyCreate) -> tuple[ApiKey, str]:
        if principal.kind != "user":
            raise InsufficientPermissions(["user session"], ["API keys cannot create API keys"])
        owner = await self.get_user(principal.user_id)
        owner_scopes = scopes_for_roles(owner.roles or (), owner.scopes or ())
        scopes = body.scopes if body.scopes is not None else owner_scopes
        not_held = [s for s in scopes if not scopes_allow(owner_scopes, [s])]
        if not_held:
            raise InvalidInput("scopes", f"not held by the owner: {', '.join(not_held[:10])}")
        tier = body.tier or owner.tier
        if tier != owner.tier and Role.ADMIN not in (owner.roles or ()):
            raise InvalidInput("tier", "only admins may give a key another tier than their own")
        active = await self.session.scalar(
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.user_id == owner.id, ApiKey.revoked_at.is_(None))
        )
        if (active or 0) >= self.auth.cfg.api_key_max_per_user:
            raise Conflict(
                f"at most {self.auth.cfg.api_key_max_per_user} active API keys per user; revoke one first"
            )
        new = generate_api_key()
        key = ApiKey(
            user_id=owner.id,
            prefix=new.prefix,
            key_hash=new.key_hash,
            name=body.name,
            scopes=scopes,
            tier=tier,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None,
        )
        self.session.add(key)
        await self.session.flush()
        self._event("api_key", "created")
        return key, new.plaintext

    async def list_api_keys(self, principal: Principal) -> list[ApiKey]:
        rows = await self.session.scalars(
            select(ApiKey).where(ApiKey.user_id == principal.user_id).order_by(ApiKey.created_at.desc())
        )
        return list(rows)

    async def revoke_api_key(self, principal: Principal, key_id: uuid.UUID) -> None:
        key = await self.session.get(ApiKey, key_id)
        is_admin = Role.ADMIN in principal.roles
        if key is None or (key.user_id != principal.user_id and not is_admin):
            raise NotFound(f"API key {key_id} does not exist")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        self.auth.forget_key(key_hash=key.key_hash)
        self._event("api_key", "revoked")

    # -- administration ----------------------------------------------------------------------------------

    async def list_users(self, *, limit: int, offset: int) -> tuple[int, list[User]]:
        total = await self.session.scalar(select(func.count()).select_from(User)) or 0
        rows = await self.session.scalars(
            select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
        )
        return int(total), list(rows)
