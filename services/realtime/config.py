"""Settings of the realtime service (environment prefix ``ALCHM_REALTIME_``), next to the fleet-wide
:class:`shared.settings.Settings` (Redis URL, default location, trusted proxies…)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RealtimeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALCHM_REALTIME_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    # --- connections -------------------------------------------------------------------------------
    #: Frames waiting for one client; a client that lets more pile up is dropped with close code 1013.
    send_queue_frames: int = Field(default=256, ge=4, le=100_000)
    #: A single send blocked this long (the client reads nothing) also drops it with 1013.
    stall_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    #: After a 1013/1001 close is requested, the socket is aborted if the close frame cannot go out by then.
    close_timeout_s: float = Field(default=5.0, gt=0, le=120)
    #: Client frames larger than this get an ``error`` frame (the connection stays open).
    max_frame_bytes: int = Field(default=4096, ge=256, le=1024 * 1024)
    #: Client frames per second (token bucket, burst = 2 s worth); more get an ``error`` frame.
    client_frames_per_s: float = Field(default=20.0, gt=0, le=10_000)
    #: Concurrent connections from one client IP on one instance (0 = unlimited); more are closed 1008.
    max_connections_per_ip: int = Field(default=100, ge=0)
    #: Concurrent connections on one instance (0 = unlimited); more are closed 1013.
    max_connections: int = Field(default=20_000, ge=0)
    #: Broadcast fast path: frame once and write the bytes straight to every idle socket (direct.py).
    direct_writes: bool = True

    # --- uvicorn (used by ``python -m services.realtime``; see docs/realtime.md) ---------------------
    ping_interval_s: float = Field(default=20.0, gt=0, le=600)
    ping_timeout_s: float = Field(default=20.0, gt=0, le=600)
    #: permessage-deflate doubles broadcast CPU and per-socket memory (performance.md): off by default.
    per_message_deflate: bool = False
    #: Frames above this are refused by the protocol layer (close 1009) before reaching the app.
    ws_max_size: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)

    # --- bus and replay ----------------------------------------------------------------------------
    stream_key: str = "alchm:events"
    stream_maxlen: int = Field(default=10_000, ge=100, le=10_000_000)
    replay_max: int = Field(default=1_000, ge=1, le=100_000)
    key_prefix: str = "alchm:rt:"

    # --- producer ----------------------------------------------------------------------------------
    producer_enabled: bool = True
    lock_ttl_ms: int = Field(default=10_000, ge=200, le=600_000)
    #: Renewal period of the leader lock (default: a third of the ttl).
    lock_renew_s: float | None = Field(default=None, gt=0)
    #: The producer re-reads the active locations this often (also its longest sleep).
    producer_poll_s: float = Field(default=1.0, gt=0, le=86400)
    #: Greg's Energy must move by more than this (absolute) for a minute tick to be pushed.
    energy_threshold: float = Field(default=0.01, ge=0)
    #: Celestial events are searched this far ahead and scheduled at their exact time.
    events_lookahead_s: float = Field(default=6 * 3600, ge=600, le=7 * 86400)
    #: A new leader still publishes events (and hour changes) that happened this recently.
    catch_up_s: float = Field(default=120.0, ge=0, le=86400)
    #: Added to the wall clock (tests: put an hour boundary a few seconds away). Never set in production.
    clock_offset_s: float = 0.0
    #: Tests: the clock reads this instant when the service starts, then runs at real speed (wins over
    #: ``clock_offset_s``). Never set in production.
    clock_start: datetime | None = None

    # --- active locations ----------------------------------------------------------------------------
    location_ttl_s: float = Field(default=90.0, gt=1, le=86400)
    location_refresh_s: float = Field(default=30.0, gt=0.1, le=3600)
    #: At most this many distinct client locations are tracked per instance (others use the default).
    max_locations: int = Field(default=5_000, ge=1)

    # --- snapshots -----------------------------------------------------------------------------------
    upcoming_events: int = Field(default=10, ge=0, le=100)
    snapshot_events_window_s: float = Field(default=3 * 86400, ge=3600, le=30 * 86400)


@lru_cache(maxsize=1)
def get_realtime_settings() -> RealtimeSettings:
    return RealtimeSettings()
