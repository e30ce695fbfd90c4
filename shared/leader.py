"""Leader election through a Redis lock: exactly one instance of a service does a singleton job (the
realtime producer) while the others stand by and take over when the leader dies.

The lock is one key holding the holder's random identity, set with ``SET key id NX PX ttl``. The holder
renews it every ``renew_interval`` (default ttl/3) with a compare-and-extend Lua script; it stops acting as
leader as soon as a renewal says the lock is someone else's, or when it could not renew for ``0.8 × ttl``
(Redis unreachable: the lock may already have expired and been taken). Stand-bys retry at the lock's expiry
(``PTTL``) or every ``renew_interval``, whichever is sooner, so a crashed leader is replaced within about one
ttl. A graceful stop deletes the lock (compare-and-delete) so a stand-by takes over within ``renew_interval``.

A leader may be paused longer than the ttl (stop-the-world, a frozen VM): consumers that must never act twice
dedupe their side effects (the realtime producer keys each publication with ``SET NX``).

:class:`LocalLeadership` is the embedded-mode stand-in: the single process is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from typing import Any, Protocol

from shared.aio import checkpoint

log = logging.getLogger("shared.leader")

# KEYS[1] lock; ARGV[1] identity, ARGV[2] ttl ms. 'OK'-like 1 when acquired, else the remaining PTTL.
_ACQUIRE_LUA = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return -10
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -10
end
return redis.call('PTTL', KEYS[1])
"""
_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_ACQUIRED = -10


class Leadership(Protocol):
    """What a singleton job needs: am I the leader now, and wait for the change."""

    identity: str

    @property
    def is_leader(self) -> bool: ...

    async def wait_leader(self) -> None:
        """Return once this instance is the leader."""
        ...

    async def wait_lost(self) -> None:
        """Return once this instance is no longer the leader."""
        ...

    async def run(self) -> None:
        """The election loop (run it as a task; cancel it to stop)."""
        ...

    async def release(self) -> None:
        """Give up leadership (graceful shutdown)."""
        ...


def new_identity(prefix: str = "") -> str:
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class _Base:
    def __init__(self, identity: str) -> None:
        self.identity = identity
        self._leader = asyncio.Event()
        self._follower = asyncio.Event()
        self._follower.set()
        self.changes = 0

    @property
    def is_leader(self) -> bool:
        return self._leader.is_set()

    def _set(self, leader: bool) -> None:
        if leader == self._leader.is_set():
            return
        self.changes += 1
        if leader:
            self._follower.clear()
            self._leader.set()
        else:
            self._leader.clear()
            self._follower.set()

    async def wait_leader(self) -> None:
        await self._leader.wait()

    async def wait_lost(self) -> None:
        await self._follower.wait()


class LocalLeadership(_Base):
    """Embedded mode: the only process is the leader."""

    def __init__(self, identity: str | None = None) -> None:
        super().__init__(identity or new_identity("local:"))
        self._set(True)

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def release(self) -> None:
        self._set(False)


class RedisLeaderElection(_Base):
    """Leader election on ``key`` with a lock of ``ttl_ms`` (see the module docstring)."""

    def __init__(
        self,
        redis: Any,
        key: str,
        *,
        ttl_ms: int = 10_000,
        renew_interval_s: float | None = None,
        identity: str | None = None,
    ) -> None:
        if ttl_ms < 100:
            raise ValueError("ttl_ms must be at least 100")
        super().__init__(identity or new_identity())
        self.redis = redis
        self.key = key
        self.ttl_ms = int(ttl_ms)
        self.renew_interval_s = renew_interval_s if renew_interval_s is not None else self.ttl_ms / 3000
        if self.renew_interval_s * 1000 >= self.ttl_ms:
            raise ValueError("renew_interval_s must be shorter than the lock ttl")
        self._acquire = redis.register_script(_ACQUIRE_LUA)
        self._renew = redis.register_script(_RENEW_LUA)
        self._release = redis.register_script(_RELEASE_LUA)
        self._last_renewed = 0.0

    async def _try_acquire(self) -> float:
        """Try once; returns 0 when acquired, else seconds to wait before the next try."""
        result = int(await self._acquire(keys=[self.key], args=[self.identity, self.ttl_ms]))
        if result == _ACQUIRED:
            self._last_renewed = time.monotonic()
            if not self.is_leader:
                log.info("became leader for %s (%s)", self.key, self.identity)
            self._set(True)
            return 0.0
        if result < 0:  # -2: vanished in between, -1: no expiry (not ours; retry at the usual pace)
            return 0.01 if result == -2 else self.renew_interval_s
        return min(self.renew_interval_s, result / 1000 + 0.005)

    async def _try_renew(self) -> None:
        try:
            renewed = int(await self._renew(keys=[self.key], args=[self.identity, self.ttl_ms]))
        except Exception as exc:
            if time.monotonic() - self._last_renewed > 0.8 * self.ttl_ms / 1000:
                log.warning("could not renew the %s lock (%s): stepping down", self.key, exc)
                self._set(False)
            return
        if renewed:
            self._last_renewed = time.monotonic()
        else:
            log.warning("lost the %s lock to another instance", self.key)
            self._set(False)

    async def run(self) -> None:
        try:
            while True:
                checkpoint()  # a cancel lost inside a Redis call (shared.aio) must still end the loop
                if self.is_leader:
                    await asyncio.sleep(self.renew_interval_s)
                    await self._try_renew()
                    continue
                try:
                    wait = await self._try_acquire()
                except Exception as exc:
                    log.debug("leader election: Redis unavailable (%s)", exc)
                    wait = self.renew_interval_s
                if wait:
                    await asyncio.sleep(wait)
        finally:
            self._set(False)

    async def release(self) -> None:
        was_leader = self.is_leader
        self._set(False)
        if was_leader:
            with contextlib.suppress(Exception):
                await self._release(keys=[self.key], args=[self.identity])
