"""The one ``redis.asyncio`` client of a service process: created in the lifespan, closed on exit.

Hot-path settings: socket and connect timeouts of ``Settings.redis_timeout_s``, **no retries** (a caller
that cannot wait falls back instead: cache miss, local rate limit), a health-check PING on connections
idle for 30 s, and a bounded blocking pool (waiting for a free connection is bounded by the same
timeout). ``ALCHM_REDIS_URL`` empty means no Redis: callers use their in-process implementations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from shared.settings import Settings

HEALTH_CHECK_INTERVAL_S = 30
DEFAULT_MAX_CONNECTIONS = 64


def create_redis(
    settings: Settings, *, service: str = "alchm", max_connections: int = DEFAULT_MAX_CONNECTIONS
) -> Redis | None:
    """A client for ``settings.redis_url`` (no I/O happens until the first command), or ``None``."""
    if not settings.redis_url:
        return None
    timeout = settings.redis_timeout_s
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        retry=Retry(NoBackoff(), 0),
        client_name=f"alchm-{service}"[:60],
        decode_responses=False,
    )
    return Redis.from_pool(pool)


def redis_readiness(client: Redis) -> Callable[[], Awaitable[None]]:
    """A readiness check: PING must answer."""

    async def check() -> None:
        if not await client.ping():
            raise ConnectionError("redis did not answer PING")

    return check


async def close_redis(client: Redis | None) -> None:
    if client is not None:
        await client.aclose()
