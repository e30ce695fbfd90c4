"""An async cache for JSON-serialisable values (orjson), with TTLs.

- :class:`MemoryCache`: in-process TTL + LRU (embedded mode, or a per-process layer for hot keys).
- :class:`RedisCache`: shared by every instance; each operation is bounded by ``timeout_s``. A Redis
  failure is a **miss** (``get``) or a no-op (``set``/``delete``): it is counted
  (``alchm_cache_events_total{result="error"}``, ``alchm_dependency_failures_total``), logged once per
  outage, and Redis is skipped for a short back-off (1 s, doubling to 5 s) so requests do not each wait
  for a timeout while it is down; it is tried again by itself.

Both store the serialised bytes, so a value comes back the same (a fresh copy, JSON types) from either.
``None`` cannot be told apart from a miss: cache a wrapper (``{"value": None}``) when it matters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from shared.http import dumps
from shared.metrics import CACHE_EVENTS, DEPENDENCY_FAILURES

log = logging.getLogger("shared.cache")


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl_s: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def get_or_set(self, key: str, ttl_s: float, factory: Callable[[], Awaitable[Any]]) -> Any: ...


class _CacheBase(ABC):
    """The shared ``get_or_set``, with per-key single flight: concurrent misses of one key compute it once."""

    _inflight: dict[str, asyncio.Future[Any]]

    @abstractmethod
    async def get(self, key: str) -> Any | None: ...

    @abstractmethod
    async def set(self, key: str, value: Any, ttl_s: float) -> None: ...

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    async def get_or_set(self, key: str, ttl_s: float, factory: Callable[[], Awaitable[Any]]) -> Any:
        value = await self.get(key)
        if value is not None:
            return value
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await factory()
            if value is not None:
                await self.set(key, value, ttl_s)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._inflight.pop(key, None)


class MemoryCache(_CacheBase):
    def __init__(self, max_entries: int = 10_000, *, name: str = "memory") -> None:
        self.max_entries = max_entries
        self.name = name
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._inflight = {}
        self._hit = CACHE_EVENTS.labels(name, "hit")
        self._miss = CACHE_EVENTS.labels(name, "miss")

    async def get(self, key: str) -> Any | None:
        entry = self._data.get(key)
        if entry is None:
            self._miss.inc()
            return None
        expires, payload = entry
        if expires <= time.monotonic():
            del self._data[key]
            self._miss.inc()
            return None
        self._data.move_to_end(key)
        self._hit.inc()
        return orjson.loads(payload)

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        if ttl_s <= 0:
            self._data.pop(key, None)
            return
        self._data[key] = (time.monotonic() + ttl_s, dumps(value))
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


class RedisCache(_CacheBase):
    def __init__(
        self,
        client: Redis,
        *,
        timeout_s: float = 0.5,
        prefix: str = "alchm:cache:",
        name: str = "redis",
        service: str = "alchm",
        retry_min_s: float = 1.0,
        retry_max_s: float = 5.0,
    ) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.prefix = prefix
        self.name = name
        self._inflight = {}
        self._hit = CACHE_EVENTS.labels(name, "hit")
        self._miss = CACHE_EVENTS.labels(name, "miss")
        self._error = CACHE_EVENTS.labels(name, "error")
        self._failures = {
            op: DEPENDENCY_FAILURES.labels(service, "redis", f"cache_{op}") for op in ("get", "set", "delete")
        }
        self._retry_min = retry_min_s
        self._retry_max = retry_max_s
        self._backoff = retry_min_s
        self._skip_until = 0.0
        self.degraded = False

    def _available(self) -> bool:
        return not self.degraded or time.monotonic() >= self._skip_until

    def _failed(self, op: str, exc: BaseException) -> None:
        self._error.inc()
        self._failures[op].inc()
        now = time.monotonic()
        if now < self._skip_until:
            return
        self._skip_until = now + self._backoff
        if not self.degraded:
            self.degraded = True
            log.warning(
                "cache %s: Redis unreachable (%s); serving misses, retrying in %.1fs",
                self.name,
                exc,
                self._backoff,
            )
        self._backoff = min(self._backoff * 2, self._retry_max)

    def _ok(self) -> None:
        if self.degraded:
            self.degraded = False
            self._backoff = self._retry_min
            log.warning("cache %s: Redis is back", self.name)

    async def get(self, key: str) -> Any | None:
        if not self._available():
            self._error.inc()
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                payload = await self.client.get(self.prefix + key)
        except Exception as exc:  # any failure is a miss
            self._failed("get", exc)
            return None
        self._ok()
        if payload is None:
            self._miss.inc()
            return None
        try:
            value = orjson.loads(payload)
        except orjson.JSONDecodeError:
            self._miss.inc()
            return None
        self._hit.inc()
        return value

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        if not self._available():
            return
        payload = dumps(value)
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.client.set(self.prefix + key, payload, px=max(1, int(ttl_s * 1000)))
        except Exception as exc:
            self._failed("set", exc)
            return
        self._ok()

    async def delete(self, key: str) -> None:
        if not self._available():
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.client.delete(self.prefix + key)
        except Exception as exc:
            self._failed("delete", exc)
            return
        self._ok()
