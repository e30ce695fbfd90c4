"""Resolve the caller of a request: access JWT, API key, or anonymous.

One :class:`Authenticator` per app (``app.state.auth``, built by ``shared.infra.infrastructure`` or
lazily). The result is memoised in the ASGI scope, so the rate-limit middleware and the route
dependencies resolve a request once.

- ``Authorization: Bearer <jwt>``: verified by signature and claims only (no database).
- ``Authorization: Bearer sk_alchm_live_…`` or ``X-API-Key: sk_alchm_live_…``: looked up by SHA-256 in
  ``api_keys`` (joined with the owner); the lookup is remembered for ``api_key_cache_ttl_s`` and
  ``last_used_at`` is written at most every ``api_key_last_used_interval_s``.
- WebSocket handshakes may also pass ``?token=<jwt>`` (browsers cannot set headers there).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from shared.auth.apikeys import digests_match, hash_api_key, is_well_formed, looks_like_api_key
from shared.auth.errors import AuthError, TokenExpired, TokenInvalid
from shared.auth.passwords import PasswordService
from shared.auth.principal import ANONYMOUS, Principal
from shared.auth.roles import roles_covered_by
from shared.auth.settings import AuthSettings, get_auth_settings
from shared.auth.tokens import TokenService
from shared.db.engine import Database
from shared.errors import DependencyUnavailable
from shared.metrics import DEPENDENCY_FAILURES
from shared.settings import Settings

log = logging.getLogger("shared.auth")

# Memoised per request in the ASGI scope itself (``scope["state"]`` may be shared between requests by
# some servers and test harnesses, e.g. asgi-lifespan).
_SCOPE_PRINCIPAL = "alchm.principal"
_SCOPE_ERROR = "alchm.auth_error"
_NEGATIVE_TTL_S = 5.0
_MAX_CACHED_KEYS = 10_000


@dataclass(slots=True)
class _CachedKey:
    principal: Principal | None  # None: unknown key
    key_id: uuid.UUID | None
    key_hash: str
    revoked: bool
    expires_at: float | None  # epoch seconds
    fetched: float  # monotonic
    last_used_written: float  # monotonic; 0 = never by this process


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        cfg: AuthSettings | None = None,
        *,
        service: str = "alchm",
    ) -> None:
        self.settings = settings
        self.cfg = cfg or get_auth_settings()
        self.db = db
        self.service = service
        self.tokens = TokenService(settings, self.cfg)
        self.passwords = PasswordService(self.cfg)
        self._keys: dict[str, _CachedKey] = {}

    # -- request resolution ----------------------------------------------------------------------------

    async def authenticate(self, scope: Scope) -> Principal:
        """The principal of this request (memoised in the request scope); raises :class:`AuthError` for a
        credential that is present but not valid."""
        cached = scope.get(_SCOPE_PRINCIPAL)
        if cached is not None:
            return cached
        error = scope.get(_SCOPE_ERROR)
        if error is not None:
            raise error
        try:
            principal = await self._resolve(scope)
        except AuthError as exc:
            scope[_SCOPE_ERROR] = exc
            raise
        scope[_SCOPE_PRINCIPAL] = principal
        return principal

    async def peek(self, scope: Scope) -> Principal:
        """Like :meth:`authenticate` but an invalid credential counts as anonymous (rate limiting)."""
        try:
            return await self.authenticate(scope)
        except AuthError:
            return ANONYMOUS

    async def _resolve(self, scope: Scope) -> Principal:
        bearer: str | None = None
        api_key: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                text = value.decode("latin-1").strip()
                scheme, _, credential = text.partition(" ")
                if scheme.lower() == "bearer" and credential.strip():
                    bearer = credential.strip()
            elif name == b"x-api-key":
                api_key = value.decode("latin-1").strip() or None
        if bearer is None and scope.get("type") == "websocket":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            token = query.get("token", [""])[0].strip()
            bearer = token or None
        if api_key is not None:
            return await self.authenticate_api_key(api_key)
        if bearer is None:
            return ANONYMOUS
        if looks_like_api_key(bearer):
            return await self.authenticate_api_key(bearer)
        return self.tokens.decode(bearer)

    # -- API keys ----------------------------------------------------------------------------------------

    async def authenticate_api_key(self, key: str) -> Principal:
        if not is_well_formed(key):
            raise TokenInvalid("API key is invalid", reason="malformed API key")
        key_hash = hash_api_key(key)
        now_mono = time.monotonic()
        entry = self._keys.get(key_hash)
        ttl = self.cfg.api_key_cache_ttl_s if entry is None or entry.principal else _NEGATIVE_TTL_S
        if entry is None or now_mono - entry.fetched > ttl:
            entry = await self._load_key(key_hash, now_mono)
        if entry.principal is None or not digests_match(entry.key_hash, key_hash):
            raise TokenInvalid("API key is invalid", reason="unknown API key")
        if entry.revoked:
            raise TokenInvalid("API key is invalid", reason="API key revoked")
        if entry.expires_at is not None and entry.expires_at <= time.time():
            raise TokenExpired("API key has expired", reason="expired")
        if now_mono - entry.last_used_written >= self.cfg.api_key_last_used_interval_s:
            entry.last_used_written = now_mono
            await self._touch_key(entry)
        return entry.principal

    async def _load_key(self, key_hash: str, now_mono: float) -> _CachedKey:
        if self.db is None:
            raise TokenInvalid("API keys are not accepted by this service", reason="no key store")
        from shared.db.models import ApiKey, User

        try:
            async with self.db.session() as session:
                row = (
                    await session.execute(
                        select(ApiKey, User)
                        .join(User, User.id == ApiKey.user_id)
                        .where(ApiKey.key_hash == key_hash)
                    )
                ).first()
        except (SQLAlchemyError, OSError) as exc:
            DEPENDENCY_FAILURES.labels(self.service, "database", "api_key_lookup").inc()
            raise DependencyUnavailable("cannot verify the API key: the database is unavailable") from exc
        previous = self._keys.get(key_hash)
        if row is None:
            entry = _CachedKey(None, None, key_hash, False, None, now_mono, 0.0)
        else:
            key, owner = row
            scopes = frozenset(key.scopes or ())
            principal = Principal(
                kind="api_key",
                user_id=owner.id,
                email=owner.email,
                roles=frozenset(roles_covered_by(owner.roles or (), scopes)),
                scopes=scopes,
                tier=key.tier,
                api_key_id=key.id,
                expires_at=int(key.expires_at.timestamp()) if key.expires_at else None,
            )
            entry = _CachedKey(
                principal=principal,
                key_id=key.id,
                key_hash=key.key_hash,
                revoked=key.revoked_at is not None or not owner.is_active,
                expires_at=key.expires_at.timestamp() if key.expires_at else None,
                fetched=now_mono,
                last_used_written=previous.last_used_written if previous else 0.0,
            )
        if len(self._keys) >= _MAX_CACHED_KEYS and key_hash not in self._keys:
            self._keys.pop(next(iter(self._keys)), None)
        self._keys[key_hash] = entry
        return entry

    async def _touch_key(self, entry: _CachedKey) -> None:
        if self.db is None or entry.key_id is None:
            return
        from shared.db.models import ApiKey

        try:
            async with self.db.session() as session:
                await session.execute(
                    update(ApiKey).where(ApiKey.id == entry.key_id).values(last_used_at=datetime.now(UTC))
                )
                await session.commit()
        except Exception as exc:  # bookkeeping must never fail a request
            DEPENDENCY_FAILURES.labels(self.service, "database", "api_key_last_used").inc()
            log.warning("could not record API key use: %s", exc)

    def forget_key(self, key_hash: str | None = None, key_id: uuid.UUID | None = None) -> None:
        """Drop a key from this process's cache (after revocation)."""
        if key_hash is not None:
            self._keys.pop(key_hash, None)
        if key_id is not None:
            for h, entry in list(self._keys.items()):
                if entry.key_id == key_id:
                    self._keys.pop(h, None)


def get_authenticator(app: Any) -> Authenticator:
    """The app's authenticator (``app.state.auth``); built on first use when the lifespan did not."""
    state = app.state
    auth: Authenticator | None = getattr(state, "auth", None)
    if auth is None:
        auth = Authenticator(
            state.settings, getattr(state, "db", None), service=getattr(state, "service", "alchm")
        )
        state.auth = auth
    return auth
