"""The producer's clock, injectable so tests can prove "published within 1 s of the boundary" without
waiting an hour (a fake clock in unit tests; ``ALCHM_REALTIME_CLOCK_OFFSET_S`` in integration tests)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant (aware, UTC)."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return at ``when`` (at once when it has passed)."""
        ...


class SystemClock:
    """The wall clock, optionally shifted by ``offset_s`` seconds."""

    #: Longest single sleep, so a wall-clock jump (NTP step, suspend) is noticed within this time.
    MAX_SLEEP_S = 30.0

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset = timedelta(seconds=offset_s)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    async def sleep_until(self, when: datetime) -> None:
        while True:
            delay = (when - self.now()).total_seconds()
            if delay <= 0:
                return
            await asyncio.sleep(min(delay, self.MAX_SLEEP_S))
