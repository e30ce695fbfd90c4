"""Access tokens (PyJWT, HMAC, algorithm allow-list) and opaque refresh tokens.

Access token claims: ``sub`` (user id), ``email``, ``roles``, ``scopes`` (effective, at issue time),
``tier``, ``iss``, ``aud``, ``iat``, ``exp``, ``jti``. Decoding pins ``algorithms=[settings.jwt_algorithm]``
(so ``alg: none`` and algorithm confusion are refused), requires every claim, and verifies issuer and
audience with a small leeway. It never touches the database: a verified token is remembered (bounded,
per process) so a client re-using its token costs one dict lookup and an expiry comparison.

Refresh tokens are 32 random bytes (base64url); only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from shared.auth.errors import TokenExpired, TokenInvalid
from shared.auth.principal import Principal
from shared.auth.roles import TIERS, default_tier
from shared.auth.settings import AuthSettings
from shared.settings import Settings

REQUIRED_CLAIMS = ("sub", "email", "roles", "scopes", "iss", "aud", "iat", "exp", "jti")
#: A bearer credential longer than this is refused before any parsing.
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int
    expires_at: int


def new_refresh_token() -> tuple[str, str]:
    """``(token, sha256_hex)`` of a fresh opaque refresh token."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _str_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 200:
        return value
    return None


class TokenService:
    def __init__(self, settings: Settings, cfg: AuthSettings) -> None:
        self._key = settings.jwt_secret.get_secret_value()
        self.algorithm = settings.jwt_algorithm
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.access_ttl_s = settings.access_token_ttl_s
        self.refresh_ttl_s = settings.refresh_token_ttl_s
        self.leeway_s = cfg.jwt_leeway_s
        self._cache_size = cfg.token_cache_size
        self._cache: dict[str, Principal] = {}

    def issue_access(
        self,
        *,
        user_id: uuid.UUID,
        email: str,
        roles: Iterable[str],
        scopes: Iterable[str],
        tier: str,
        now: int | None = None,
    ) -> IssuedToken:
        iat = int(time.time()) if now is None else now
        exp = iat + self.access_ttl_s
        jti = uuid.uuid4().hex
        claims = {
            "sub": str(user_id),
            "email": email,
            "roles": sorted(set(roles)),
            "scopes": sorted(set(scopes)),
            "tier": tier,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": iat,
            "nbf": iat,
            "exp": exp,
            "jti": jti,
        }
        token = jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"typ": "JWT"})
        return IssuedToken(token=token, jti=jti, expires_in=self.access_ttl_s, expires_at=exp)

    def decode(self, token: str) -> Principal:
        """Verify an access token and return its principal (401 ``AUTH_TOKEN_*`` on any problem)."""
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at is not None and cached.expires_at + self.leeway_s > time.time():
                return cached
            self._cache.pop(token, None)
            raise TokenExpired("access token has expired", reason="expired")
        principal = self._decode_uncached(token)
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)), None)
            self._cache[token] = principal
        return principal

    def _decode_uncached(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenInvalid("access token is invalid", reason="token too long")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("access token has expired", reason="expired") from None
        except jwt.InvalidAudienceError:
            raise TokenInvalid("access token is invalid", reason="wrong audience") from None
        except jwt.InvalidIssuerError:
            raise TokenInvalid("access token is invalid", reason="wrong issuer") from None
        except jwt.InvalidAlgorithmError:
            raise TokenInvalid("access token is invalid", reason="algorithm not allowed") from None
        except jwt.InvalidSignatureError:
            raise TokenInvalid("access token is invalid", reason="bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenInvalid("access token is invalid", reason=f"missing claim {exc.claim}") from None
        except jwt.InvalidTokenError:
            raise TokenInvalid("access token is invalid", reason="malformed token") from None
        return self._principal(claims)

    def _principal(self, claims: dict[str, object]) -> Principal:
        roles = _str_list(claims.get("roles"))
        scopes = _str_list(claims.get("scopes"))
        email = claims.get("email")
        sub = claims.get("sub")
        exp = claims.get("exp")
        jti = claims.get("jti")
        if roles is None or scopes is None or not isinstance(email, str) or not isinstance(sub, str):
            raise TokenInvalid("access token is invalid", reason="malformed claims")
        try:
            user_id = uuid.UUID(sub)
        except ValueError:
            raise TokenInvalid("access token is invalid", reason="malformed subject") from None
        tier = claims.get("tier")
        if not isinstance(tier, str) or tier not in TIERS:
            tier = default_tier(roles)
        return Principal(
            kind="user",
            user_id=user_id,
            email=email,
            roles=frozenset(roles),
            scopes=frozenset(scopes),
            tier=tier,
            token_id=jti if isinstance(jti, str) else None,
            expires_at=exp if isinstance(exp, int) else None,
        )
