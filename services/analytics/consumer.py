"""The ``alchm:usage`` stream consumer: a Redis consumer group feeding the analytics store.

Delivery is at-least-once and storage exactly-once:

1. ``XGROUP CREATE alchm:usage analytics 0 MKSTREAM`` (once; ``0`` so that entries written before the
   analytics service ever ran are consumed too).
2. On start and after any failure the consumer first re-reads **its own** pending entries
   (``XREADGROUP … 0``), then new ones (``XREADGROUP … >``, blocking up to ``block_ms``).
3. Entries are decoded and inserted in one transaction with ``ON CONFLICT (event_id) DO NOTHING``; only
   after the commit are they acknowledged (``XACK``). A crash between commit and ack redelivers entries
   whose events are already stored: the conflict clause skips them.
4. Every ``claim_interval_s`` the consumer takes over entries left pending by dead consumers for longer
   than ``claim_idle_ms`` (``XAUTOCLAIM``) and processes them the same way, and deletes consumers that
   have nothing pending and have been idle for ``consumer_prune_idle_s``.

Entries that cannot be decoded are acknowledged and counted (``result="malformed"``): a poison entry must
not block the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import Counter, Gauge

from shared.aio import checkpoint

from .store import AnalyticsStore, IngestResult

log = logging.getLogger("services.analytics.consumer")

CONSUMER_ERRORS = Counter(
    "alchm_analytics_consumer_errors_total", "Stream consumer failures by stage", ["stage"]
)
CONSUMER_ENTRIES = Counter(
    "alchm_analytics_stream_entries_total", "Stream entries processed by how they arrived", ["how"]
)
CONSUMER_LAG = Gauge(
    "alchm_analytics_stream_lag_entries",
    "Entries of the usage stream not yet delivered to the consumer group (XINFO GROUPS lag)",
    multiprocess_mode="max",
)
CONSUMER_PENDING = Gauge(
    "alchm_analytics_stream_pending_entries",
    "Entries delivered to the group but not yet acknowledged",
    multiprocess_mode="max",
)

Entry = tuple[str, Mapping[Any, Any] | None]


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def _entries(response: Any) -> list[Entry]:
    """Entries of an XREADGROUP reply (RESP2 list or RESP3 dict) for our single stream."""
    if not response:
        return []
    streams = response.items() if isinstance(response, dict) else response
    out: list[Entry] = []
    for _name, items in streams:
        if items and isinstance(items[0], list | tuple) and len(items) == 1 and isinstance(items[0][0], list):
            items = items[0]  # pragma: no cover - RESP3 nesting of some client versions
        for entry_id, fields in items:
            out.append((_s(entry_id), fields))
    return out


def default_consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class UsageConsumer:
    def __init__(
        self,
        redis: Any,
        store: AnalyticsStore,
        *,
        stream: str = "alchm:usage",
        group: str = "analytics",
        name: str | None = None,
        read_count: int = 20,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        claim_interval_s: float = 15.0,
        prune_idle_s: float = 3600.0,
    ) -> None:
        self.redis = redis
        self.store = store
        self.stream = stream
        self.group = group
        self.name = name or default_consumer_name()
        self.read_count = read_count
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.claim_interval_s = claim_interval_s
        self.prune_idle_s = prune_idle_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._blocked = False
        self._group_ready = False
        self._backlog = True
        self._last_claim = 0.0
        self.totals = IngestResult()
        self.entries_acked = 0
        self.errors = 0
        self.last_error: str | None = None

    # -- stream operations ---------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            log.info("created consumer group %s on %s", self.group, self.stream)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def process(self, entries: Sequence[Entry], how: str = "new") -> IngestResult:
        """Store the entries' events (one transaction), then acknowledge the entries."""
        if not entries:
            return IngestResult()
        present = [fields for _id, fields in entries if fields]
        result = await self.store.ingest_entries(present) if present else IngestResult()
        await self.ack([entry_id for entry_id, _ in entries])
        self.totals += result
        CONSUMER_ENTRIES.labels(how).inc(len(entries))
        return result

    async def ack(self, ids: Sequence[str]) -> None:
        if ids:
            await self.redis.xack(self.stream, self.group, *ids)
            self.entries_acked += len(ids)

    async def read_once(self) -> int:
        """One XREADGROUP (own pending history first, then new entries) and its processing. Returns the
        number of entries handled."""
        if self._backlog:
            response = await self.redis.xreadgroup(
                self.group, self.name, {self.stream: "0"}, count=self.read_count
            )
            entries = _entries(response)
            if entries:
                await self.process(entries, "pending")
                return len(entries)
            self._backlog = False
        self._blocked = True
        try:
            response = await self.redis.xreadgroup(
                self.group, self.name, {self.stream: ">"}, count=self.read_count, block=self.block_ms
            )
        finally:
            self._blocked = False
        entries = _entries(response)
        await self.process(entries, "new")
        return len(entries)

    async def claim_stale(self, max_rounds: int = 50) -> int:
        """Take over and process entries idle for ``claim_idle_ms`` in other consumers' pending lists."""
        claimed = 0
        start = "0-0"
        for _ in range(max_rounds):
            reply = await self.redis.xautoclaim(
                self.stream, self.group, self.name, self.claim_idle_ms, start_id=start, count=self.read_count
            )
            next_start = _s(reply[0])
            entries = [(_s(i), f) for i, f in reply[1]]
            if entries:
                await self.process(entries, "claimed")
                claimed += len(entries)
            if next_start in ("0-0", "0"):
                break
            start = next_start
        if claimed:
            log.info("claimed %d stale usage entries from dead consumers", claimed)
        return claimed

    async def housekeeping(self) -> None:
        """Lag/pending gauges and pruning of idle consumers with nothing pending."""
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except Exception:
            return
        for info in groups:
            info = {_s(k): v for k, v in info.items()}
            if _s(info.get("name")) != self.group:
                continue
            lag = info.get("lag")
            if lag is not None:
                CONSUMER_LAG.set(int(lag))
            CONSUMER_PENDING.set(int(info.get("pending") or 0))
        with contextlib.suppress(Exception):
            for consumer in await self.redis.xinfo_consumers(self.stream, self.group):
                c = {_s(k): v for k, v in consumer.items()}
                name = _s(c.get("name"))
                idle_ms = int(c.get("inactive", c.get("idle", 0)) or 0)
                if (
                    name != self.name
                    and int(c.get("pending") or 0) == 0
                    and idle_ms > self.prune_idle_s * 1000
                ):
                    await self.redis.xgroup_delconsumer(self.stream, self.group, name)

    # -- the loop --------------------------------------------------------------------------------------

    async def run(self) -> None:
        backoff = 0.0
        while not self._stopping:
            checkpoint()
            try:
                if not self._group_ready:
                    await self.ensure_group()
                now = time.monotonic()
                if now - self._last_claim >= self.claim_interval_s:
                    self._last_claim = now
                    await self.claim_stale()
                    await self.housekeeping()
                await self.read_once()
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                stage = "redis" if "redis" in type(exc).__module__ else "store"
                CONSUMER_ERRORS.labels(stage).inc()
                if "NOGROUP" in str(exc):
                    self._group_ready = False
                self._backlog = True  # what we read but did not ack is in our pending list
                backoff = min(5.0, max(0.1, backoff * 2)) * random.uniform(0.8, 1.2)
                if self.errors == 1 or self.errors % 20 == 0:
                    log.warning("usage consumer error (%s); retrying in %.2fs", self.last_error, backoff)
                await asyncio.sleep(backoff)

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="analytics-usage-consumer")

    async def stop(self, timeout: float | None = None) -> None:
        """Stop: a consumer waiting in its blocking read is cancelled at once; one that is storing a
        batch may finish it (``timeout``, default 5 s) before it is cancelled. Either way, what was read
        but not acknowledged stays pending and is delivered again (then skipped as duplicate)."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        if not self._blocked:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), 5.0 if timeout is None else timeout)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    def stats(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inserted": self.totals.inserted,
            "duplicates": self.totals.duplicates,
            "malformed": self.totals.malformed,
            "entries_acked": self.entries_acked,
            "errors": self.errors,
            "last_error": self.last_error,
        }
