"""The ``/auth`` router (mounted by alchemical-core; public path ``/api/auth/`` behind NGINX).

    POST   /auth/register        {email, password, display_name?}          201 tokens + user; 409 taken email
    POST   /auth/login           JSON {email, password} or OAuth2 form     200 tokens + user
                                 (username, password)
    POST   /auth/refresh         {refresh_token}                           200 new pair (the old one is spent)
    POST   /auth/logout          {refresh_token?, all?}                    204
    GET    /auth/me                                                        the caller
    POST   /auth/api-keys        {name, scopes?, tier?, expires_in_days?}  201 the key (shown once)
    GET    /auth/api-keys                                                  the caller's keys
    DELETE /auth/api-keys/{id}                                             204
    GET    /auth/users           ?limit&offset (admin)                     users

Rate limits: register 3/hour per client IP, login 5/15 min per client IP + email (``shared.ratelimit``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from shared.app import api_router
from shared.auth.authenticator import get_authenticator
from shared.auth.deps import CurrentUser, require_roles
from shared.auth.principal import Principal
from shared.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    LoginRequest,
    LogoutRequest,
    MeResponse,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    UsersPage,
)
from shared.auth.service import AuthService, ClientInfo, TokenPair, api_key_out, user_out
from shared.db.models import User
from shared.db.session import DbSession
from shared.errors import AppError
from shared.ratelimit import enforce, rate_limit, request_ip

auth_router = api_router(prefix="/auth", tags=["auth"])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def get_auth_service(request: Request, session: DbSession) -> AuthService:
    return AuthService(
        session, get_authenticator(request.app), service=getattr(request.app.state, "service", "alchm")
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


def _client(request: Request) -> ClientInfo:
    return ClientInfo(ip=request_ip(request), user_agent=request.headers.get("user-agent"))


def _tokens(user: User, pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access.token,
        accessToken=pair.access.token,
        refresh_token=pair.refresh_token,
        refreshToken=pair.refresh_token,
        token_type="bearer",
        expires_in=pair.access.expires_in,
        expiresIn=pair.access.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
        user=user_out(user),
    )


def _validation_error(exc: ValidationError) -> RequestValidationError:
    errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
    return RequestValidationError(errors)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", 0),
                    "msg": "JSON decode error",
                    "ctx": {"error": str(exc)},
                }
            ]
        ) from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            [{"type": "model_type", "loc": ("body",), "msg": "Input should be a JSON object", "input": None}]
        )
    return data


async def _login_credentials(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    data: dict[str, Any]
    if content_type in _FORM_TYPES:
        form = await request.form(max_files=0, max_fields=20)
        data = {k: v for k, v in form.items() if isinstance(v, str)}
    else:
        data = await _json_object(request)
    try:
        return LoginRequest.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from None


_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema(by_alias=False)},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                }
            },
        },
    }
}


@auth_router.post(
    "/register",
    status_code=201,
    summary="Create an account (3 per hour per client IP)",
    dependencies=[Depends(rate_limit("register"))],
)
async def register(body: RegisterRequest, request: Request, service: AuthServiceDep) -> TokenResponse:
    if not service.auth.cfg.allow_registration:
        raise AppError("registration is closed", code="REGISTRATION_DISABLED", status_code=403)
    user, pair = await service.register(
        email=str(body.email), password=body.password, display_name=body.display_name, client=_client(request)
    )
    return _tokens(user, pair)


@auth_router.post(
    "/login",
    summary="Exchange email and password for tokens (5 per 15 min per client IP + email)",
    openapi_extra=_LOGIN_BODY,
)
async def login(request: Request, service: AuthServiceDep) -> TokenResponse:
    credentials = await _login_credentials(request)
    client = _client(request)
    await enforce(request, "login", f"{client.ip}|{credentials.email}")
    user, pair = await service.login(email=credentials.email, password=credentials.password, client=client)
    return _tokens(user, pair)


@auth_router.post("/refresh", summary="Rotate a refresh token: a new pair; the old token is spent")
async def refresh(body: RefreshRequest, request: Request, service: AuthServiceDep) -> TokenResponse:
    user, pair = await service.refresh(refresh_token=body.refresh_token, client=_client(request))
    return _tokens(user, pair)


@auth_router.post(
    "/logout", status_code=204, summary="Revoke the refresh token's family (all=true: every session)"
)
async def logout(request: Request, service: AuthServiceDep) -> Response:
    raw = await request.body()
    data = await _json_object(request) if raw.strip() else {}
    try:
        body = LogoutRequest.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    principal = await get_authenticator(request.app).peek(request.scope)
    await service.logout(refresh_token=body.refresh_token, principal=principal, all_sessions=body.all)
    return Response(status_code=204)


@auth_router.get("/me", summary="The caller: user, roles, scopes, tier")
async def me(principal: CurrentUser, service: AuthServiceDep) -> MeResponse:
    user = await service.get_user(principal.user_id)
    return MeResponse(
        kind=principal.kind,
        user=user_out(user),
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
        tier=principal.tier,
        api_key_id=principal.api_key_id,
    )


@auth_router.post("/api-keys", status_code=201, summary="Create an API key (the key is shown once)")
async def create_api_key(
    body: ApiKeyCreate, principal: CurrentUser, service: AuthServiceDep
) -> ApiKeyCreated:
    key, plaintext = await service.create_api_key(principal, body)
    return ApiKeyCreated(**api_key_out(key).model_dump(), key=plaintext)


@auth_router.get("/api-keys", summary="The caller's API keys (never the keys themselves)")
async def list_api_keys(principal: CurrentUser, service: AuthServiceDep) -> list[ApiKeyOut]:
    return [api_key_out(k) for k in await service.list_api_keys(principal)]


@auth_router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(key_id: uuid.UUID, principal: CurrentUser, service: AuthServiceDep) -> Response:
    await service.revoke_api_key(principal, key_id)
    return Response(status_code=204)


@auth_router.get("/users", summary="List accounts (admin)")
async def list_users(
    _admin: Annotated[Principal, Depends(require_roles("admin"))],
    service: AuthServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UsersPage:
    total, users = await service.list_users(limit=limit, offset=offset)
    return UsersPage(total=total, limit=limit, offset=offset, users=[user_out(u) for u in users])
