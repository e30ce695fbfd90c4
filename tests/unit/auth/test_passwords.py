"""Argon2id hashing off the event loop, the dummy verify, the password policy."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.auth.passwords import PasswordService, check_password_policy, password_policy_violation
from shared.auth.settings import AuthSettings
from shared.errors import InvalidInput
from tests.unit.auth.apps import FAST_AUTH


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Short1!", "at least 10"),
        ("a" * 129, "at most 128"),
        ("abcdefghijkl", "mix at least two"),
        ("ABCDEFGHIJKL", "mix at least two"),
        ("123456789012", "mix at least two"),
        ("!@#$%^&*()_+", "mix at least two"),
        ("someone@example.com", "email"),
        ("Someone@Example.com", "email"),
    ],
)
def test_policy_refuses(password: str, reason: str) -> None:
    found = password_policy_violation(password, email="someone@example.com", cfg=FAST_AUTH)
    assert found is not None and reason in found
    with pytest.raises(InvalidInput) as info:
        check_password_policy(password, email="someone@example.com", cfg=FAST_AUTH)
    assert info.value.field == "password" and info.value.status_code == 422


@pytest.mark.parametrize(
    "password", ["correct horse battery", "Correct-Horse-9", "ab12ab12ab", "ÄÖÜäöüßéèê1", "x" * 127 + "1"]
)
def test_policy_accepts(password: str) -> None:
    assert password_policy_violation(password, email="someone@example.com", cfg=FAST_AUTH) is None


def test_default_parameters_are_owasp_argon2id() -> None:
    service = PasswordService(AuthSettings())
    assert service.parameters == {
        "algorithm": "argon2id",
        "time_cost": 2,
        "memory_kib": 19456,
        "parallelism": 1,
        "hash_len": 32,
        "salt_len": 16,
    }
    assert service.hash_sync("Correct-Horse-9").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_hash_and_verify() -> None:
    service = PasswordService(FAST_AUTH)
    h = await service.hash("Correct-Horse-9")
    assert h.startswith("$argon2id$") and "Correct" not in h
    assert await service.verify("Correct-Horse-9", h) == (True, None)
    assert (await service.verify("correct-horse-9", h))[0] is False
    assert await service.verify("x", "not a hash") == (False, None)
    assert await service.hash("Correct-Horse-9") != h  # salted


async def test_rehash_when_parameters_change() -> None:
    old = PasswordService(FAST_AUTH)
    h = await old.hash("Correct-Horse-9")
    new = PasswordService(FAST_AUTH.model_copy(update={"argon2_time_cost": 2}))
    valid, updated = await new.verify("Correct-Horse-9", h)
    assert valid and updated is not None and "t=2" in updated


async def test_hashing_does_not_block_the_event_loop() -> None:
    service = PasswordService(AuthSettings(argon2_time_cost=2, argon2_memory_kib=19456, hash_concurrency=1))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(service.hash("Correct-Horse-9") for _ in range(3)))
    elapsed = time.perf_counter() - started
    task.cancel()
    # The loop kept ticking while three hashes ran (serialised by hash_concurrency=1).
    assert ticks >= max(3, int(elapsed / 0.002 * 0.3)), (ticks, elapsed)


async def test_dummy_verify_costs_like_a_real_one() -> None:
    service = PasswordService(AuthSettings(argon2_time_cost=1, argon2_memory_kib=8192))
    real = await service.hash("Correct-Horse-9")
    await service.verify_dummy("warm-up")  # builds the dummy hash once

    async def timed(coro: object) -> float:
        t0 = time.perf_counter()
        await coro  # type: ignore[misc]
        return time.perf_counter() - t0

    dummy = sorted([await timed(service.verify_dummy("Wrong-Password-1")) for _ in range(5)])[2]
    genuine = sorted([await timed(service.verify("Wrong-Password-1", real)) for _ in range(5)])[2]
    assert 0.4 < dummy / genuine < 2.5, (dummy, genuine)
