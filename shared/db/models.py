"""Every table of the fleet, on one metadata (``Base.metadata``); Alembic migrations mirror this module.

Identity: ``users``, ``refresh_tokens``, ``api_keys``. Analytics: ``usage_events``,
``recommendations_served``, ``recommendation_feedback``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from shared.db.base import Base, BigIntPK, JSONType, TimestampMixin, utcnow

#: Rate-limit tiers (design/api.md). Stored as text with a CHECK constraint (portable, no native enum).
TIERS = ("anonymous", "authenticated", "premium", "admin", "service")
_TIER_CHECK = "tier IN ('anonymous', 'authenticated', 'premium', 'admin', 'service')"
FEEDBACK_ACTIONS = ("clicked", "rated", "dismissed")


def normalise_email(email: str) -> str:
    """The one email normalisation: trimmed and lower-cased (the whole address)."""
    return email.strip().lower()


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_TIER_CHECK, name="tier"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    #: Role names (admin, user, guest, service); scopes follow from them (shared.auth.roles).
    roles: Mapped[list[str]] = mapped_column(JSONType, default=lambda: ["user"])
    #: Extra scopes granted beyond the roles' own.
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tier: Mapped[str] = mapped_column(String(16), default="authenticated", server_default="authenticated")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    last_login_at: Mapped[datetime | None] = mapped_column()

    refresh_tokens: Mapped[list[RefreshToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )
    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)


class RefreshToken(Base):
    """One opaque refresh token (only its SHA-256 is stored). Tokens of one login form a family;
    each use rotates the token (``used_at`` set, a child issued with ``parent_id``); presenting a spent
    token again revokes the whole family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    #: When the token was rotated (exchanged for a new pair). A second use is a replay.
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship(back_populates="refresh_tokens", lazy="raise")


class ApiKey(Base):
    """An API key ``sk_alchm_live_<43 base64url chars>``: only its SHA-256 is stored; ``prefix`` is the
    public start of the key, shown in listings so a user can tell keys apart."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_TIER_CHECK, name="tier"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tier: Mapped[str] = mapped_column(String(16), default="authenticated", server_default="authenticated")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="api_keys", lazy="raise")


class UsageEvent(Base):
    """One served request, recorded for analytics (idempotent by ``event_id``)."""

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_service_route_ts", "service", "route", "ts"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    ts: Mapped[datetime] = mapped_column(index=True)
    service: Mapped[str] = mapped_column(String(64))
    instance: Mapped[str | None] = mapped_column(String(128))
    #: Route template (``/recipes/{recipe_id}``), never the raw path.
    route: Mapped[str] = mapped_column(String(256))
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[int] = mapped_column(SmallInteger)
    latency_ms: Mapped[float] = mapped_column()
    #: Keyed hash of the user id (never the id or email itself).
    user_hash: Mapped[str | None] = mapped_column(String(64))
    recommendation_ids: Mapped[list[str] | None] = mapped_column(JSONType)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class RecommendationServed(Base):
    """A recommendation list as served (the denominator of click-through)."""

    __tablename__ = "recommendations_served"
    __table_args__ = (Index("ix_recommendations_served_service_ts", "service", "ts"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    recommendation_id: Mapped[str] = mapped_column(String(64), unique=True)
    ts: Mapped[datetime] = mapped_column(index=True)
    service: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    user_hash: Mapped[str | None] = mapped_column(String(64))
    recipe_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class RecommendationFeedback(Base):
    """A reaction to a recommendation: clicked, rated (1–5) or dismissed."""

    __tablename__ = "recommendation_feedback"
    __table_args__ = (
        CheckConstraint("action IN ('clicked', 'rated', 'dismissed')", name="action"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_recommendation_feedback_recipe_id_ts", "recipe_id", "ts"),
        Index("ix_recommendation_feedback_action_ts", "action", "ts"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    recommendation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    recipe_id: Mapped[str | None] = mapped_column(String(128))
    user_hash: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    ts: Mapped[datetime] = mapped_column(index=True, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(128))


__all__ = [
    "FEEDBACK_ACTIONS",
    "TIERS",
    "ApiKey",
    "Base",
    "RecommendationFeedback",
    "RecommendationServed",
    "RefreshToken",
    "UsageEvent",
    "User",
    "normalise_email",
]
