"""Password hashing (pwdlib, Argon2id) off the event loop, the dummy verify, and the password policy.

Hashing and verifying run in worker threads (``asyncio.to_thread``) behind a semaphore of
``AuthSettings.hash_concurrency``, so a burst of logins can neither block the event loop nor allocate
unbounded Argon2 memory. A login for an unknown email still verifies against a dummy hash of the same
cost, so response time does not reveal whether an account exists.
"""

from __future__ import annotations

import asyncio
import secrets
import string

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from shared.auth.settings import AuthSettings
from shared.errors import InvalidInput

_LOWER = frozenset(string.ascii_lowercase)
_UPPER = frozenset(string.ascii_uppercase)
_DIGITS = frozenset(string.digits)


def password_policy_violation(password: str, *, email: str | None = None, cfg: AuthSettings) -> str | None:
    """Why ``password`` is refused, or ``None`` when it is acceptable."""
    if len(password) < cfg.password_min_length:
        return f"must be at least {cfg.password_min_length} characters"
    if len(password) > cfg.password_max_length:
        return f"must be at most {cfg.password_max_length} characters"
    classes = 0
    chars = set(password)
    for cls in (_LOWER, _UPPER, _DIGITS):
        if chars & cls:
            classes += 1
    if chars - _LOWER - _UPPER - _DIGITS:
        classes += 1
    if classes < 2:
        return "must mix at least two kinds of characters (lowercase, uppercase, digits, symbols)"
    if email:
        folded = password.strip().casefold()
        address = email.strip().casefold()
        if folded in {address, address.split("@", 1)[0]}:
            return "must not be the email address"
    return None


def check_password_policy(password: str, *, email: str | None = None, cfg: AuthSettings) -> None:
    """Raise 422 naming ``password`` when the policy refuses it."""
    reason = password_policy_violation(password, email=email, cfg=cfg)
    if reason is not None:
        raise InvalidInput("password", reason)


class PasswordService:
    """Argon2id hashing with the configured cost; one instance per app (it owns a semaphore)."""

    def __init__(self, cfg: AuthSettings) -> None:
        self.cfg = cfg
        self.hasher = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=cfg.argon2_time_cost,
                    memory_cost=cfg.argon2_memory_kib,
                    parallelism=cfg.argon2_parallelism,
                ),
            )
        )
        self._semaphore: asyncio.Semaphore | None = None
        self._dummy_hash: str | None = None

    @property
    def parameters(self) -> dict[str, int | str]:
        return {
            "algorithm": "argon2id",
            "time_cost": self.cfg.argon2_time_cost,
            "memory_kib": self.cfg.argon2_memory_kib,
            "parallelism": self.cfg.argon2_parallelism,
            "hash_len": 32,
            "salt_len": 16,
        }

    def _sem(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.cfg.hash_concurrency)
        return self._semaphore

    def hash_sync(self, password: str) -> str:
        return self.hasher.hash(password)

    async def hash(self, password: str) -> str:
        async with self._sem():
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """``(valid, new_hash)``: ``new_hash`` is set when the stored hash used other parameters."""
        async with self._sem():
            return await asyncio.to_thread(self._verify_and_update, password, password_hash)

    def _verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        try:
            return self.hasher.verify_and_update(password, password_hash)
        except Exception:  # an unreadable stored hash never authenticates
            return False, None

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one real verification (for unknown accounts)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(24))
        await self.verify(password, self._dummy_hash)
