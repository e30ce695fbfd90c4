"""Identity knobs that are not in the fleet-wide ``Settings`` (environment prefix ``ALCHM_AUTH_``).

The JWT secret, algorithm, issuer, audience and token lifetimes stay in ``shared.settings.Settings``
(``ALCHM_JWT_*``, ``ALCHM_ACCESS_TOKEN_TTL_S``, ``ALCHM_REFRESH_TOKEN_TTL_S``).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALCHM_AUTH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    #: Argon2id cost (OWASP Password Storage Cheat Sheet profile: 19 MiB, 2 passes, 1 lane).
    argon2_time_cost: int = Field(default=2, ge=1, le=10)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=1024, le=1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    #: At most this many Argon2 computations run at once per process (bounds CPU and memory).
    hash_concurrency: int = Field(default=2, ge=1, le=64)

    password_min_length: int = Field(default=10, ge=8, le=64)
    password_max_length: int = Field(default=128, ge=16, le=1024)

    #: Clock-skew allowance when checking ``exp``/``iat`` of access tokens.
    jwt_leeway_s: int = Field(default=10, ge=0, le=120)
    #: Verified access tokens remembered per process (signature checked once per token).
    token_cache_size: int = Field(default=4096, ge=0, le=1_000_000)

    #: How long an API key lookup is remembered per process (a revocation reaches other instances
    #: within this time; the instance that revokes forgets the key at once).
    api_key_cache_ttl_s: float = Field(default=10.0, ge=0, le=600)
    #: ``last_used_at`` is written at most this often per key and process.
    api_key_last_used_interval_s: float = Field(default=60.0, ge=1, le=86400)
    api_key_max_per_user: int = Field(default=25, ge=1, le=1000)

    allow_registration: bool = True


@lru_cache(maxsize=1)
def get_auth_settings() -> AuthSettings:
    return AuthSettings()
