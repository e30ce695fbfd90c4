"""The integration harness itself: real PostgreSQL, Redis and NGINX start on ephemeral ports."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.servers import PostgresServer, RedisServer

pytestmark = pytest.mark.integration


async def test_postgres_answers(pg_url: str) -> None:
    engine = create_async_engine(pg_url)
    async with engine.connect() as conn:
        version = (await conn.execute(text("SHOW server_version"))).scalar_one()
    await engine.dispose()
    assert int(version.split(".")[0]) >= 13


async def test_redis_stop_and_start_same_port(redis_server: RedisServer) -> None:
    client = aioredis.from_url(redis_server.url, socket_timeout=0.5)
    assert await client.ping()
    redis_server.stop()
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        await client.ping()
    redis_server.start()
    await asyncio.sleep(0.05)
    assert await client.ping()
    await client.aclose()


def test_nginx_serves(nginx_factory) -> None:  # type: ignore[no-untyped-def]
    conf = """
worker_processes 1;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path {{PREFIX}}/tmp;
  proxy_temp_path {{PREFIX}}/tmp;
  fastcgi_temp_path {{PREFIX}}/tmp;
  uwsgi_temp_path {{PREFIX}}/tmp;
  scgi_temp_path {{PREFIX}}/tmp;
  server { listen 127.0.0.1:{{PORT}}; location / { return 200 "ok"; } }
}
"""
    server = nginx_factory(conf)
    r = httpx.get(server.base_url + "/")
    assert r.status_code == 200 and r.text == "ok"


def test_pg_server_type(pg_server: PostgresServer) -> None:
    assert pg_server.psql("SELECT 42").stdout.strip() == "42"
