"""Access tokens: claims, algorithm allow-list, issuer/audience, expiry, tampering; refresh token hashing."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid

import jwt
import pytest

from shared.auth.errors import TokenExpired, TokenInvalid
from shared.auth.tokens import REQUIRED_CLAIMS, TokenService, hash_token, new_refresh_token
from tests.unit.auth.apps import FAST_AUTH, SECRET, make_settings

USER_ID = uuid.uuid4()


def _service(**overrides: object) -> TokenService:
    return TokenService(make_settings(**overrides), FAST_AUTH)


def _issue(service: TokenService, now: int | None = None) -> str:
    return service.issue_access(
        user_id=USER_ID,
        email="a@example.com",
        roles=["user"],
        scopes=["kitchen:recommend"],
        tier="authenticated",
        now=now,
    ).token


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(USER_ID),
        "email": "a@example.com",
        "roles": ["user"],
        "scopes": ["kitchen:recommend"],
        "iss": "alchm.kitchen",
        "aud": "alchm.kitchen",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_round_trip_and_claims() -> None:
    service = _service()
    issued = service.issue_access(
        user_id=USER_ID, email="a@example.com", roles=["user"], scopes=["kitchen:recommend"], tier="premium"
    )
    claims = jwt.decode(issued.token, SECRET, algorithms=["HS256"], audience="alchm.kitchen")
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert claims["iss"] == "alchm.kitchen" and claims["aud"] == "alchm.kitchen"
    assert claims["exp"] - claims["iat"] == 3600 == issued.expires_in
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"
    principal = service.decode(issued.token)
    assert principal.kind == "user" and principal.user_id == USER_ID and principal.tier == "premium"
    assert principal.roles == {"user"} and principal.scopes == {"kitchen:recommend"}
    assert principal.token_id == claims["jti"]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused() -> None:
    token = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims()) + "."
    with pytest.raises(TokenInvalid) as info:
        _service().decode(token)
    assert info.value.code == "AUTH_TOKEN_INVALID"


def test_other_hmac_algorithm_is_refused() -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512")
    with pytest.raises(TokenInvalid, match="invalid") as info:
        _service().decode(token)
    assert info.value.reason == "algorithm not allowed"


@pytest.mark.parametrize(
    ("token_factory", "reason"),
    [
        (lambda: jwt.encode(_claims(), "another-secret-" + "k" * 40, algorithm="HS256"), "bad signature"),
        (lambda: jwt.encode(_claims(aud="someone.else"), SECRET, algorithm="HS256"), "wrong audience"),
        (lambda: jwt.encode(_claims(iss="evil.example"), SECRET, algorithm="HS256"), "wrong issuer"),
        (lambda: jwt.encode(_claims(jti=None), SECRET, algorithm="HS256"), "missing claim jti"),
        (lambda: jwt.encode(_claims(scopes=None), SECRET, algorithm="HS256"), "missing claim scopes"),
        (lambda: jwt.encode(_claims(sub="not-a-uuid"), SECRET, algorithm="HS256"), "malformed subject"),
        (lambda: jwt.encode(_claims(roles="admin"), SECRET, algorithm="HS256"), "malformed claims"),
        (lambda: "not.a.jwt", "malformed token"),
        (lambda: "x" * 5000, "token too long"),
    ],
)
def test_invalid_tokens(token_factory: object, reason: str) -> None:
    with pytest.raises(TokenInvalid) as info:
        _service().decode(token_factory())  # type: ignore[operator]
    assert info.value.code == "AUTH_TOKEN_INVALID" and info.value.status_code == 401
    assert info.value.reason == reason


def test_tampered_payload_is_refused() -> None:
    token = _issue(_service())
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["admin"]
    claims["scopes"] = ["system:*"]
    forged = f"{header}.{_b64(claims)}.{signature}"
    with pytest.raises(TokenInvalid) as info:
        _service().decode(forged)
    assert info.value.reason == "bad signature"


def test_expired_with_leeway() -> None:
    service = _service()
    now = int(time.time())
    old = _issue(service, now=now - 3600 - 5)  # expired 5 s ago: within the 10 s leeway
    assert service.decode(old).user_id == USER_ID
    older = _issue(service, now=now - 3600 - 30)
    with pytest.raises(TokenExpired) as info:
        service.decode(older)
    assert info.value.code == "AUTH_TOKEN_EXPIRED"


def test_cache_does_not_outlive_expiry() -> None:
    service = _service()
    now = int(time.time())
    token = _issue(service, now=now - 3600 + 1)  # expires in ~1 s (+10 s leeway)
    assert service.decode(token) is service.decode(token)  # second call served from the cache
    cached = service._cache[token]
    service._cache[token] = dataclasses.replace(cached, expires_at=now - 60)
    with pytest.raises(TokenExpired):
        service.decode(token)
    assert token not in service._cache


def test_cache_is_bounded() -> None:
    service = TokenService(make_settings(), FAST_AUTH.model_copy(update={"token_cache_size": 3}))
    tokens = [_issue(service) for _ in range(5)]
    for t in tokens:
        service.decode(t)
    assert len(service._cache) == 3 and tokens[-1] in service._cache


def test_refresh_tokens_are_random_and_hashed() -> None:
    token, digest = new_refresh_token()
    assert len(token) == 43 and digest == hash_token(token) and len(digest) == 64 and token not in digest
    assert new_refresh_token()[0] != token
