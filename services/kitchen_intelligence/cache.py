"""The recommendation response cache: an in-process LRU of rendered bytes in front of the shared cache.

* Level 1 — in-process: key → the response body **bytes** without the per-call tail (see
  :func:`render_prefix`), so a hit costs a dict lookup and a byte concatenation, no JSON work.
* Level 2 — ``app.state.cache`` from ``shared.infra`` when it is Redis-backed (``shared.cache.RedisCache``):
  shared by every instance; a Redis failure is a miss and Redis is skipped for a back-off (the shared cache
  does that), so Redis down never fails a request. Without Redis the level-1 LRU is the whole cache.

Hits and misses of the whole cache are counted in
``alchm_cache_events_total{cache="kitchen_recommendations"}`` (the Redis level also counts its own under
``cache="redis"``). Entries live ``TTL_S`` (5 minutes = the bucket of the effective instant); the instant is
part of the key, so an entry is never served for another instant.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

import orjson

from shared.cache import Cache, RedisCache
from shared.http import dumps
from shared.metrics import CACHE_EVENTS

__all__ = ["TTL_S", "Cached", "ResponseCache", "render_prefix", "served_ids", "with_tail"]

TTL_S: Final = 300.0


@dataclass(frozen=True, slots=True)
class Cached:
    """A rendered answer: the body bytes without their per-call tail, and what it served (for analytics)."""

    prefix: bytes
    served: tuple[dict[str, Any], ...]


def served_ids(payload: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """``[{id, score, cuisine}]`` of the recommended recipes (``request.state.recommendation_ids``)."""
    out = []
    for item in payload.get("recommendations", ()):
        recipe = item.get("recipe", {})
        out.append(
            {"id": recipe.get("id"), "score": item.get("score"), "cuisine": recipe.get("cuisine_slug")}
        )
    return tuple(out)


def render_prefix(payload: dict[str, Any]) -> bytes:
    """The JSON of ``payload`` (whose last key is ``metadata``, a non-empty object) without its final
    ``}}``, ready for :func:`with_tail`."""
    body = dumps(payload)
    if not body.endswith(b"}}"):
        raise ValueError("payload must end with a non-empty 'metadata' object")
    return body[:-2]


def with_tail(prefix: bytes, tail: dict[str, Any]) -> bytes:
    """Append per-call metadata fields to a rendered prefix (keys must not repeat cached ones)."""
    extra = orjson.dumps(tail)
    return prefix + b"," + extra[1:-1] + b"}}"


class ResponseCache:
    def __init__(self, shared: Cache | None = None, *, max_entries: int = 4096, ttl_s: float = TTL_S) -> None:
        self.shared = shared if isinstance(shared, RedisCache) else None
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._local: OrderedDict[str, tuple[float, Cached]] = OrderedDict()
        self.hits_local = 0
        self.hits_shared = 0
        self.misses = 0
        self._m_hit = CACHE_EVENTS.labels("kitchen_recommendations", "hit")
        self._m_miss = CACHE_EVENTS.labels("kitchen_recommendations", "miss")

    def get_local(self, key: str) -> Cached | None:
        entry = self._local.get(key)
        if entry is None:
            return None
        expires, cached = entry
        if expires <= time.monotonic():
            del self._local[key]
            return None
        self._local.move_to_end(key)
        self.hits_local += 1
        return cached

    def put_local(self, key: str, cached: Cached) -> None:
        self._local[key] = (time.monotonic() + self.ttl_s, cached)
        self._local.move_to_end(key)
        while len(self._local) > self.max_entries:
            self._local.popitem(last=False)

    async def get(self, key: str) -> tuple[Cached | None, str]:
        """(cached, where) — where is ``local``, ``shared`` or ``miss``."""
        cached = self.get_local(key)
        if cached is not None:
            self._m_hit.inc()
            return cached, "local"
        if self.shared is not None:
            value = await self.shared.get(key)
            if isinstance(value, dict):
                try:
                    cached = Cached(render_prefix(value), served_ids(value))
                except ValueError:
                    cached = None
                if cached is not None:
                    self.put_local(key, cached)
                    self.hits_shared += 1
                    self._m_hit.inc()
                    return cached, "shared"
        self.misses += 1
        self._m_miss.inc()
        return None, "miss"

    async def put(self, key: str, payload: dict[str, Any]) -> Cached:
        """Render ``payload``, keep it locally and in the shared cache; returns the rendered entry."""
        cached = Cached(render_prefix(payload), served_ids(payload))
        self.put_local(key, cached)
        if self.shared is not None:
            await self.shared.set(key, payload, self.ttl_s)
        return cached

    def clear_local(self) -> None:
        self._local.clear()

    def __len__(self) -> int:
        return len(self._local)
