"""identity (users, refresh tokens, API keys) and analytics (usage, recommendations served, feedback)

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIER_CHECK = "tier IN ('anonymous', 'authenticated', 'premium', 'admin', 'service')"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("tier", sa.String(length=16), server_default="authenticated", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("last_login_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(TIER_CHECK, name=op.f("ck_users_tier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"])
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("tier", sa.String(length=16), server_default="authenticated", nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.CheckConstraint(TIER_CHECK, name=op.f("ck_api_keys_tier")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_prefix"), "api_keys", ["prefix"])
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])

    op.create_table(
        "usage_events",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=128), nullable=True),
        sa.Column("route", sa.String(length=256), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("recommendation_ids", JSON, nullable=True),
        sa.Column("extra", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_usage_events_event_id")),
    )
    op.create_index(op.f("ix_usage_events_ts"), "usage_events", ["ts"])
    op.create_index("ix_usage_events_service_route_ts", "usage_events", ["service", "route", "ts"])

    op.create_table(
        "recommendations_served",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("recommendation_id", sa.String(length=64), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("recipe_ids", JSON, nullable=False),
        sa.Column("context", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations_served")),
        sa.UniqueConstraint("recommendation_id", name=op.f("uq_recommendations_served_recommendation_id")),
    )
    op.create_index(op.f("ix_recommendations_served_ts"), "recommendations_served", ["ts"])
    op.create_index("ix_recommendations_served_service_ts", "recommendations_served", ["service", "ts"])

    op.create_table(
        "recommendation_feedback",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("recommendation_id", sa.String(length=64), nullable=True),
        sa.Column("recipe_id", sa.String(length=128), nullable=True),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("ts", TS, nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "action IN ('clicked', 'rated', 'dismissed')", name=op.f("ck_recommendation_feedback_action")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)",
            name=op.f("ck_recommendation_feedback_rating_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_feedback")),
    )
    op.create_index(
        op.f("ix_recommendation_feedback_recommendation_id"), "recommendation_feedback", ["recommendation_id"]
    )
    op.create_index(op.f("ix_recommendation_feedback_ts"), "recommendation_feedback", ["ts"])
    op.create_index("ix_recommendation_feedback_recipe_id_ts", "recommendation_feedback", ["recipe_id", "ts"])
    op.create_index("ix_recommendation_feedback_action_ts", "recommendation_feedback", ["action", "ts"])


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints with it (PostgreSQL and SQLite alike).
    for table in (
        "recommendation_feedback",
        "recommendations_served",
        "usage_events",
        "api_keys",
        "refresh_tokens",
        "users",
    ):
        op.drop_table(table)
