"""Usage recording end to end on REAL PostgreSQL and Redis.

- 10,000 requests served by a real service (uvicorn subprocess, ``usage_recording`` lifespan) while the
  analytics service is not running; then analytics starts, is SIGKILLed in the middle of consuming,
  restarts, claims the dead consumer's pending entries: all 10,000 events are stored exactly once and the
  reports match counts made here.
- A consumer that crashes after the insert but before the XACK: the redelivered entries are still stored
  exactly once (claimed by another consumer, or re-read by the same one after a restart).
- The recorder survives a Redis outage: it buffers, counts failures, backs off and delivers afterwards.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import func, select

from services.analytics.consumer import UsageConsumer
from services.analytics.store import AnalyticsStore
from shared.app import create_app
from shared.auth.roles import scopes_for_roles
from shared.auth.settings import AuthSettings
from shared.auth.tokens import TokenService
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.db.models import RecommendationServed, UsageEvent
from shared.errors import NotFound
from shared.infra import infrastructure
from shared.redis import create_redis
from shared.settings import Settings, get_settings
from shared.usage import RedisStreamSink, UsageRecorder, UserHasher, entry_event_ids, usage_recording
from tests.support.servers import RedisServer, ServiceProcess

pytestmark = pytest.mark.integration

SECRET = "integration-secret-" + "z" * 40

# --------------------------------------------------------------------------------------------------
# The emitting service: any app built with create_app + usage_recording
# --------------------------------------------------------------------------------------------------


def make_emitter() -> FastAPI:
    """uvicorn factory (``--factory``): a tiny service with usage recording, configured by ALCHM_*."""
    router = APIRouter()

    @router.get("/ping/{n}", tags=["emitter"])
    async def ping(n: int) -> dict[str, int]:
        return {"n": n}

    @router.get("/missing/{n}", tags=["emitter"])
    async def missing(n: int) -> None:
        raise NotFound(f"thing {n} does not exist")

    @router.post("/recommend", tags=["emitter"])
    async def recommend(request: Request) -> dict[str, Any]:
        ids = ["r1", "r2", "r3"]
        request.state.recommendation_ids = [{"id": i, "score": 0.5, "cuisine": "thai"} for i in ids]
        return {"recommendations": ids}

    settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(app, settings, database=False), usage_recording(app, settings):
            yield

    return create_app("emitter", routers=[router], settings=settings, lifespan=lifespan)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _token(*roles: str) -> dict[str, str]:
    service = TokenService(Settings(env="test", jwt_secret=SECRET), AuthSettings())
    issued = service.issue_access(
        user_id=uuid.uuid4(), email="t@example.org", roles=roles, scopes=scopes_for_roles(roles), tier="admin"
    )
    return {"Authorization": f"Bearer {issued.token}"}


async def _stream_events(client: aioredis.Redis, stream: str) -> list[tuple[str, list[Any]]]:
    """(event id, event) of every event in the stream."""
    events: list[tuple[str, list[Any]]] = []
    for _id, fields in await client.xrange(stream):
        batch = orjson.loads(fields[b"ev"])
        events.extend(zip(entry_event_ids(fields[b"idb"], batch), batch, strict=True))
    return events


async def _wait_until(
    getter: Callable[[], Any], done: Callable[[Any], bool], timeout: float, interval: float = 0.05
) -> Any:
    """Poll ``getter()`` until ``done(value)`` or the timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await getter()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)


async def _stored(db: Database, service: str) -> int:
    async with db.session() as s:
        q = select(func.count()).select_from(UsageEvent).where(UsageEvent.service == service)
        return int((await s.execute(q)).scalar_one())


@pytest.fixture
async def migrated_pg(pg_url: str) -> str:
    await asyncio.to_thread(upgrade, pg_url)
    return pg_url


# --------------------------------------------------------------------------------------------------
# 10,000 events while analytics is down
# --------------------------------------------------------------------------------------------------

PLAN = [("GET", "/ping/{n}", 200)] * 7 + [("GET", "/missing/{n}", 404)] * 2 + [("POST", "/recommend", 200)]


async def _send_requests(base_url: str, total: int, concurrency: int = 50) -> Counter[tuple[str, str, int]]:
    """Send ``total`` requests over ``concurrency`` keep-alive connections; count them by route and status.

    A minimal HTTP/1.1 client on asyncio streams: httpx's pool manages ~150-300 requests/s on this
    machine, far below what the server answers (~2,000/s), which alone would take the test over budget.
    """
    host, port = base_url.removeprefix("http://").split(":")
    sent: Counter[tuple[str, str, int]] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                method, route, expected = PLAN[i % len(PLAN)]
                path = route.replace("{n}", str(i))
                writer.write(
                    f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                assert status == expected, (path, status)
                sent[(method, route, status)] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


async def test_10000_events_emitted_while_analytics_is_down_are_stored_exactly_once(
    migrated_pg: str,
    shared_redis: RedisServer,
    service_factory: Callable[..., ServiceProcess],
) -> None:
    stream = f"alchm:usage:test:{uuid.uuid4().hex[:8]}"
    env = {
        "ALCHM_REDIS_URL": shared_redis.url,
        "ALCHM_JWT_SECRET": SECRET,
        "ALCHM_USAGE_STREAM": stream,
        "ALCHM_LOG_LEVEL": "WARNING",
    }
    redis = aioredis.from_url(shared_redis.url)
    db = Database(migrated_pg)
    try:
        # 1. A real service serves 10,000 requests; analytics is not running (no consumer group yet).
        emitter = service_factory("tests.integration.test_analytics_stream:make_emitter", env, factory=True)
        t0 = time.perf_counter()
        sent = await _send_requests(emitter.base_url, 10_000)
        print(f"\n10,000 requests sent in {time.perf_counter() - t0:.1f}s")
        assert sum(sent.values()) == 10_000
        events = await _wait_until(lambda: _stream_events(redis, stream), lambda v: len(v) >= 10_000, 15)
        assert len(events) == 10_000, "the recorder did not ship every event to the stream"
        print(f"stream complete at {time.perf_counter() - t0:.1f}s")
        emitter.stop()
        print(f"emitter stopped at {time.perf_counter() - t0:.1f}s")
        assert await redis.xinfo_groups(stream) == []
        stream_ids = {event_id for event_id, _ in events}
        assert len(stream_ids) == 10_000

        # 2. Analytics starts and consumes; we SIGKILL it in the middle (one entry per read to make the
        #    middle long enough), then start it again: the new consumer claims the dead one's entries.
        analytics_env = {
            **env,
            "ALCHM_DATABASE_URL": migrated_pg,
            "ALCHM_ANALYTICS_READ_COUNT": "1",
            "ALCHM_ANALYTICS_CLAIM_IDLE_MS": "500",
            "ALCHM_ANALYTICS_CLAIM_INTERVAL_S": "0.5",
            "ALCHM_ANALYTICS_BLOCK_MS": "200",
        }
        analytics = service_factory("services.analytics.main:app", analytics_env)
        print(f"analytics started at {time.perf_counter() - t0:.1f}s")
        partial = await _wait_until(lambda: _stored(db, "emitter"), lambda v: v > 0, 20, interval=0.01)
        analytics.kill()
        assert partial > 0
        killed_mid_way = partial < 10_000

        analytics = service_factory("services.analytics.main:app", analytics_env)
        print(f"analytics restarted at {time.perf_counter() - t0:.1f}s")
        stored = await _wait_until(lambda: _stored(db, "emitter"), lambda v: v >= 10_000, 30)
        assert stored == 10_000, f"stored {stored} of 10,000"
        print(f"all stored at {time.perf_counter() - t0:.1f}s")

        async def pending() -> int:
            info = await redis.xpending(stream, "analytics")
            return int(info["pending"])

        assert await _wait_until(pending, lambda v: v == 0, 10) == 0
        print(f"pending 0 at {time.perf_counter() - t0:.1f}s")
        await asyncio.sleep(1.0)  # nothing more arrives later (no duplicates on a later claim)
        async with db.session() as s:
            rows = (await s.execute(select(UsageEvent.event_id).where(UsageEvent.service == "emitter"))).all()
            served = (await s.execute(select(func.count()).select_from(RecommendationServed))).scalar_one()
        assert len(rows) == 10_000 and {r[0] for r in rows} == stream_ids
        assert served == sent[("POST", "/recommend", 200)]

        print(f"db checked at {time.perf_counter() - t0:.1f}s")
        # 3. The reports agree with the counts made here; only admin/service may read them.
        base = analytics.base_url
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            r = await c.get(
                "/analytics/usage",
                params={"window": "1h", "group_by": "endpoint", "service": "emitter", "interval": "1m"},
                headers=_token("admin"),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["total"] == 10_000
            got = {(g["method"], g["route"]): g["count"] for g in body["groups"]}
            want = {(m, rt): n for (m, rt, _st), n in sent.items()}
            assert got == want
            assert sum(p["count"] for p in body["series"]) == 10_000

            r = await c.get(
                "/analytics/usage",
                params={"window": "1h", "group_by": "status", "service": "emitter"},
                headers=_token("service"),
            )
            statuses = Counter()
            for (_m, _rt, st), n in sent.items():
                statuses[str(st)] += n
            assert {g["key"]: g["count"] for g in r.json()["groups"]} == dict(statuses)

            r = await c.get(
                "/analytics/performance",
                params={"window": "1h", "service": "emitter"},
                headers=_token("admin"),
            )
            perf = {(e["method"], e["route"]): e for e in r.json()["endpoints"]}
            assert {k: e["count"] for k, e in perf.items()} == want
            assert all(0 < e["p50_ms"] <= e["p95_ms"] <= e["p99_ms"] <= e["max_ms"] for e in perf.values())

            r = await c.get("/analytics/recommendations", params={"window": "1h"}, headers=_token("admin"))
            rec = r.json()
            n_rec = sent[("POST", "/recommend", 200)]
            assert rec["served"] == {"lists": n_rec, "items": 3 * n_rec}
            assert rec["mean_served_score"] == 0.5
            assert rec["cuisines"]["distinct"] == 1 and rec["cuisines"]["shannon_evenness"] is None

            for path in ("/analytics/usage", "/analytics/performance", "/analytics/recommendations"):
                assert (await c.get(path)).status_code == 401
                r = await c.get(path, headers=_token("user"))
                assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_ROLE"
            r = await c.get("/ready")
            assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok"}
        print(f"reports checked at {time.perf_counter() - t0:.1f}s")
        print(f"analytics killed after {partial} of 10,000 stored (mid-way: {killed_mid_way})")
    finally:
        await redis.delete(stream)
        await redis.aclose()
        await db.dispose()


# --------------------------------------------------------------------------------------------------
# Crash after insert, before ack
# --------------------------------------------------------------------------------------------------


class CrashAfterInsert(Exception):
    pass


class CrashingConsumer(UsageConsumer):
    """Dies between the database commit and the XACK."""

    async def ack(self, ids: Any) -> None:
        raise CrashAfterInsert()


async def _fill_stream(client: aioredis.Redis, stream: str, n: int) -> set[str]:
    recorder = UsageRecorder(
        "crashy-svc", sink=RedisStreamSink(client, stream, 100_000), hasher=UserHasher(b"k"), batch_size=100
    )
    for i in range(n):
        recorder.record({"type": "http"}, "GET", f"/r/{i % 4}", 200, 0.001)
    while recorder.buffered:
        await recorder.flush()
    return {event_id for event_id, _ in await _stream_events(client, stream)}


async def test_redelivery_after_a_crash_between_insert_and_ack_stores_once(
    migrated_pg: str, shared_redis: RedisServer
) -> None:
    stream = f"alchm:usage:test:{uuid.uuid4().hex[:8]}"
    client = aioredis.from_url(shared_redis.url)
    db = Database(migrated_pg)
    store = AnalyticsStore(db)
    try:
        ids = await _fill_stream(client, stream, 2000)
        assert len(ids) == 2000

        # Consumer A reads 5 entries (500 events), inserts them, and crashes before acknowledging.
        crashy = CrashingConsumer(client, store, stream=stream, name="dead-a", read_count=5)
        await crashy.ensure_group()
        with pytest.raises(CrashAfterInsert):
            await crashy.read_once()  # own pending history: empty
            await crashy.read_once()
        assert await _stored(db, "crashy-svc") == 500
        assert int((await client.xpending(stream, "analytics"))["pending"]) == 5

        # Consumer B claims A's idle entries and reads the rest: duplicates are skipped, nothing is lost.
        survivor = UsageConsumer(
            client, store, stream=stream, name="alive-b", read_count=50, claim_idle_ms=100
        )
        await asyncio.sleep(0.2)
        assert await survivor.claim_stale() == 5
        assert survivor.totals.duplicates == 500 and survivor.totals.inserted == 0
        while await survivor.read_once():
            pass
        assert survivor.totals.inserted == 1500
        async with db.session() as s:
            stored = {
                r[0]
                for r in (
                    await s.execute(select(UsageEvent.event_id).where(UsageEvent.service == "crashy-svc"))
                ).all()
            }
        assert stored == ids
        assert int((await client.xpending(stream, "analytics"))["pending"]) == 0

        # The same consumer restarting re-reads its own pending entries first (crash before commit too).
        await client.delete(stream)
        ids2 = await _fill_stream(client, stream, 300)
        await client.xgroup_create(stream, "analytics", id="0")

        class FailingStore(AnalyticsStore):
            async def ingest_entries(self, entries: Any, *, source: str = "stream") -> Any:
                raise ConnectionError("database went away")

        broken = UsageConsumer(client, FailingStore(db), stream=stream, name="same-c", read_count=10)
        broken._backlog = False
        with pytest.raises(ConnectionError):
            await broken.read_once()
        restarted = UsageConsumer(client, store, stream=stream, name="same-c", read_count=10)
        handled = await restarted.read_once()  # "0": its own pending history
        assert handled == 3 and restarted.totals.inserted == 300
        assert await _stored(db, "crashy-svc") == 2300
        assert ids2 <= {r[0] for r in (await _all_ids(db))}
    finally:
        await client.delete(stream)
        await client.aclose()
        await db.dispose()


async def _all_ids(db: Database) -> list[Any]:
    async with db.session() as s:
        return list((await s.execute(select(UsageEvent.event_id))).all())


# --------------------------------------------------------------------------------------------------
# Redis outage
# --------------------------------------------------------------------------------------------------


async def test_recorder_buffers_through_a_redis_outage(redis_server: RedisServer) -> None:
    stream = "alchm:usage:outage"
    settings = Settings(env="test", redis_url=redis_server.url, redis_timeout_s=0.2)
    client = create_redis(settings, service="outage")
    assert client is not None
    recorder = UsageRecorder(
        "outage",
        sink=RedisStreamSink(client, stream, 100_000),
        hasher=UserHasher(b"k"),
        batch_size=200,
        flush_interval_s=0.05,
        max_backoff_s=0.3,
    )
    recorder.start()
    try:
        redis_server.stop()
        t0 = time.perf_counter()
        for _ in range(1500):
            recorder.record({"type": "http"}, "GET", "/r", 200, 0.001)
        assert time.perf_counter() - t0 < 0.5  # never waits for Redis
        await asyncio.sleep(1.0)
        assert recorder.failures >= 2 and recorder.shipped == 0 and recorder.buffered == 1500

        redis_server.start()
        checker = aioredis.from_url(redis_server.url)
        events = await _wait_until(lambda: _stream_events(checker, stream), lambda v: len(v) >= 1500, 10)
        await checker.aclose()
        assert len({event_id for event_id, _ in events}) == 1500
        assert recorder.shipped == 1500 and recorder.dropped == 0
    finally:
        await recorder.stop(timeout=1)
        await client.aclose()
