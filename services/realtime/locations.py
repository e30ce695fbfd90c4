"""Active client locations, shared across instances so the producer (on one instance) computes the hour
boundaries of every place a client watches.

Each instance keeps local reference counts and writes its locations into a Redis sorted set
(``member = location key``, ``score = expiry epoch``) when a new one appears and every ``refresh_s``; the
producer reads the members whose expiry lies ahead and prunes the rest. Without Redis the local counts are
the whole truth. The default location is always active.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from shared.aio import checkpoint
from shared.metrics import DEPENDENCY_FAILURES

from .protocol import Location

log = logging.getLogger("realtime.locations")


class LocationRegistry:
    def __init__(
        self,
        default: Location,
        redis: Any | None = None,
        *,
        key: str = "alchm:rt:locations",
        ttl_s: float = 90.0,
        refresh_s: float = 30.0,
        max_locations: int = 5000,
    ) -> None:
        self.default = default
        self.redis = redis
        self.key = key
        self.ttl_s = ttl_s
        self.refresh_s = refresh_s
        self.max_locations = max_locations
        self._refs: dict[str, int] = {}
        self._locations: dict[str, Location] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()

    # --- instance side ---------------------------------------------------------------------------------

    def acquire(self, location: Location) -> bool:
        """Count one more local user of ``location``; False when the per-instance cap is reached."""
        key = location.key
        count = self._refs.get(key)
        if count is None:
            if len(self._refs) >= self.max_locations:
                return False
            self._refs[key] = 1
            self._locations[key] = location
            self._dirty.add(key)
            self._wake.set()
        else:
            self._refs[key] = count + 1
        return True

    def release(self, location: Location) -> None:
        key = location.key
        count = self._refs.get(key)
        if count is None:
            return
        if count <= 1:
            del self._refs[key]
            self._locations.pop(key, None)
            self._dirty.discard(key)
        else:
            self._refs[key] = count - 1

    def local(self) -> list[Location]:
        return list(self._locations.values())

    async def _write(self, keys: list[str]) -> None:
        if self.redis is None or not keys:
            return
        expiry = time.time() + self.ttl_s
        for i in range(0, len(keys), 500):
            await self.redis.zadd(self.key, dict.fromkeys(keys[i : i + 500], expiry))

    async def run(self) -> None:
        """Write new locations at once and all local ones every ``refresh_s`` (no-op without Redis)."""
        if self.redis is None:
            return
        last_full = 0.0
        while True:
            checkpoint()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if time.monotonic() - last_full >= self.refresh_s * 0.9:
                    self._dirty.clear()
                    await self._write(list(self._refs))
                    last_full = time.monotonic()
                elif self._dirty:
                    dirty, self._dirty = list(self._dirty), set()
                    await self._write(dirty)
            except Exception as exc:
                DEPENDENCY_FAILURES.labels("realtime", "redis", "locations").inc()
                log.warning("could not register active locations: %s", exc)
                await asyncio.sleep(1.0)
                last_full = 0.0

    # --- producer side -------------------------------------------------------------------------------

    async def active(self) -> list[Location]:
        """Every location some instance's clients watch (the default first)."""
        found: dict[str, Location] = {self.default.key: self.default}
        if self.redis is None:
            for key, loc in self._locations.items():
                found.setdefault(key, loc)
            return list(found.values())
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zremrangebyscore(self.key, "-inf", now)
        pipe.zrangebyscore(self.key, now, "+inf")
        _, members = await pipe.execute()
        for raw in members:
            key = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
            if key in found:
                continue
            try:
                found[key] = Location.from_key(key)
            except ValueError:
                continue
        return list(found.values())
