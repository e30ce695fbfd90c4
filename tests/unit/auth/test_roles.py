"""Roles and scopes exactly as design/api.md lists them; ``x:*`` wildcard semantics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.auth.principal import ANONYMOUS, Principal
from shared.auth.roles import (
    ROLE_SCOPES,
    default_tier,
    is_valid_scope,
    roles_covered_by,
    scope_allows,
    scopes_allow,
    scopes_for_roles,
)


def test_role_scopes_are_the_contract() -> None:
    assert set(ROLE_SCOPES["admin"]) == {"alchemical:*", "kitchen:*", "analytics:*", "user:*", "system:*"}
    assert set(ROLE_SCOPES["user"]) == {
        "alchemical:calculate",
        "alchemical:planetary",
        "kitchen:recommend",
        "kitchen:recipes:read",
        "user:profile:read",
        "user:profile:update",
    }
    assert set(ROLE_SCOPES["guest"]) == {
        "alchemical:calculate:basic",
        "kitchen:recipes:read:public",
        "kitchen:recommend:limited",
    }
    assert set(ROLE_SCOPES["service"]) == {"alchemical:calculate", "kitchen:recommend", "analytics:write"}


@pytest.mark.parametrize(
    ("granted", "required", "ok"),
    [
        ("alchemical:*", "alchemical:calculate", True),
        ("alchemical:*", "alchemical:calculate:basic", True),
        ("alchemical:*", "alchemical", False),
        ("alchemical:*", "alchemicalx:calculate", False),
        ("alchemical:*", "kitchen:recommend", False),
        ("kitchen:recommend", "kitchen:recommend", True),
        ("kitchen:recommend", "kitchen:recommend:limited", False),
        ("kitchen:recipes:*", "kitchen:recipes:read", True),
    ],
)
def test_scope_allows(granted: str, required: str, ok: bool) -> None:
    assert scope_allows(granted, required) is ok


@given(
    prefix=st.from_regex(r"[a-z]{1,8}", fullmatch=True), rest=st.from_regex(r"[a-z:]{1,20}", fullmatch=True)
)
def test_wildcard_matches_everything_under_its_prefix(prefix: str, rest: str) -> None:
    assert scope_allows(f"{prefix}:*", f"{prefix}:{rest}")
    assert not scope_allows(f"{prefix}:*", f"{prefix}x:{rest}")
    assert not scope_allows(f"{prefix}:*", prefix)


def test_scopes_allow_requires_all() -> None:
    user = frozenset(ROLE_SCOPES["user"])
    assert scopes_allow(user, ["kitchen:recommend", "alchemical:calculate"])
    assert not scopes_allow(user, ["kitchen:recommend", "analytics:write"])
    assert scopes_allow(frozenset(ROLE_SCOPES["admin"]), ["analytics:read", "system:admin", "user:delete"])
    assert scopes_allow(frozenset(), [])


def test_scopes_for_roles_union_sorted_with_extra() -> None:
    scopes = scopes_for_roles(["user", "service"], extra=["analytics:read"])
    assert scopes == sorted(set(ROLE_SCOPES["user"]) | set(ROLE_SCOPES["service"]) | {"analytics:read"})
    assert scopes_for_roles(["nonsense"]) == []


def test_valid_scopes() -> None:
    for ok in ("kitchen:recommend", "alchemical:*", "a_b-c:d", "x"):
        assert is_valid_scope(ok), ok
    for bad in ("", "Kitchen:read", "a::b", ":a", "a:", "a*:b", "a:b*", "a b", "x" * 101, "a:*:b"):
        assert not is_valid_scope(bad), bad


def test_default_tier_and_covered_roles() -> None:
    assert default_tier(["user"]) == "authenticated"
    assert default_tier(["admin"]) == "admin"
    assert default_tier(["service", "user"]) == "service"
    assert roles_covered_by(["admin"], ROLE_SCOPES["admin"]) == ["admin"]
    assert roles_covered_by(["admin"], ["analytics:write"]) == []
    assert roles_covered_by(["admin", "user"], ROLE_SCOPES["user"]) == ["user"]


def test_principal_helpers() -> None:
    p = Principal(
        kind="user", roles=frozenset({"user"}), scopes=frozenset(ROLE_SCOPES["user"]), tier="authenticated"
    )
    assert p.is_authenticated and p.has_any_role("admin", "user") and not p.has_any_role("admin")
    assert p.has_scopes("kitchen:recommend") and not p.has_scopes("analytics:write")
    assert not ANONYMOUS.is_authenticated and ANONYMOUS.rate_key is None and ANONYMOUS.tier == "anonymous"
