"""Per-client-address throttles of the sign-in and token routes: sliding windows.

Each window admits at most `attempts` requests from one client address in any
`window_seconds`; the request after that is refused with how long until the oldest one
leaves the window (`Retry-After`). Refused requests are not counted, so a client that waits
as told gets in. The windows live in Redis when a broker is configured (one sorted set per
address, shared by every process of the hub) and in this process otherwise. Lock-outs per
account (`gateway.auth.service`) are separate and still apply; this bounds what one address
can try across many accounts.

The client address is `request.client.host` (uvicorn applies X-Forwarded-For from trusted
proxies); an IPv6 address counts as its /64 network, which one host usually holds whole.
Everything here is synchronous: the dependencies run in the thread pool, like the routes.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol

import redis
import structlog
from fastapi import Depends, Request
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.auth.errors import TooManyAttempts
from kernel.settings import Settings

__all__ = [
    "Limit",
    "MemoryWindow",
    "RedisWindow",
    "SignInRefusal",
    "Throttles",
    "TokenRefusal",
    "Window",
    "client_key",
    "for_settings",
    "require_sign_in_quota",
    "sign_in_refusal",
    "throttles",
    "token_refusal",
]

log = structlog.get_logger("refhub.auth.throttle")

KEY_PREFIX = "refhub:throttle:"
_STATE_ATTRIBUTE = "auth_throttles"
_INIT_LOCK = threading.Lock()
_SWEEP_EVERY = 1024
_REDIS_TIMEOUT_SECONDS = 0.5

# KEYS[1]: the address's sorted set (member per admitted attempt, scored by its time).
# ARGV: now, window seconds, attempts allowed, a unique member. Returns nil when admitted,
# else the seconds until the oldest attempt leaves the window. Atomic: one script.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return nil
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


@dataclass(frozen=True)
class Limit:
    """At most `attempts` per `window_seconds`, for the routes of one `scope`."""

    scope: str
    attempts: int
    window_seconds: float


class Window(Protocol):
    def hit(self, key: str, limit: Limit) -> float | None:
        """Count an attempt under `key` if the window admits it: None when admitted, else
        the seconds until it would be (nothing is counted then)."""
        ...


class MemoryWindow:
    """Sliding windows in this process (embedded mode): thread-safe, swept of idle keys."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, key: str, limit: Limit) -> float | None:
        with self._lock:
            now = self._clock()
            self._calls += 1
            if self._calls % _SWEEP_EVERY == 0:
                self._sweep(now, limit.window_seconds)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - limit.window_seconds:
                hits.popleft()
            if len(hits) < limit.attempts:
                hits.append(now)
                return None
            return hits[0] + limit.window_seconds - now

    def _sweep(self, now: float, window_seconds: float) -> None:
        """Forget addresses whose latest attempt is older than the window (bounded memory)."""
        idle = [key for key, hits in self._hits.items() if hits[-1] <= now - window_seconds]
        for key in idle:
            del self._hits[key]


class RedisWindow:
    """Sliding windows in Redis, shared by every process: one sorted set per address.

    A Redis that does not answer admits the attempt (logged): sign-in must not depend on
    the broker, and the per-account lock-outs still hold.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = KEY_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(_SLIDING_WINDOW)

    def hit(self, key: str, limit: Limit) -> float | None:
        now = self._clock()
        member = f"{now!r}:{secrets.token_hex(4)}"
        args: list[str | int] = [
            repr(now),
            repr(float(limit.window_seconds)),
            limit.attempts,
            member,
        ]
        try:
            wait = self._script(keys=[self._prefix + key], args=args)
        except redis.RedisError as exc:
            log.warning("auth.throttle_unavailable", scope=limit.scope, error=type(exc).__name__)
            return None
        if wait is None:
            return None
        return float(wait.decode() if isinstance(wait, bytes) else wait)


@dataclass(frozen=True)
class Throttles:
    """The windows of one app and the limits of its throttled routes."""

    window: Window
    sign_in: Limit
    token: Limit


def for_settings(settings: Settings) -> Throttles:
    """Redis windows when a broker is configured, in-process ones otherwise."""
    window: Window
    if settings.broker_url:
        client = redis.Redis.from_url(
            settings.broker_url,
            socket_timeout=_REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),  # a sign-in never waits on reconnection attempts
        )
        window = RedisWindow(client)
    else:
        window = MemoryWindow()
    return Throttles(
        window=window,
        sign_in=Limit(
            "sign-in", settings.sign_in_throttle_attempts, settings.sign_in_throttle_window_seconds
        ),
        token=Limit(
            "token", settings.token_throttle_requests, settings.token_throttle_window_seconds
        ),
    )


def throttles(request: Request) -> Throttles:
    """The app's throttles, made on first use from its runtime's settings (one per app, so
    every app instance, and every test's app, counts on its own)."""
    state = request.app.state
    found = getattr(state, _STATE_ATTRIBUTE, None)
    if found is None:
        with _INIT_LOCK:
            found = getattr(state, _STATE_ATTRIBUTE, None)
            if found is None:
                found = for_settings(state.runtime.settings)
                setattr(state, _STATE_ATTRIBUTE, found)
    assert isinstance(found, Throttles)
    return found


def client_key(host: str | None) -> str:
    """What a client address is counted under: the address, an IPv6 one as its /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


def _refusal(request: Request, limit: Limit, what: str) -> TooManyAttempts | None:
    found = throttles(request)
    host = request.client.host if request.client else None
    wait = found.window.hit(f"{limit.scope}:{client_key(host)}", limit)
    if wait is None:
        return None
    log.warning("auth.throttled", scope=limit.scope, retry_after=round(wait, 1))
    return TooManyAttempts(
        f"Too many {what} from this address; try again in a few minutes.", retry_after=wait
    )


def sign_in_refusal(request: Request) -> TooManyAttempts | None:
    """Count a sign-in attempt (password or code) of the request's address; the refusal
    when its window is full (routes that answer HTML render it themselves)."""
    return _refusal(request, throttles(request).sign_in, "sign-in attempts")


def token_refusal(request: Request) -> TooManyAttempts | None:
    """Count a token request of the request's address; the refusal when its window is full."""
    return _refusal(request, throttles(request).token, "token requests")


def require_sign_in_quota(request: Request) -> None:
    """Raise `TooManyAttempts` (429 problem JSON with Retry-After) when the window is full."""
    refusal = sign_in_refusal(request)
    if refusal is not None:
        raise refusal


SignInRefusal = Annotated[TooManyAttempts | None, Depends(sign_in_refusal)]
TokenRefusal = Annotated[TooManyAttempts | None, Depends(token_refusal)]
