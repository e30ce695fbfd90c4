"""Knobs of the analytics service (environment prefix ``ALCHM_ANALYTICS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALCHM_ANALYTICS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    #: Stored usage events, served-recommendation lists, feedback and client logs older than this are
    #: deleted by the cleanup job.
    retention_days: int = Field(default=30, ge=1, le=3650)
    #: How often the cleanup job runs (0 disables the periodic job; ``run_cleanup`` still works).
    cleanup_interval_s: float = Field(default=3600.0, ge=0)
    #: Rows deleted per statement by the cleanup job (short transactions, no long locks).
    cleanup_batch: int = Field(default=10_000, ge=100, le=1_000_000)

    # --- the stream consumer ---------------------------------------------------------------------------
    consumer_enabled: bool = True
    consumer_group: str = "analytics"
    #: Consumer name inside the group; empty → ``hostname:pid``.
    consumer_name: str = ""
    #: Stream entries (batches of ≤ 500 events) read per XREADGROUP.
    read_count: int = Field(default=20, ge=1, le=1000)
    block_ms: int = Field(default=1000, ge=10, le=60_000)
    #: Pending entries idle this long (their consumer died) are claimed with XAUTOCLAIM.
    claim_idle_ms: int = Field(default=60_000, ge=10)
    claim_interval_s: float = Field(default=15.0, gt=0)
    #: Group consumers with nothing pending that have been idle this long are deleted.
    consumer_prune_idle_s: float = Field(default=3600.0, gt=0)

    # --- ingestion endpoints -----------------------------------------------------------------------------
    #: Request-body limit of this service (batches of 1000 events exceed the fleet's 64 KiB default);
    #: the larger of this and ``ALCHM_MAX_BODY_BYTES`` applies.
    max_body_bytes: int = Field(default=1024 * 1024, ge=64 * 1024, le=16 * 1024 * 1024)
