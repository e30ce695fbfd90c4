"""Identity: passwords (Argon2id), access JWTs, rotating refresh tokens, API keys, roles and scopes,
FastAPI dependencies. The ``/auth`` router lives in :mod:`shared.auth.router` (``auth_router``)."""

from shared.auth.authenticator import Authenticator, get_authenticator
from shared.auth.deps import (
    CurrentUser,
    OptionalUser,
    authenticate_request,
    current_user,
    optional_user,
    require_roles,
    require_scopes,
)
from shared.auth.errors import (
    AuthError,
    InsufficientPermissions,
    InsufficientRole,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
)
from shared.auth.principal import ANONYMOUS, Principal
from shared.auth.roles import ROLE_SCOPES, Role, Tier, scopes_allow, scopes_for_roles
from shared.auth.settings import AuthSettings, get_auth_settings

__all__ = [
    "ANONYMOUS",
    "ROLE_SCOPES",
    "AuthError",
    "AuthSettings",
    "Authenticator",
    "CurrentUser",
    "InsufficientPermissions",
    "InsufficientRole",
    "OptionalUser",
    "Principal",
    "Role",
    "Tier",
    "authenticate_request",
    "TokenExpired",
    "TokenInvalid",
    "TokenMissing",
    "current_user",
    "get_auth_settings",
    "get_authenticator",
    "optional_user",
    "require_roles",
    "require_scopes",
    "scopes_allow",
    "scopes_for_roles",
]
