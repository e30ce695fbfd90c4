"""Identity end to end on a real PostgreSQL and Redis: register → login → refresh (rotation) → replay
(family revoked) → logout; token attacks; roles; API keys; hostile input."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, text

from shared.db import migrate
from shared.db.models import ApiKey, RefreshToken, User
from tests.support.servers import RedisServer
from tests.unit.auth.apps import (
    SECRET,
    bearer,
    build_app,
    fresh_ip,
    login,
    make_settings,
    make_user,
    register,
    running,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def pg_app(pg_url: str, shared_redis: RedisServer) -> FastAPI:
    await asyncio.to_thread(migrate.upgrade, pg_url)
    client = aioredis.from_url(shared_redis.url)
    await client.flushdb()
    await client.aclose()
    return build_app(make_settings(database_url=pg_url, redis_url=shared_redis.url), create_schema=False)


@pytest.fixture
async def client(pg_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with running(pg_app) as c:
        yield c


async def test_ready_checks_both_dependencies(client: AsyncClient, pg_app: FastAPI) -> None:
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert pg_app.state.ratelimiter.backend == "redis"
    async with pg_app.state.db.engine.connect() as conn:
        name = (await conn.execute(text("SHOW application_name"))).scalar()
        timeout = (await conn.execute(text("SHOW statement_timeout"))).scalar()
    assert name == "auth-test" and timeout == "15s"


async def test_full_identity_lifecycle(client: AsyncClient, pg_app: FastAPI) -> None:
    reg = await register(client, "Life.Cycle@Example.com")
    assert reg["user"]["email"] == "life.cycle@example.com"
    me = await client.get("/auth/me", headers=bearer(reg["accessToken"]))
    assert me.status_code == 200 and me.json()["user"]["id"] == reg["user"]["id"]

    logged = await login(client, "life.cycle@example.com")
    assert logged["user"]["last_login_at"] is not None

    r1 = await client.post("/auth/refresh", json={"refresh_token": logged["refresh_token"]})
    assert r1.status_code == 200
    r2 = await client.post("/auth/refresh", json={"refresh_token": r1.json()["refresh_token"]})
    assert r2.status_code == 200
    assert (await client.get("/auth/me", headers=bearer(r2.json()["access_token"]))).status_code == 200

    # Replay of the first (spent) refresh token: 401 and the login's whole family is revoked.
    replay = await client.post("/auth/refresh", json={"refresh_token": logged["refresh_token"]})
    assert replay.status_code == 401 and replay.json()["error"] == "AUTH_TOKEN_INVALID"
    assert replay.json()["details"][0]["reason"] == "refresh token reuse detected"
    newest = await client.post("/auth/refresh", json={"refresh_token": r2.json()["refresh_token"]})
    assert newest.status_code == 401

    async with pg_app.state.db.session() as s:
        family = (
            await s.scalars(select(RefreshToken).where(RefreshToken.user_id == uuid.UUID(reg["user"]["id"])))
        ).all()
    by_family: dict[uuid.UUID, list[RefreshToken]] = {}
    for token in family:
        by_family.setdefault(token.family_id, []).append(token)
    assert sorted(len(v) for v in by_family.values()) == [1, 3]  # the registration's login, and this one
    replayed = next(v for v in by_family.values() if len(v) == 3)
    assert all(t.revoked_reason == "reuse_detected" for t in replayed)

    # The registration's session is untouched; logout revokes it.
    assert (
        await client.post("/auth/logout", json={"refresh_token": reg["refresh_token"]})
    ).status_code == 204
    r = await client.post("/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "revoked (logout)"
    async with pg_app.state.db.session() as s:
        assert all(t.revoked_at is not None for t in (await s.scalars(select(RefreshToken))).all())


async def test_concurrent_refresh_with_one_token_has_one_winner(client: AsyncClient) -> None:
    tokens = await register(client)
    results = await asyncio.gather(
        *(client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 401, 401, 401]
    winner = next(r for r in results if r.status_code == 200).json()
    # The losers were replays: the family, including the winner's new token, is revoked.
    r = await client.post("/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert r.status_code == 401


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_forged_and_broken_tokens(client: AsyncClient) -> None:
    good = (await register(client))["access_token"]
    claims = jwt.decode(good, SECRET, algorithms=["HS256"], audience="alchm.kitchen")
    header, payload, signature = good.split(".")
    tampered_claims = {**claims, "roles": ["admin"], "scopes": ["system:*"]}
    cases = {
        "alg none": (_b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + ".", "AUTH_TOKEN_INVALID"),
        "wrong key": (jwt.encode(claims, "k" * 64, algorithm="HS256"), "AUTH_TOKEN_INVALID"),
        "wrong audience": (
            jwt.encode({**claims, "aud": "other"}, SECRET, algorithm="HS256"),
            "AUTH_TOKEN_INVALID",
        ),
        "wrong issuer": (
            jwt.encode({**claims, "iss": "evil"}, SECRET, algorithm="HS256"),
            "AUTH_TOKEN_INVALID",
        ),
        "expired": (
            jwt.encode({**claims, "exp": int(time.time()) - 60, "iat": int(time.time()) - 3700}, SECRET),
            "AUTH_TOKEN_EXPIRED",
        ),
        "tampered": (f"{header}.{_b64(tampered_claims)}.{signature}", "AUTH_TOKEN_INVALID"),
        "truncated": (good[:-5], "AUTH_TOKEN_INVALID"),
        "HS512": (jwt.encode(claims, SECRET + "x" * 20, algorithm="HS512"), "AUTH_TOKEN_INVALID"),
    }
    for name, (token, code) in cases.items():
        r = await client.get("/auth/me", headers=bearer(token))
        assert r.status_code == 401, name
        assert r.json()["error"] == code, name
        assert "Bearer" in r.headers["www-authenticate"], name
    assert (await client.get("/auth/me")).json()["error"] == "AUTH_TOKEN_MISSING"
    assert (await client.get("/auth/me", headers=bearer(good))).status_code == 200


async def test_roles_and_api_keys(client: AsyncClient, pg_app: FastAPI) -> None:
    user = await register(client, "member@example.com")
    r = await client.get("/auth/users", headers=bearer(user["access_token"]))
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_ROLE"

    await make_user(pg_app, "chief@example.com", roles=["admin"])
    admin = bearer((await login(client, "chief@example.com"))["access_token"])
    r = await client.get("/auth/users", headers=admin)
    assert r.status_code == 200 and {u["email"] for u in r.json()["users"]} == {
        "member@example.com",
        "chief@example.com",
    }

    auth = bearer(user["access_token"])
    created = (
        await client.post(
            "/auth/api-keys", json={"name": "bot", "scopes": ["kitchen:recommend"]}, headers=auth
        )
    ).json()
    key = created["key"]
    assert (
        await client.get("/probe/recommend", headers={"Authorization": f"Bearer {key}"})
    ).status_code == 200
    assert (await client.get("/probe/recommend", headers={"X-API-Key": key})).status_code == 200
    r = await client.get("/probe/analytics-write", headers={"X-API-Key": key})
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_PERMISSIONS"
    async with pg_app.state.db.session() as s:
        stored = (await s.scalars(select(ApiKey))).one()
        assert stored.key_hash != key and stored.prefix == key[:22] and stored.last_used_at is not None
        raw = (await s.execute(text("SELECT key_hash FROM api_keys"))).scalar()
        assert key not in str(raw)
    assert (await client.delete(f"/auth/api-keys/{created['id']}", headers=auth)).status_code == 204
    assert (await client.get("/probe/recommend", headers={"X-API-Key": key})).status_code == 401


@pytest.mark.parametrize(
    "email",
    [
        "' OR 1=1 --@example.com",
        "admin'--@example.com",
        "x@example.com'; DROP TABLE users; --",
        '"; SELECT pg_sleep(5); --@example.com',
        "a@b.c\x00",
        "é" * 300 + "@example.com",
    ],
)
async def test_injection_strings_never_500(client: AsyncClient, pg_app: FastAPI, email: str) -> None:
    r = await client.post(
        "/auth/register",
        json={"email": email, "password": "' OR '1'='1' -- Aa1"},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code in {201, 422}, r.text  # a legal address (admin'--@…) is simply an address
    created = r.status_code == 201
    r = await client.post(
        "/auth/login",
        json={"email": email, "password": "' OR '1'='1"},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code in {401, 422}, r.text
    r = await client.get("/auth/api-keys/'; DROP TABLE api_keys;--", headers={"X-Forwarded-For": fresh_ip()})
    assert 400 <= r.status_code < 500
    async with pg_app.state.db.session() as s:
        emails = (await s.scalars(select(User.email))).all()
        assert (
            await s.execute(text("SELECT count(*) FROM api_keys"))
        ).scalar() == 0  # the table is still there
    assert emails == ([email.strip().lower()] if created else [])


async def test_oversized_inputs_are_4xx(client: AsyncClient) -> None:
    huge = "A" * 70_000
    for path, body in (
        ("/auth/register", {"email": "big@example.com", "password": huge}),
        ("/auth/login", {"email": "big@example.com", "password": huge}),
        ("/auth/refresh", {"refresh_token": huge}),
    ):
        r = await client.post(path, json=body, headers={"X-Forwarded-For": fresh_ip()})
        assert r.status_code == 413, path
    for path, body, field in (
        ("/auth/register", {"email": "big@example.com", "password": "Aa1" + "x" * 2000}, "password"),
        ("/auth/login", {"email": "big@example.com", "password": "x" * 2000}, "password"),
        ("/auth/refresh", {"refresh_token": "x" * 2000}, "refresh_token"),
        ("/auth/register", {"email": "b" * 5000 + "@example.com", "password": "Good-Pass-123"}, "email"),
    ):
        r = await client.post(path, json=body, headers={"X-Forwarded-For": fresh_ip()})
        assert r.status_code == 422 and r.json()["details"][0]["field"] == field, (path, r.text)
    r = await client.get("/auth/me", headers={"Authorization": "Bearer " + "a" * 6000})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "token too long"
