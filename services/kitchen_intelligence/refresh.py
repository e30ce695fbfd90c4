"""``recommendations_refresh``: tell the realtime service when the planetary hour changes.

A background task of the lifespan sleeps until the end of the current planetary hour at the default location
(New York), then publishes one event on the bus (``shared.bus``, relayed by the realtime service to
WebSocket clients): ``{reason: "planetary_hour_change", planet, hourNumber, isDaytime, start, end,
dayRuler, location}``.

Several kitchen instances run the same task; the bus does not deduplicate, so each instance first claims the
hour with ``SET alchm:kitchen:refresh:<hour start> <instance> NX EX 7200`` on the shared Redis and only the
winner publishes. Without Redis (embedded mode, one process) the instance publishes directly. A failed publish
is logged and skipped (the next hour publishes again); it never stops the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared.aio import checkpoint
from shared.astro import planetary_hour
from shared.astro.hours import PlanetaryHour
from shared.bus import RECOMMENDATIONS_REFRESH, Bus

from .inputs import Location

log = logging.getLogger("kitchen.refresh")

__all__ = ["CLAIM_TTL_S", "HourRefresher", "refresh_payload"]

CLAIM_TTL_S = 7200
_MARGIN_S = 0.5


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def refresh_payload(hour: PlanetaryHour, location: Location) -> dict[str, Any]:
    return {
        "reason": "planetary_hour_change",
        "planet": hour.planet,
        "hourNumber": hour.hour_number,
        "isDaytime": hour.is_daytime,
        "start": _iso(hour.start),
        "end": _iso(hour.end),
        "dayRuler": hour.day_ruler,
        "location": location.as_dict(),
        "hint": "recommendations depend on the planetary hour: fetch POST /recommend/recipes again",
    }


class HourRefresher:
    def __init__(
        self,
        bus: Bus,
        location: Location,
        redis: Any | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.bus = bus
        self.location = location
        self.redis = redis
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.published: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def current_hour(self) -> PlanetaryHour:
        loc = self.location
        return planetary_hour(self.clock(), loc.latitude, loc.longitude, loc.tz)

    async def claim(self, hour: PlanetaryHour) -> bool:
        """True when this instance should publish the change to ``hour``."""
        if self.redis is None:
            return True
        key = f"alchm:kitchen:refresh:{_iso(hour.start)}"
        try:
            return bool(await self.redis.set(key, self.identity, nx=True, ex=CLAIM_TTL_S))
        except Exception as exc:  # Redis down: the bus (Redis too) would fail as well; skip this hour
            log.warning("recommendations_refresh: cannot claim %s (%s); not publishing", key, exc)
            return False

    async def publish(self, hour: PlanetaryHour) -> str | None:
        if not await self.claim(hour):
            return None
        try:
            event_id = await self.bus.publish(
                RECOMMENDATIONS_REFRESH, "event", refresh_payload(hour, self.location)
            )
        except Exception as exc:
            log.warning("recommendations_refresh: publish failed (%s)", exc)
            return None
        self.published.append(event_id)
        log.info("recommendations_refresh published for the %s hour (%s)", hour.planet, event_id)
        return event_id

    async def run(self) -> None:
        while True:
            checkpoint()
            try:
                hour = self.current_hour()
                wait = (hour.end - self.clock()).total_seconds() + _MARGIN_S
                await self.sleep(max(_MARGIN_S, wait))
                new = self.current_hour()
                if new.start != hour.start:
                    await self.publish(new)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the task die
                log.exception("recommendations_refresh loop failed; retrying in 60 s")
                await self.sleep(60.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="kitchen-recommendations-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
