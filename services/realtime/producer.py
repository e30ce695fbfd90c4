"""The event producer: exactly one across all realtime instances (the leader of a Redis lock, see
:mod:`shared.leader`; in embedded mode the single process).

While leading it loops over :meth:`Producer.step`, which does whatever is due at ``clock.now()`` and returns
the next instant something is due; the loop then sleeps until that instant (or ``producer_poll_s``, to pick
up new locations, whichever comes first), so every publication happens at the computed instant:

* **planetary hours** — for every active location (clients' locations shared through Redis, plus the
  default New York) the current hour's end is the next boundary; at the boundary the new hour is published
  (``planetary_hours``/``update``, ``data.location.key`` = the location);
* **celestial events** — ``find_events`` over a look-ahead window, each event published at its exact time
  (``celestial_events``/``event``);
* **energy** — each minute the sky is alchemized (positions of that minute → chart → alchemize, sect at the
  default location); pushed (``energy_updates``/``update``) when Greg's Energy moved by more than the
  threshold since the last push, or when the default location's hour changed.

Each hour change and celestial event is claimed with a ``SET NX`` key before publishing, so a leader change
(or a brief split brain) never publishes one twice; a new leader catches up on what happened in the last
``catch_up_s`` seconds (the old leader may have died just before a boundary).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from shared.aio import checkpoint
from shared.astro.events import CelestialEvent
from shared.astro.hours import PlanetaryHour
from shared.bus import CELESTIAL_EVENTS, ENERGY_UPDATES, PLANETARY_HOURS, Bus, utc_iso
from shared.leader import Leadership
from shared.metrics import DEPENDENCY_FAILURES

from . import sky
from .clock import Clock
from .config import RealtimeSettings
from .locations import LocationRegistry
from .metrics import PRODUCER_LATENESS, PRODUCER_PUBLISHED
from .protocol import Location

log = logging.getLogger("realtime.producer")

CLAIM_TTL_S = 3 * 86400


class Deduper:
    """Claims a key once (``SET key 1 NX EX ttl`` in Redis; a dict with expiry in embedded mode)."""

    def __init__(self, redis: Any | None = None, prefix: str = "alchm:rt:done:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._local: dict[str, float] = {}

    async def claim(self, key: str, ttl_s: int = CLAIM_TTL_S) -> bool:
        if self.redis is not None:
            return bool(await self.redis.set(self.prefix + key, b"1", nx=True, ex=ttl_s))
        now = time.monotonic()
        if len(self._local) > 50_000:
            self._local = {k: v for k, v in self._local.items() if v > now}
        expiry = self._local.get(key)
        if expiry is not None and expiry > now:
            return False
        self._local[key] = now + ttl_s
        return True

    async def unclaim(self, key: str) -> None:
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.delete(self.prefix + key)
        else:
            self._local.pop(key, None)


class Producer:
    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        leadership: Leadership,
        locations: LocationRegistry,
        deduper: Deduper,
        settings: RealtimeSettings,
        default_location: Location,
        *,
        to_thread: Callable[..., Any] | None = None,
    ) -> None:
        self.bus = bus
        self.clock = clock
        self.leadership = leadership
        self.locations = locations
        self.deduper = deduper
        self.settings = settings
        self.default = default_location
        self._to_thread = to_thread or asyncio.to_thread
        self.energy_cache = sky.EnergyCache()
        self.published: list[tuple[str, str, datetime]] = []  # (channel, id, ts): recent, for tests/debug
        self._reset()

    def _reset(self) -> None:
        self._hours: dict[str, tuple[Location, PlanetaryHour]] = {}
        self._first_pass = True
        self._events_until: datetime | None = None
        self._pending_events: list[CelestialEvent] = []
        self._seen_events: set[str] = set()
        self._energy_next: datetime | None = None
        self._energy_due_reason: str | None = None
        self._last_gregs: float | None = None

    # --- loop ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            checkpoint()
            await self.leadership.wait_leader()
            log.info("producer active (%s)", self.leadership.identity)
            self._reset()
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("producer failed; restarting")
                await asyncio.sleep(1.0)

    async def _lead(self) -> None:
        poll = timedelta(seconds=self.settings.producer_poll_s)
        while self.leadership.is_leader:
            due = await self.step()
            checkpoint()
            wake = min(due, self.clock.now() + poll)
            sleeper = asyncio.ensure_future(self.clock.sleep_until(wake))
            lost = asyncio.ensure_future(self.leadership.wait_lost())
            try:
                await asyncio.wait({sleeper, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                lost.cancel()
        log.info("producer stood down")

    async def step(self) -> datetime:
        """Do everything due now; return when the next thing is due."""
        now = self.clock.now()
        due = now + timedelta(hours=1)
        for part in (self._step_hours, self._step_events, self._step_energy):
            try:
                due = min(due, await part(now))
            except Exception as exc:
                DEPENDENCY_FAILURES.labels("realtime", "redis", "producer").inc()
                log.warning("producer %s failed: %s", part.__name__, exc)
                due = min(due, now + timedelta(seconds=1))
        self._first_pass = False
        return due

    async def _publish(
        self, channel: str, type: str, data: dict[str, Any], claim: str | None, scheduled: datetime | None
    ) -> str | None:
        if claim is not None and not await self.deduper.claim(claim):
            return None
        try:
            now = self.clock.now()
            event_id = await self.bus.publish(channel, type, data, ts=now)
        except BaseException:
            if claim is not None:
                await self.deduper.unclaim(claim)
            raise
        PRODUCER_PUBLISHED.labels(channel).inc()
        if scheduled is not None:
            PRODUCER_LATENESS.labels(channel).observe(max(0.0, (now - scheduled).total_seconds()))
        self.published.append((channel, event_id, now))
        del self.published[:-1000]
        return event_id

    # --- planetary hours -------------------------------------------------------------------------------

    async def _step_hours(self, now: datetime) -> datetime:
        active = await self.locations.active()
        wanted = {loc.key: loc for loc in active}
        for key in list(self._hours):
            if key not in wanted:
                del self._hours[key]
        new = [loc for key, loc in wanted.items() if key not in self._hours]
        if new:
            computed = await self._to_thread(lambda: [(loc, sky.current_hour(loc, now)) for loc in new])
            # A new leader catches up on boundaries of the last ``catch_up_s`` (the old one may have died
            # right before one); a location that appeared since the last poll, on those of that poll gap.
            if self._first_pass:
                catch_up = timedelta(seconds=self.settings.catch_up_s)
            else:
                catch_up = timedelta(seconds=self.settings.producer_poll_s + 2.0)
            for loc, hour in computed:
                if now - hour.start <= catch_up:
                    await self._publish_hour(loc, hour, now, scheduled=None)
                self._hours[loc.key] = (loc, hour)
        due = now + timedelta(hours=1)
        for key, (loc, hour) in list(self._hours.items()):
            if now >= hour.end:
                boundary = hour.end
                hour = sky.current_hour(loc, now)
                await self._publish_hour(loc, hour, now, scheduled=boundary)  # raises → retried next step
                self._hours[key] = (loc, hour)
                if key == self.default.key:
                    self._energy_due_reason = "hour_change"
            due = min(due, hour.end)
        if self._energy_due_reason is not None:
            due = now
        return due

    async def _publish_hour(
        self, loc: Location, hour: PlanetaryHour, now: datetime, scheduled: datetime | None
    ) -> None:
        data = sky.hour_payload(hour, loc, now)
        await self._publish(PLANETARY_HOURS, "update", data, f"ph:{loc.key}:{utc_iso(hour.start)}", scheduled)

    # --- celestial events ------------------------------------------------------------------------------

    async def _step_events(self, now: datetime) -> datetime:
        lookahead = timedelta(seconds=self.settings.events_lookahead_s)
        if self._events_until is None or now + lookahead / 2 > self._events_until:
            start = self._events_until or now - timedelta(seconds=self.settings.catch_up_s)
            end = now + lookahead
            found = await self._to_thread(sky.events_between, start, end)
            for event in found:
                if event.id not in self._seen_events:
                    self._seen_events.add(event.id)
                    self._pending_events.append(event)
            self._pending_events.sort(key=lambda e: e.at)
            self._events_until = end
            if len(self._seen_events) > 10_000:
                self._seen_events = {e.id for e in self._pending_events}
        while self._pending_events and self._pending_events[0].at <= now:
            event = self._pending_events[0]
            await self._publish(
                CELESTIAL_EVENTS, "event", sky.event_payload(event), f"ev:{event.id}", event.at
            )
            self._pending_events.pop(0)
        if self._pending_events:
            return self._pending_events[0].at
        return self._events_until - lookahead / 2

    # --- energy ----------------------------------------------------------------------------------------

    async def _step_energy(self, now: datetime) -> datetime:
        if self._energy_next is not None and now < self._energy_next and self._energy_due_reason is None:
            return self._energy_next
        payload = await self._to_thread(self.energy_cache.get, now, self.default)
        gregs = float(payload["gregsEnergy"])
        reason = self._energy_due_reason
        if self._last_gregs is None and reason is None:
            last = (await self.bus.latest([ENERGY_UPDATES])).get(ENERGY_UPDATES)
            value = last.data.get("gregsEnergy") if last is not None else None
            if isinstance(value, int | float):
                self._last_gregs = float(value)
            else:
                reason = "initial"
        if (
            reason is None
            and self._last_gregs is not None
            and abs(gregs - self._last_gregs) > self.settings.energy_threshold
        ):
            reason = "threshold"
        if reason is not None:
            await self._publish(ENERGY_UPDATES, "update", {**payload, "reason": reason}, None, None)
            self._last_gregs = gregs
        self._energy_due_reason = None
        self._energy_next = sky.minute_of(now) + timedelta(minutes=1)
        return self._energy_next
