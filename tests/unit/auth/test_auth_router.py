"""The /auth endpoints and the auth dependencies, in-process (SQLite in memory, local rate limits)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from shared.db.base import utcnow
from shared.db.models import ApiKey, RefreshToken, User
from tests.unit.auth.apps import PASSWORD, bearer, fresh_ip, login, make_user, register


async def test_register_returns_tokens_in_both_spellings(client: AsyncClient) -> None:
    r = await client.post(
        "/auth/register",
        json={"email": "  New.User@Example.COM ", "password": PASSWORD, "displayName": "New User"},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["access_token"] == body["accessToken"] and body["refresh_token"] == body["refreshToken"]
    assert body["token_type"] == "bearer" and body["expires_in"] == body["expiresIn"] == 3600
    assert body["refresh_expires_in"] == 7 * 86400
    user = body["user"]
    assert user["email"] == "new.user@example.com" and user["display_name"] == "New User"
    assert (
        user["roles"] == ["user"]
        and user["tier"] == "authenticated"
        and "kitchen:recommend" in user["scopes"]
    )
    assert "password" not in r.text and "argon2" not in r.text


async def test_register_duplicate_email_is_409(client: AsyncClient) -> None:
    await register(client, "dup@example.com")
    r = await client.post(
        "/auth/register",
        json={"email": "DUP@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code == 409 and r.json()["error"] == "CONFLICT"
    assert r.json()["details"][0]["field"] == "email"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "weak@example.com", "password": "short"}, "password"),
        ({"email": "weak@example.com", "password": "alllowercaseletters"}, "password"),
        ({"email": "weak@example.com", "password": "weak@example.com"}, "password"),
        ({"email": "weak@example.com", "password": "Aa1" * 50}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "' OR 1=1 --@example.com", "password": PASSWORD}, "email"),
        ({"email": "a@example.com' ; DROP TABLE users; --", "password": PASSWORD}, "email"),
        ({"password": PASSWORD}, "email"),
        ({"email": "x@example.com", "password": PASSWORD, "display_name": "n" * 101}, "display_name"),
        ({"email": "x" * 300 + "@example.com", "password": PASSWORD}, "email"),
    ],
)
async def test_register_bad_input_is_422_naming_the_field(
    client: AsyncClient, payload: dict, field: str
) -> None:
    r = await client.post("/auth/register", json=payload, headers={"X-Forwarded-For": fresh_ip()})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "VALIDATION_ERROR"
    assert r.json()["details"][0]["field"] == field


async def test_login_json_and_oauth2_form(client: AsyncClient) -> None:
    await register(client, "login@example.com")
    body = await login(client, "Login@Example.com")
    assert body["accessToken"] and body["user"]["email"] == "login@example.com"
    assert body["user"]["last_login_at"] is not None
    r = await client.post(
        "/auth/login",
        data={"username": "login@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    r = await client.get("/auth/me", headers=bearer(r.json()["access_token"]))
    assert r.status_code == 200 and r.json()["user"]["email"] == "login@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("login2@example.com", "Wrong-Password-1"),
        ("nobody@example.com", PASSWORD),
        ("login2@example.com", "' OR '1'='1"),
        ("admin'--@example.com", "' OR '1'='1"),
        ("a@example.com');DROP/**/TABLE/**/users;--", PASSWORD),
    ],
)
async def test_login_failures_are_401(client: AsyncClient, email: str, password: str) -> None:
    await register(client, "login2@example.com")
    r = await client.post(
        "/auth/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": fresh_ip()}
    )
    assert r.status_code == 401 and r.json()["error"] == "AUTH_INVALID_CREDENTIALS"
    assert "www-authenticate" in r.headers


@pytest.mark.parametrize(
    ("content", "ctype", "status", "field"),
    [
        (b"{not json", "application/json", 400, "body"),
        (b"", "application/json", 422, "body"),
        (b"[1, 2]", "application/json", 422, "body"),
        (b'{"email": "a@example.com"}', "application/json", 422, "password"),
        (
            b'{"email": "a@example.com", "password": "' + b"p" * 500 + b'"}',
            "application/json",
            422,
            "password",
        ),
        (b'{"email": "no-at-sign", "password": "x"}', "application/json", 422, "email"),
        (b"username=a%40example.com", "application/x-www-form-urlencoded", 422, "password"),
        (b'{"email": 5, "password": ["x"]}', "application/json", 422, "email"),
        (b'{"email": "\' OR \'1\'=\'1\'@x.io", "password": "x"}', "application/json", 422, "email"),
    ],
)
async def test_login_bad_input(
    client: AsyncClient, content: bytes, ctype: str, status: int, field: str
) -> None:
    r = await client.post(
        "/auth/login", content=content, headers={"content-type": ctype, "X-Forwarded-For": fresh_ip()}
    )
    assert r.status_code == status, r.text
    assert r.json()["details"][0]["field"] == field


async def test_oversized_body_is_413(client: AsyncClient) -> None:
    r = await client.post(
        "/auth/register",
        json={"email": "big@example.com", "password": PASSWORD, "display_name": "x" * 100_000},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code == 413 and r.json()["error"] == "PAYLOAD_TOO_LARGE"


async def test_refresh_rotates_and_reuse_revokes_the_family(app: FastAPI, client: AsyncClient) -> None:
    first = await register(client, "rotate@example.com")
    r = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert (
        second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    )
    r = await client.post("/auth/refresh", json={"refreshToken": second["refresh_token"]})
    assert r.status_code == 200
    third = r.json()

    # Replaying a spent token: 401 and the whole family (including the newest token) is revoked.
    r = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401
    assert r.json()["error"] == "AUTH_TOKEN_INVALID"
    assert r.json()["details"][0]["reason"] == "refresh token reuse detected"
    r = await client.post("/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert r.status_code == 401 and "revoked" in r.json()["details"][0]["reason"]

    async with app.state.db.session() as s:
        rows = (await s.scalars(select(RefreshToken))).all()
    assert len(rows) == 3 and len({t.family_id for t in rows}) == 1
    assert all(t.revoked_at is not None for t in rows)
    assert {t.revoked_reason for t in rows} == {"reuse_detected"}
    parents = {t.parent_id for t in rows}
    assert None in parents and len(parents) == 3  # a chain: root, child, grandchild


async def test_other_logins_survive_a_family_revocation(client: AsyncClient) -> None:
    a = await register(client, "two@example.com")
    b = await login(client, "two@example.com")
    await client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})
    r = await client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})  # replay
    assert r.status_code == 401
    r = await client.post("/auth/refresh", json={"refresh_token": b["refresh_token"]})
    assert r.status_code == 200


async def test_refresh_bad_tokens(app: FastAPI, client: AsyncClient) -> None:
    r = await client.post("/auth/refresh", json={"refresh_token": "x" * 43})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "unknown refresh token"
    r = await client.post("/auth/refresh", json={"refresh_token": "short"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "refresh_token"
    tokens = await register(client, "expire@example.com")
    async with app.state.db.session() as s:
        await s.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    r = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_EXPIRED"


async def test_logout_revokes_the_family(client: AsyncClient) -> None:
    tokens = await register(client, "bye@example.com")
    rotated = (await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    r = await client.post("/auth/logout", json={"refresh_token": rotated["refresh_token"]})
    assert r.status_code == 204
    r = await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "revoked (logout)"
    # Logging out twice, or with an unknown token, is fine.
    assert (
        await client.post("/auth/logout", json={"refresh_token": rotated["refresh_token"]})
    ).status_code == 204
    assert (await client.post("/auth/logout", json={"refresh_token": "y" * 43})).status_code == 204
    r = await client.post("/auth/logout", json={})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "refresh_token"


async def test_logout_all_sessions(client: AsyncClient) -> None:
    a = await register(client, "all@example.com")
    b = await login(client, "all@example.com")
    r = await client.post("/auth/logout", json={"all": True}, headers=bearer(b["access_token"]))
    assert r.status_code == 204
    for t in (a, b):
        assert (
            await client.post("/auth/refresh", json={"refresh_token": t["refresh_token"]})
        ).status_code == 401
    r = await client.post("/auth/logout", json={"all": True})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "all"


async def test_disabled_account(app: FastAPI, client: AsyncClient) -> None:
    tokens = await register(client, "off@example.com")
    async with app.state.db.session() as s:
        await s.execute(update(User).values(is_active=False))
        await s.commit()
    r = await client.post(
        "/auth/login",
        json={"email": "off@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": fresh_ip()},
    )
    assert r.status_code == 403 and r.json()["error"] == "AUTH_ACCOUNT_DISABLED"
    r = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401


async def test_auth_dependencies(app: FastAPI, client: AsyncClient) -> None:
    r = await client.get("/probe/me")
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_MISSING"
    r = await client.get("/probe/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_MISSING"
    r = await client.get("/probe/me", headers=bearer("garbage"))
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_INVALID"
    assert (await client.get("/probe/optional")).json()["kind"] == "anonymous"
    assert (await client.get("/probe/optional", headers=bearer("garbage"))).status_code == 401

    user = await register(client, "plain@example.com")
    auth = bearer(user["access_token"])
    me = (await client.get("/probe/me", headers=auth)).json()
    assert me["kind"] == "user" and me["roles"] == ["user"] and me["tier"] == "authenticated"

    r = await client.get("/probe/admin", headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_ROLE"
    assert r.json()["details"][0] == {"required": ["admin"], "current": ["user"]}
    r = await client.get("/auth/users", headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_ROLE"
    assert (await client.get("/probe/recommend", headers=auth)).status_code == 200
    r = await client.get("/probe/analytics-write", headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_PERMISSIONS"
    assert r.json()["details"][0]["missing"] == ["analytics:write"]

    await make_user(app, "root@example.com", roles=["admin"])
    admin = bearer((await login(client, "root@example.com"))["access_token"])
    assert (await client.get("/probe/admin", headers=admin)).status_code == 200
    assert (await client.get("/probe/service-or-admin", headers=admin)).status_code == 200
    assert (await client.get("/probe/analytics-write", headers=admin)).status_code == 200  # analytics:*
    r = await client.get("/auth/users?limit=1", headers=admin)
    assert r.status_code == 200 and r.json()["total"] == 2 and len(r.json()["users"]) == 1
    assert (await client.get("/auth/users?limit=1000", headers=admin)).status_code == 422

    await make_user(app, "svc@example.com", roles=["service"])
    svc = bearer((await login(client, "svc@example.com"))["access_token"])
    assert (await client.get("/probe/service-or-admin", headers=svc)).status_code == 200
    assert (await client.get("/probe/analytics-write", headers=svc)).status_code == 200
    assert (await client.get("/probe/me", headers=svc)).json()["tier"] == "service"


async def test_api_keys(app: FastAPI, client: AsyncClient) -> None:
    owner = await register(client, "keys@example.com")
    auth = bearer(owner["access_token"])
    r = await client.post(
        "/auth/api-keys", json={"name": "ci", "scopes": ["kitchen:recommend"]}, headers=auth
    )
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("sk_alchm_live_") and len(key) == 14 + 43 and created["prefix"] == key[:22]

    # Only the hash is stored.
    async with app.state.db.session() as s:
        row = (await s.scalars(select(ApiKey))).one()
    assert row.key_hash != key and key not in row.key_hash and row.last_used_at is None

    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        r = await client.get("/probe/me", headers=headers)
        assert (
            r.status_code == 200
            and r.json()["kind"] == "api_key"
            and r.json()["scopes"] == ["kitchen:recommend"]
        )
        assert (await client.get("/probe/recommend", headers=headers)).status_code == 200
        r = await client.get("/probe/analytics-write", headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_PERMISSIONS"
    async with app.state.db.session() as s:
        assert (await s.scalars(select(ApiKey))).one().last_used_at is not None

    listed = (await client.get("/auth/api-keys", headers=auth)).json()
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]

    # Keys cannot mint keys; owners cannot grant scopes they lack or pick tiers.
    r = await client.post("/auth/api-keys", json={"name": "x"}, headers={"X-API-Key": key})
    assert r.status_code == 403
    r = await client.post("/auth/api-keys", json={"name": "x", "scopes": ["analytics:write"]}, headers=auth)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "scopes"
    r = await client.post("/auth/api-keys", json={"name": "x", "scopes": ["kitchen:*"]}, headers=auth)
    assert r.status_code == 422
    r = await client.post("/auth/api-keys", json={"name": "x", "tier": "service"}, headers=auth)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "tier"
    r = await client.post("/auth/api-keys", json={"name": "x", "scopes": ["Bad Scope"]}, headers=auth)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "scopes"

    # Revocation takes effect at once on this instance.
    assert (await client.delete(f"/auth/api-keys/{created['id']}", headers=auth)).status_code == 204
    r = await client.get("/probe/me", headers={"X-API-Key": key})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "API key revoked"
    assert (await client.delete(f"/auth/api-keys/{uuid.uuid4()}", headers=auth)).status_code == 404
    assert (await client.delete("/auth/api-keys/not-a-uuid", headers=auth)).status_code == 422


async def test_api_key_errors(app: FastAPI, client: AsyncClient) -> None:
    r = await client.get("/probe/me", headers={"X-API-Key": "sk_alchm_live_" + "A" * 43})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "unknown API key"
    r = await client.get("/probe/me", headers={"X-API-Key": "sk_alchm_live_short"})
    assert r.status_code == 401 and r.json()["details"][0]["reason"] == "malformed API key"
    owner = await register(client, "exp@example.com")
    r = await client.post(
        "/auth/api-keys", json={"name": "tmp", "expires_in_days": 1}, headers=bearer(owner["access_token"])
    )
    key = r.json()["key"]
    # A key created without scopes gets all of the owner's, and the owner's role with them.
    me = (await client.get("/probe/me", headers={"X-API-Key": key})).json()
    assert me["roles"] == ["user"] and "kitchen:recommend" in me["scopes"]
    async with app.state.db.session() as s:
        await s.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    app.state.auth.forget_key(key_id=uuid.UUID(r.json()["id"]))
    r = await client.get("/probe/me", headers={"X-API-Key": key})
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_EXPIRED"


async def test_admin_key_scoped_down_loses_admin_role(app: FastAPI, client: AsyncClient) -> None:
    await make_user(app, "boss@example.com", roles=["admin"])
    admin = bearer((await login(client, "boss@example.com"))["access_token"])
    narrow = (
        await client.post("/auth/api-keys", json={"name": "n", "scopes": ["analytics:write"]}, headers=admin)
    ).json()
    full = (await client.post("/auth/api-keys", json={"name": "f", "tier": "service"}, headers=admin)).json()
    assert full["tier"] == "service"
    assert (await client.get("/probe/admin", headers={"X-API-Key": narrow["key"]})).status_code == 403
    assert (
        await client.get("/probe/analytics-write", headers={"X-API-Key": narrow["key"]})
    ).status_code == 200
    assert (await client.get("/probe/admin", headers={"X-API-Key": full["key"]})).status_code == 200


async def test_password_upgrade_on_login(app: FastAPI, client: AsyncClient) -> None:
    await register(client, "upgrade@example.com")
    async with app.state.db.session() as s:
        before = (await s.scalars(select(User))).one().password_hash
    app.state.auth.passwords = type(app.state.auth.passwords)(
        app.state.auth.cfg.model_copy(update={"argon2_time_cost": 2})
    )
    await login(client, "upgrade@example.com")
    async with app.state.db.session() as s:
        after = (await s.scalars(select(User))).one().password_hash
    assert "t=1" in before and "t=2" in after


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/auth/login", {"email": "a@b.c\x00", "password": "x"}, "email"),
        ("/auth/register", {"email": "a@b.c\x00", "password": PASSWORD}, "email"),
        (
            "/auth/register",
            {"email": "nul@example.com", "password": PASSWORD, "display_name": "a\x00b"},
            "display_name",
        ),
    ],
)
async def test_control_characters_are_refused(
    client: AsyncClient, path: str, payload: dict, field: str
) -> None:
    r = await client.post(path, json=payload, headers={"X-Forwarded-For": fresh_ip()})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == field, r.text
    user = await register(client)
    r = await client.post(
        "/auth/api-keys", json={"name": "bad\x00name"}, headers=bearer(user["access_token"])
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "name"


async def test_authenticate_request_is_the_dependency_free_form(app: FastAPI, client: AsyncClient) -> None:
    r = await client.get("/probe/direct")
    assert r.status_code == 401 and r.json()["error"] == "AUTH_TOKEN_MISSING"
    auth = bearer((await register(client))["access_token"])
    assert (await client.get("/probe/direct", headers=auth)).json()["kind"] == "user"
    r = await client.get("/probe/direct?role=admin", headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_ROLE"
    r = await client.get("/probe/direct?scope=analytics:write", headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "AUTH_INSUFFICIENT_PERMISSIONS"
    assert (await client.get("/probe/direct?scope=kitchen:recommend", headers=auth)).status_code == 200
