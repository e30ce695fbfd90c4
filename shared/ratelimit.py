"""Rate limiting shared by every instance of every service (design/api.md "Identity, roles, limits").

How it is used
--------------
- ``shared.infra.infrastructure`` builds a :class:`RateLimiter` into ``app.state.ratelimiter`` (Redis when
  ``ALCHM_REDIS_URL`` is set, else process memory).
- ``install_rate_limiting(app)`` (right after ``create_app``) adds :class:`RateLimitMiddleware`, a pure-ASGI
  layer inside the request-id/metrics and CORS middleware: every request except ``/health``, ``/ready``
  and ``/metrics`` is counted against its caller's **tier** (per user or API key, else per client IP),
  gets ``RateLimit-Limit``/``RateLimit-Remaining``/``RateLimit-Reset``, and is refused with 429
  ``RATE_LIMITED`` + ``Retry-After`` when over budget.
- Endpoint rules are dependencies: ``Depends(rate_limit("register"))`` (per client IP),
  ``Depends(heavy_calculation)`` (10/min for anonymous callers), or ``await enforce(request, "login",
  ip + email)`` inside a route that needs its body first. The response then carries the headers of the
  most restrictive rule that applied.

Algorithm
---------
A fixed window anchored at a key's first hit (``INCRBY`` + ``PEXPIRE`` when new + ``PTTL``), atomic in one
Lua script. Hits from concurrent requests are coalesced into one ``EVALSHA`` per event-loop turn (one
batch in flight at a time); redis-py's ``Script`` reloads the script after ``NOSCRIPT`` (Redis restart or
``SCRIPT FLUSH``). Keys are hashed (``alchm:rl:<rule>:<blake2b(identity)>``), so no email or IP is stored
in Redis. A round trip costs more worker CPU than a whole request here, so two measures keep Redis off
most requests:

- Large limits are *leased*: an instance reserves ``lease`` units at once (1 % of the limit, at most
  ``lease_max``; authenticated 5, premium 20, admin/service 100) and spends them locally. Reserved before
  used, so the shared limit is never exceeded; a client may be refused up to (lease − 1) × (instances − 1)
  requests early. Limits under 200 (anonymous, login, register, heavy) are exact, one unit per request.
- A refusal is remembered until the window resets (the count can only grow until then).

Why not the ``limits`` library's async storage: its Redis strategies cost two or three round trips per
request (hit, then window stats for the headers) and can neither batch nor lease. Its rate strings are
used for configuration.

When Redis fails
----------------
A failed or slow (``Settings.redis_timeout_s``) Redis call never fails or stalls a request longer than
that timeout: the request is counted in a local in-memory window instead, the failure is logged once per
outage and counted (``alchm_dependency_failures_total{dependency="redis",operation="ratelimit"}``,
``alchm_ratelimit_local_fallback`` = 1), and Redis is retried after a back-off growing from
``retry_min_s`` to ``retry_max_s``. While degraded each instance enforces the full limit on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import limits
from fastapi import Request
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth.authenticator import get_authenticator
from shared.auth.principal import ANONYMOUS
from shared.errors import AppError, error_response
from shared.metrics import DEPENDENCY_FAILURES, RATELIMIT_LOCAL_FALLBACK, RATELIMIT_REJECTED
from shared.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from redis.asyncio import Redis

log = logging.getLogger("shared.ratelimit")

ALWAYS_EXEMPT = frozenset({"/health", "/ready", "/metrics"})
TIER_RULES = ("anonymous", "authenticated", "premium", "admin", "service")
ENDPOINT_RULES = ("login", "register", "heavy")
_SCOPE_KEY = "alchm.ratelimit"  # the strictest decision of this request (in the scope, not its state)


class RateLimitSettings(BaseSettings):
    """Rate limits as ``limits`` strings (``"50/15 minutes"``, ``"3 per hour"``); env ALCHM_RATELIMIT_*."""

    model_config = SettingsConfigDict(
        env_prefix="ALCHM_RATELIMIT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    enabled: bool = True
    # Tiers (per user / API key; anonymous callers per client IP).
    tier_anonymous: str = "50/15 minutes"
    tier_authenticated: str = "500/15 minutes"
    tier_premium: str = "2000/15 minutes"
    tier_admin: str = "10000/15 minutes"
    tier_service: str = "50000/15 minutes"
    # Endpoint rules.
    rule_login: str = "5/15 minutes"  # per client IP + email
    rule_register: str = "3/hour"  # per client IP
    rule_heavy: str = "10/minute"  # heavy calculations, anonymous callers, per client IP
    #: More named rules for services (``{"recommend": "30/minute"}``), used with ``rate_limit(name)``.
    rules: dict[str, str] = Field(default_factory=dict)
    #: Paths never limited besides /health, /ready and /metrics.
    exempt_paths: list[str] = Field(default_factory=list)
    key_prefix: str = "alchm:rl"
    #: Back-off before Redis is tried again after a failure (doubles up to the maximum).
    retry_min_s: float = Field(default=1.0, gt=0, le=60)
    retry_max_s: float = Field(default=5.0, gt=0, le=300)
    #: Bound on keys held by the local (fallback / embedded) limiter.
    local_max_keys: int = Field(default=100_000, ge=100)
    #: Hits sent to Redis in one script call at most.
    max_batch: int = Field(default=256, ge=1, le=10_000)
    #: Large limits are leased: an instance reserves this share of a rule's limit at a time (at most
    #: ``lease_max`` requests) and serves it locally. Never lets a client past its limit; may refuse it up
    #: to (lease − 1) × (instances − 1) requests early. Limits below 1 / lease_fraction are exact.
    lease_fraction: float = Field(default=0.01, ge=0, le=0.5)
    lease_max: int = Field(default=100, ge=1, le=10_000)

    @field_validator(*(f"tier_{t}" for t in TIER_RULES), *(f"rule_{r}" for r in ENDPOINT_RULES))
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("rules")
    @classmethod
    def _rules_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for rate in value.values():
            parse_rate(rate)
        return value


def parse_rate(text: str) -> tuple[int, int]:
    """``"50/15 minutes"`` → ``(50, 900)`` (amount, window seconds)."""
    try:
        item = limits.parse(text)
    except ValueError as exc:
        raise ValueError(f"not a rate limit: {text!r} (use e.g. '50/15 minutes' or '3 per hour')") from exc
    if item.amount < 1:
        raise ValueError(f"rate limit {text!r} must allow at least one request")
    return item.amount, item.get_expiry()


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    window_s: int
    #: Units of budget an instance reserves from Redis at a time (1: every request goes to Redis).
    lease: int = 1

    @property
    def window_ms(self) -> int:
        return self.window_s * 1000

    @property
    def policy(self) -> str:
        return f"{self.limit};w={self.window_s}"

    @property
    def static_headers(self) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
        return ((b"ratelimit-limit", str(self.limit).encode()), (b"ratelimit-policy", self.policy.encode()))


class Decision:
    """The outcome of counting one request against one rule (a plain slotted class: built per request)."""

    __slots__ = ("allowed", "backend", "remaining", "reset_s", "rule", "_static")

    def __init__(
        self,
        rule: Rule,
        allowed: bool,
        remaining: int,
        reset_s: float,
        backend: Literal["redis", "local"],
        static: tuple[tuple[bytes, bytes], tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.rule = rule
        self.allowed = allowed
        self.remaining = remaining
        self.reset_s = reset_s
        self.backend = backend
        self._static = static or rule.static_headers

    def __repr__(self) -> str:
        return (
            f"Decision(rule={self.rule.name!r}, allowed={self.allowed}, remaining={self.remaining},"
            f" reset_s={self.reset_s:.1f}, backend={self.backend!r})"
        )

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.reset_s))

    def header_pairs(self) -> list[tuple[str, str]]:
        pairs = [
            ("RateLimit-Limit", str(self.rule.limit)),
            ("RateLimit-Remaining", str(self.remaining)),
            ("RateLimit-Reset", str(max(0, math.ceil(self.reset_s)))),
            ("RateLimit-Policy", self.rule.policy),
        ]
        if not self.allowed:
            pairs.append(("Retry-After", str(self.retry_after_s)))
        return pairs

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            self._static[0],
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(math.ceil(self.reset_s)).encode()),
            self._static[1],
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(self.retry_after_s).encode()))
        return headers

    def stricter_than(self, other: Decision) -> bool:
        if self.allowed != other.allowed:
            return not self.allowed
        return self.remaining < other.remaining


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, decision: Decision) -> None:
        rule = decision.rule
        super().__init__(
            f"rate limit exceeded: {rule.limit} requests per {_window_text(rule.window_s)}; "
            f"retry in {decision.retry_after_s} s",
            details=[
                {
                    "rule": rule.name,
                    "limit": rule.limit,
                    "window_s": rule.window_s,
                    "retry_after_s": decision.retry_after_s,
                }
            ],
            headers=dict(decision.header_pairs()),
        )
        self.decision = decision


def _window_text(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{unit}" if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"


# ---------------------------------------------------------------------------------------------------------
# Client IP behind trusted proxies
# ---------------------------------------------------------------------------------------------------------


class TrustedProxies:
    """``Settings.forwarded_allow_ips``: ``*``, or a comma list of addresses and networks."""

    def __init__(self, spec: str | Iterable[str]) -> None:
        items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
        self.all = "*" in items
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.literals: set[str] = set()
        for item in items:
            if item == "*":
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.literals.add(item)  # e.g. a unix socket path or hostname uvicorn accepts
        self._memo: dict[str, bool] = {}

    def __contains__(self, host: str) -> bool:
        if self.all:
            return True
        known = self._memo.get(host)
        if known is not None:
            return known
        result = host in self.literals
        if not result:
            try:
                addr = ipaddress.ip_address(host)
            except ValueError:
                result = False
            else:
                result = any(addr in net for net in self.networks)
        if len(self._memo) < 4096:
            self._memo[host] = result
        return result


def client_ip(scope: Scope, trusted: TrustedProxies) -> str:
    """The client address: the peer, or, when the peer is a trusted proxy, the nearest untrusted hop of
    ``X-Forwarded-For`` (right to left). uvicorn's ``--proxy-headers`` may already have done this; doing
    it again is harmless because the rewritten peer is no longer a trusted proxy."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if peer not in trusted:
        return peer
    forwarded = None
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded = (
                value.decode("latin-1") if forwarded is None else forwarded + "," + value.decode("latin-1")
            )
    if not forwarded:
        return peer
    hops = [h.strip() for h in forwarded.split(",")][-32:]
    for hop in reversed(hops):
        if not hop:
            continue
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # garbage in the header: do not let it pick the bucket
        if hop not in trusted:
            return hop
    return hops[0] or peer


# ---------------------------------------------------------------------------------------------------------
# Back ends
# ---------------------------------------------------------------------------------------------------------


class LocalWindows:
    """Fixed windows in process memory (embedded mode, and the fallback while Redis is down)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, list[float]] = {}  # key -> [count, reset_at (monotonic)]

    def hit(self, key: str, window_s: float, now: float) -> tuple[int, float]:
        entry = self._windows.get(key)
        if entry is None or entry[1] <= now:
            if entry is None and len(self._windows) >= self.max_keys:
                self._evict(now)
            entry = [0.0, now + window_s]
            self._windows[key] = entry
        entry[0] += 1
        return int(entry[0]), entry[1] - now

    def _evict(self, now: float) -> None:
        expired = [k for k, v in self._windows.items() if v[1] <= now]
        for k in expired:
            del self._windows[k]
        while len(self._windows) >= self.max_keys:
            self._windows.pop(next(iter(self._windows)))

    def clear(self) -> None:
        self._windows.clear()

    def __len__(self) -> int:
        return len(self._windows)


# KEYS: counters; ARGV: window_ms, amount for each key in turn. Returns "count:ttl_ms,…".
_LUA_BATCH_HIT = """
local out = {}
for i = 1, #KEYS do
  local n = redis.call('INCRBY', KEYS[i], ARGV[2 * i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    ttl = tonumber(ARGV[2 * i - 1])
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  out[i] = n .. ':' .. ttl
end
return table.concat(out, ',')
"""


class RedisUnavailable(Exception):
    pass


class RedisWindows:
    """Fixed windows in Redis; concurrent hits are coalesced into one script call."""

    def __init__(self, client: Redis, *, timeout_s: float, max_batch: int = 256) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        self._script = client.register_script(_LUA_BATCH_HIT)
        # (key, window_ms, amount, future, deadline on the loop clock)
        self._pending: list[tuple[str, int, int, asyncio.Future[tuple[int, int]], float]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def hit(self, key: str, window_ms: int, amount: int = 1) -> tuple[int, int]:
        """``(count, ttl_ms)`` after adding ``amount``. Raises on failure, and by ``timeout_s`` after the call
        at the latest: each batch's timeout is the earliest deadline among its hits, and batches run one
        after another, so no per-request timer is needed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, int]] = loop.create_future()
        self._pending.append((key, window_ms, amount, future, loop.time() + self.timeout_s))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                now = loop.time()
                live = []
                for item in batch:
                    if item[3].done():
                        continue
                    if item[4] <= now:
                        item[3].set_exception(TimeoutError("rate limit check timed out waiting for Redis"))
                    else:
                        live.append(item)
                batch = live
                if not batch:
                    continue
                try:
                    args: list[int] = []
                    for item in batch:
                        args += (item[1], item[2])
                    async with asyncio.timeout(min(item[4] for item in batch) - now):
                        raw = await self._script(keys=[item[0] for item in batch], args=args)
                    parts = raw.split(b",")
                    if len(parts) != len(batch):
                        raise RedisUnavailable(f"script answered {len(parts)} results for {len(batch)} hits")
                except Exception as exc:  # every failure means "no answer from Redis"
                    for _key, _window, _amount, future, _deadline in batch:
                        if not future.done():
                            future.set_exception(RedisUnavailable(f"{type(exc).__name__}: {exc}"))
                    continue
                for (_key, _window, _amount, future, _deadline), part in zip(batch, parts, strict=True):
                    if not future.done():
                        count, _, ttl = part.partition(b":")
                        future.set_result((int(count), int(ttl)))
        finally:
            self._drainer = None
            for _key, _window, _amount, future, _deadline in self._pending:
                if not future.done():
                    future.set_exception(RedisUnavailable("rate limiter stopped"))
            self._pending.clear()

    async def aclose(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
            try:
                await self._drainer
            except (asyncio.CancelledError, Exception):
                pass


# ---------------------------------------------------------------------------------------------------------
# The limiter
# ---------------------------------------------------------------------------------------------------------


_DIGESTS: dict[str, str] = {}


def _digest(identity: str) -> str:
    """A short hash of a bucket identity (memoised: the same users and addresses come back)."""
    digest = _DIGESTS.get(identity)
    if digest is None:
        digest = hashlib.blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        if len(_DIGESTS) >= 65_536:
            _DIGESTS.clear()
        _DIGESTS[identity] = digest
    return digest


class RateLimiter:
    def __init__(
        self,
        cfg: RateLimitSettings | None = None,
        redis: Redis | None = None,
        *,
        timeout_s: float = 0.5,
        service: str = "alchm",
        trusted_proxies: str = "127.0.0.1",
    ) -> None:
        self.cfg = cfg or RateLimitSettings()
        self.enabled = self.cfg.enabled
        self.service = service
        self.trusted = TrustedProxies(trusted_proxies)
        self.exempt = ALWAYS_EXEMPT | frozenset(self.cfg.exempt_paths)
        self.rules: dict[str, Rule] = {}
        named = {name: getattr(self.cfg, f"tier_{name}") for name in TIER_RULES}
        named.update({name: getattr(self.cfg, f"rule_{name}") for name in ENDPOINT_RULES})
        for name, text in {**named, **self.cfg.rules}.items():
            limit, window = parse_rate(text)
            lease = max(1, min(self.cfg.lease_max, int(limit * self.cfg.lease_fraction)))
            self.rules[name] = Rule(name, limit, window, lease)
        self.local = LocalWindows(self.cfg.local_max_keys)
        self.remote = (
            RedisWindows(redis, timeout_s=timeout_s, max_batch=self.cfg.max_batch) if redis else None
        )
        self._retry_at = 0.0
        self._backoff = self.cfg.retry_min_s
        self.degraded = False
        self._failures = DEPENDENCY_FAILURES.labels(service, "redis", "ratelimit")
        self._fallback_gauge = RATELIMIT_LOCAL_FALLBACK.labels(service)
        self._fallback_gauge.set(0)
        self._rejected: dict[str, Any] = {}
        # key -> [units left, expires (monotonic), global count after the last reservation, denied]
        self._leases: dict[str, list[Any]] = {}
        # key -> completion of the reservation in flight for it (leased rules)
        self._reserving: dict[str, asyncio.Future[None]] = {}
        self._static: dict[str, tuple[Rule, tuple[tuple[bytes, bytes], tuple[bytes, bytes]]]] = {}

    @property
    def backend(self) -> str:
        if self.remote is None:
            return "memory"
        return "local-fallback" if self.degraded else "redis"

    def rule(self, name: str) -> Rule:
        try:
            return self.rules[name]
        except KeyError:
            raise ValueError(f"unknown rate-limit rule {name!r}; known: {sorted(self.rules)}") from None

    def tier_rule(self, tier: str) -> Rule:
        return self.rules.get(tier) or self.rules["anonymous"]

    async def hit(self, rule: Rule, identity: str) -> Decision:
        """Count one request of ``identity`` against ``rule``."""
        key = f"{self.cfg.key_prefix}:{rule.name}:{_digest(identity)}"
        remote = self.remote
        while remote is not None and (not self.degraded or time.monotonic() >= self._retry_at):
            now = time.monotonic()
            lease = self._leases.get(key)
            if lease is not None and lease[1] > now:
                if lease[3]:  # the window is already over the limit: counts only grow until it resets
                    return self._decide(rule, rule.limit + 1, lease[1] - now, "redis")
                if lease[0] > 0:  # served from this instance's reserved units
                    lease[0] -= 1
                    return self._leased(rule, lease, now)
            if rule.lease > 1:
                pending = self._reserving.get(key)
                if pending is not None:  # one reservation per key at a time: wait for it, then look again
                    await asyncio.shield(pending)
                    continue
            return await self._reserve(remote, rule, key)
        count, ttl_s = self.local.hit(key, rule.window_s, time.monotonic())
        return self._decide(rule, count, ttl_s, "local")

    async def _reserve(self, remote: RedisWindows, rule: Rule, key: str) -> Decision:
        flight: asyncio.Future[None] | None = None
        if rule.lease > 1:
            flight = self._reserving[key] = asyncio.get_running_loop().create_future()
        try:
            count, ttl_ms = await remote.hit(key, rule.window_ms, rule.lease)
        except Exception as exc:  # whatever went wrong with Redis, never fail the request for it
            self._redis_failed(exc)
            local_count, ttl_s = self.local.hit(key, rule.window_s, time.monotonic())
            return self._decide(rule, local_count, ttl_s, "local")
        finally:
            if flight is not None:
                del self._reserving[key]
                flight.set_result(None)
        if self.degraded:
            self._redis_recovered()
        return self._reserved(rule, key, count, ttl_ms / 1000.0)

    def _reserved(self, rule: Rule, key: str, count: int, ttl_s: float) -> Decision:
        """After reserving ``rule.lease`` units that brought the shared counter to ``count``."""
        granted = min(rule.lease, rule.limit - (count - rule.lease))  # a partial grant at the limit
        now = time.monotonic()
        if granted <= 0 or rule.lease > 1 or count > rule.limit:
            if len(self._leases) >= self.cfg.local_max_keys and key not in self._leases:
                self._leases = {k: v for k, v in self._leases.items() if v[1] > now}
                if len(self._leases) >= self.cfg.local_max_keys:
                    self._leases.clear()
            self._leases[key] = [max(0, granted - 1), now + ttl_s, count, granted <= 0]
        if granted <= 0:
            return self._decide(rule, rule.limit + 1, ttl_s, "redis")
        if rule.lease == 1:
            return self._decide(rule, count, ttl_s, "redis")
        return self._leased(rule, self._leases[key], now)

    def _leased(self, rule: Rule, lease: list[Any], now: float) -> Decision:
        # Remaining as this instance sees it: the shared budget after its last reservation, plus its own
        # unused units (other instances' unused units are not known here).
        remaining = max(0, rule.limit - int(lease[2])) + int(lease[0])
        return self._decide(rule, rule.limit - remaining, lease[1] - now, "redis")

    def _decide(self, rule: Rule, count: int, ttl_s: float, backend: Literal["redis", "local"]) -> Decision:
        allowed = count <= rule.limit
        if not allowed:
            counter = self._rejected.get(rule.name)
            if counter is None:
                counter = self._rejected[rule.name] = RATELIMIT_REJECTED.labels(self.service, rule.name)
            counter.inc()
        static = self._static.get(rule.name)
        if static is None or static[0] is not rule:
            static = self._static[rule.name] = (rule, rule.static_headers)
        return Decision(rule, allowed, max(0, rule.limit - count), max(0.0, ttl_s), backend, static[1])

    def _redis_failed(self, exc: BaseException) -> None:
        self._failures.inc()
        now = time.monotonic()
        if now < self._retry_at:
            return  # another request of the same probe already escalated
        self._retry_at = now + self._backoff
        if not self.degraded:
            self.degraded = True
            self._fallback_gauge.set(1)
            log.warning(
                "rate limiting: Redis unreachable (%s); enforcing local limits, retrying in %.1fs",
                exc,
                self._backoff,
                extra={"dependency": "redis"},
            )
        self._backoff = min(self._backoff * 2, self.cfg.retry_max_s)

    def _redis_recovered(self) -> None:
        self.degraded = False
        self._backoff = self.cfg.retry_min_s
        self._fallback_gauge.set(0)
        self.local.clear()
        self._leases.clear()
        log.warning("rate limiting: Redis is back; limits are shared again", extra={"dependency": "redis"})

    async def aclose(self) -> None:
        if self.remote is not None:
            await self.remote.aclose()


# ---------------------------------------------------------------------------------------------------------
# ASGI middleware (tiers) and dependencies (endpoint rules)
# ---------------------------------------------------------------------------------------------------------


def _record(scope: Scope, decision: Decision) -> None:
    current: Decision | None = scope.get(_SCOPE_KEY)
    if current is None or decision.stricter_than(current):
        scope[_SCOPE_KEY] = decision


def current_decision(scope: Scope) -> Decision | None:
    """The strictest rate-limit decision taken for this request so far."""
    return scope.get(_SCOPE_KEY)


class RateLimitMiddleware:
    """Tier limits for every request and the ``RateLimit-*`` headers of the strictest rule applied."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limiter: RateLimiter | None = getattr(scope["app"].state, "ratelimiter", None)
        if limiter is None or not limiter.enabled or scope["path"] in limiter.exempt:
            await self.app(scope, receive, send)
            return

        try:
            principal = await get_authenticator(scope["app"]).peek(scope)
        except Exception:  # e.g. key store down: limit as anonymous; the route reports it
            principal = ANONYMOUS
        identity = principal.rate_key
        if identity is None:
            identity = "ip:" + client_ip(scope, limiter.trusted)
        decision = await limiter.hit(limiter.tier_rule(principal.tier), identity)
        scope[_SCOPE_KEY] = decision
        if not decision.allowed:
            _label_route(scope)
            err = RateLimited(decision)
            response = error_response(429, err.code, err.message, err.details, err.headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # A 429 raised by an endpoint rule already carries its own RateLimit-* headers.
                if message["status"] != 429 or not any(name == b"ratelimit-limit" for name, _ in headers):
                    headers.extend(scope[_SCOPE_KEY].raw_headers())
                    message["headers"] = headers  # a fresh message per response: replace its header list
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True, slots=True)
class _RouteLabel:
    path_format: str


def _route_templates(app: Any) -> list[tuple[Any, str]]:
    cached: list[tuple[Any, str]] | None = getattr(app.state, "_alchm_route_templates", None)
    if cached is None:
        from starlette.routing import compile_path

        cached = []
        try:
            for template in app.openapi().get("paths", {}):
                cached.append((compile_path(template)[0], template))
        except Exception:  # no schema (e.g. a plain Starlette app): no labels
            cached = []
        app.state._alchm_route_templates = cached
    return cached


def _label_route(scope: Scope) -> None:
    """Refused before routing: name the route template anyway, so request metrics keep it."""
    if scope.get("route") is not None:
        return
    path = scope.get("path", "")
    for regex, template in _route_templates(scope["app"]):
        if regex.match(path):
            scope["route"] = _RouteLabel(template)
            return


def install_rate_limiting(app: FastAPI) -> None:
    """Add :class:`RateLimitMiddleware` inside the request-id/metrics and CORS layers of ``create_app``
    (so 429s carry ``X-Request-ID`` and CORS headers and are counted). Call before the app starts."""
    if app.middleware_stack is not None:
        raise RuntimeError("install_rate_limiting() must be called before the app starts serving")
    if any(m.cls is RateLimitMiddleware for m in app.user_middleware):
        return
    app.user_middleware.append(Middleware(RateLimitMiddleware))


def get_limiter(request: Request) -> RateLimiter | None:
    limiter: RateLimiter | None = getattr(request.app.state, "ratelimiter", None)
    if limiter is None or not limiter.enabled:
        return None
    return limiter


async def enforce(request: Request, rule_name: str, identity: str) -> Decision | None:
    """Count a hit of ``identity`` against the named rule; 429 when over the limit. ``None`` when the
    service runs without a limiter."""
    limiter = get_limiter(request)
    if limiter is None:
        return None
    decision = await limiter.hit(limiter.rule(rule_name), identity)
    _record(request.scope, decision)
    if not decision.allowed:
        raise RateLimited(decision)
    return decision


def request_ip(request: Request) -> str:
    limiter = getattr(request.app.state, "ratelimiter", None)
    trusted = (
        limiter.trusted
        if limiter is not None
        else TrustedProxies(request.app.state.settings.forwarded_allow_ips)
    )
    return client_ip(request.scope, trusted)


KeyFunc = Callable[[Request], Awaitable[str | None]]


def rate_limit(
    rule_name: str, *, key: Literal["ip", "principal"] | KeyFunc = "ip", anonymous_only: bool = False
) -> Callable[[Request], Awaitable[None]]:
    """A dependency enforcing the named rule per client IP (``key="ip"``), per caller (``"principal"``:
    user / API key, else IP) or per the key an async function returns (``None`` skips the check).
    ``anonymous_only`` applies the rule to anonymous callers only."""

    async def _rate_limit(request: Request) -> None:
        limiter = get_limiter(request)
        if limiter is None:
            return
        limiter.rule(rule_name)  # unknown rule names fail loudly
        principal = None
        if anonymous_only or key == "principal":
            principal = await get_authenticator(request.app).peek(request.scope)
            if anonymous_only and principal.is_authenticated:
                return
        identity: str | None
        if key == "ip":
            identity = "ip:" + client_ip(request.scope, limiter.trusted)
        elif key == "principal":
            assert principal is not None
            identity = principal.rate_key or "ip:" + client_ip(request.scope, limiter.trusted)
        else:
            identity = await key(request)
        if identity is not None:
            await enforce(request, rule_name, identity)

    _rate_limit.__name__ = f"rate_limit_{rule_name}"
    return _rate_limit


#: Opt a route into the "heavy calculation" limit (10/min per IP for anonymous callers):
#: ``@router.post(..., dependencies=[Depends(heavy_calculation)])``.
heavy_calculation = rate_limit("heavy", key="ip", anonymous_only=True)


def limiter_from_settings(
    settings: Settings, redis: Redis | None, *, service: str, cfg: RateLimitSettings | None = None
) -> RateLimiter:
    return RateLimiter(
        cfg,
        redis,
        timeout_s=settings.redis_timeout_s,
        service=service,
        trusted_proxies=settings.forwarded_allow_ips,
    )


__all__: Sequence[str] = (
    "Decision",
    "LocalWindows",
    "RateLimitMiddleware",
    "RateLimitSettings",
    "RateLimited",
    "RateLimiter",
    "RedisWindows",
    "Rule",
    "TrustedProxies",
    "client_ip",
    "enforce",
    "heavy_calculation",
    "install_rate_limiting",
    "limiter_from_settings",
    "rate_limit",
    "request_ip",
)
