"""One settings object for every service (pydantic-settings, prefix ``ALCHM_``).

Environments:
- ``development`` (default): embedded defaults. SQLite (aiosqlite) under ``var/``, in-process cache, rate
  limits and bus; a random JWT secret is generated at start and a warning says so (tokens do not survive
  a restart).
- ``test``: like development, used by the test suite.
- ``production``: refuses to start without a PostgreSQL URL, a Redis URL and a real JWT secret.
"""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger("shared.settings")

Environment = Literal["development", "test", "production"]

#: Project root (the folder holding pyproject.toml) when running from a checkout.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CORS_ORIGINS = [
    "http://localhost:3000",
    "http://localhost:3001",
    "https://alchm.kitchen",
    "https://www.alchm.kitchen",
]

_WEAK_SECRETS = {"", "changethis", "secret", "change-me", "changeme", "dev", "development"}


def _split_csv(value: Any) -> Any:
    """Accept ``a,b,c`` or a JSON list for list settings given through the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import orjson

            return orjson.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All configuration, read from ``ALCHM_*`` environment variables (and an optional ``.env``)."""

    model_config = SettingsConfigDict(
        env_prefix="ALCHM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    env: Environment = "development"
    version: str = "0.1.0"
    log_level: str = "INFO"
    log_json: bool = True
    #: Log one line per request (NGINX already writes an access log; off by default for throughput).
    access_log: bool = False
    #: After start-up, move everything loaded so far (catalog, ephemeris tables, routes) out of the garbage
    #: collector's reach with ``gc.freeze()``: full collections then scan only what requests allocate,
    #: instead of pausing the worker for tens of milliseconds (a p99 killer). See ``shared.app``.
    gc_freeze: bool = True

    # --- data stores -------------------------------------------------------------------------------
    #: SQLAlchemy async URL. Default: SQLite file under ``var/`` (embedded mode).
    database_url: str = ""
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_echo: bool = False
    #: ``redis://…``; empty means in-process cache, rate limits and bus (embedded mode).
    redis_url: str = ""
    redis_timeout_s: float = Field(default=0.5, gt=0, le=30)
    var_dir: Path = PROJECT_ROOT / "var"

    # --- security ----------------------------------------------------------------------------------
    jwt_secret: SecretStr = SecretStr("")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "alchm.kitchen"
    jwt_audience: str = "alchm.kitchen"
    access_token_ttl_s: int = Field(default=3600, ge=60)
    refresh_token_ttl_s: int = Field(default=7 * 86400, ge=300)

    # --- HTTP ----------------------------------------------------------------------------------------
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: Trust X-Forwarded-For from these proxies (NGINX on loopback by default).
    forwarded_allow_ips: str = "127.0.0.1"
    docs_enabled: bool | None = None  # None → on except in production

    # --- domain defaults (New York City, the frontend's live-sky observer) ------------------------------
    default_latitude: float = Field(default=40.7128, ge=-90, le=90)
    default_longitude: float = Field(default=-74.0060, ge=-180, le=180)
    default_timezone: str = "America/New_York"

    # --- service addresses (for service-to-service calls) -----------------------------------------------
    core_url: str = "http://127.0.0.1:8000"
    kitchen_url: str = "http://127.0.0.1:8100"
    realtime_url: str = "http://127.0.0.1:8001"
    rune_url: str = "http://127.0.0.1:8002"
    analytics_url: str = "http://127.0.0.1:8003"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_list(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _defaults_and_production_rules(self) -> Settings:
        if self.env == "production":
            problems = []
            if not self.database_url.startswith("postgresql"):
                problems.append("ALCHM_DATABASE_URL must be a postgresql+asyncpg:// URL")
            if not self.redis_url:
                problems.append("ALCHM_REDIS_URL must be set")
            secret = self.jwt_secret.get_secret_value()
            if secret.lower() in _WEAK_SECRETS or len(secret) < 32:
                problems.append("ALCHM_JWT_SECRET must be a real secret of at least 32 characters")
            if problems:
                raise ValueError("production configuration refused: " + "; ".join(problems))
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.var_dir / 'alchm.db').as_posix()}"
        if not self.jwt_secret.get_secret_value():
            self.jwt_secret = SecretStr(secrets.token_urlsafe(48))
            self.jwt_secret_generated = True
        return self

    jwt_secret_generated: bool = False

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own ``Settings(...)`` instead."""
    settings = Settings()
    if settings.jwt_secret_generated:
        log.warning(
            "no ALCHM_JWT_SECRET set: generated a random development secret; "
            "tokens will not survive a restart"
        )
    return settings
