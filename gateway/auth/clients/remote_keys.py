"""Public keys a client publishes at its JWKS URL (`jwks_uri`: RFC 7591 §2, SMART Backend
Services): checking the address, fetching the set, and a per-process cache of it.

The address is https (plain http only to a loopback host, for tests and laptops), with no
user name, password or fragment. A fetch is one GET with a 5-second budget, no redirects
followed, a body of at most 64 KB, checked as a registered JWKS is (`keys.py`). The set is
kept for the response's `Cache-Control: max-age` (5 minutes without one, at least 30
seconds, at most 24 hours) and fetched again, at most once every 30 seconds per client,
when an assertion names a `kid` the kept set lacks: an unauthenticated token request can
make the hub ask a client's address at most that often.

`JwksCache` is safe under concurrent token requests: one lock per client, held while that
client's address is fetched (its other requests wait for the one fetch, other clients do
not), and a short guard lock only to find a client's lock, never held over the network.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from gateway.auth.clients.errors import InvalidKey, InvalidKeySource
from gateway.auth.clients.keys import PublicKey, public_keys_from_jwks

__all__ = [
    "CACHE",
    "DEFAULT_MAX_AGE",
    "FETCH_TIMEOUT",
    "LOOPBACK_HOSTS",
    "MAX_JWKS_BYTES",
    "MAX_MAX_AGE",
    "MAX_URI_LENGTH",
    "MIN_REFETCH",
    "FetchFailed",
    "JwksCache",
    "KeyUnavailable",
    "check_jwks_uri",
    "fetch_jwks",
]

MAX_URI_LENGTH = 2048
FETCH_TIMEOUT = 5.0  # seconds, for the whole fetch
MAX_JWKS_BYTES = 64 * 1024
DEFAULT_MAX_AGE = 300.0  # seconds: without a Cache-Control max-age
MAX_MAX_AGE = 24 * 3600.0
MIN_REFETCH = 30.0  # seconds between two fetches for one client; also the shortest keep
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_MAX_AGE = re.compile(r"^\s*max-age\s*=\s*\"?(\d{1,12})\"?\s*$", re.IGNORECASE)
_NO_KEEP = frozenset({"no-store", "no-cache"})


def check_jwks_uri(value: str) -> str:
    """The JWKS URL as registered, if the hub will fetch it.

    Raises:
        InvalidKeySource: not an absolute https URL (http only to 127.0.0.1, ::1 or
            localhost), with a user name, password or fragment, or too long.
    """
    uri = value.strip()

    def refuse(detail: str) -> InvalidKeySource:
        return InvalidKeySource(detail, field="jwks_uri")

    if not uri or len(uri) > MAX_URI_LENGTH:
        raise refuse(f"a JWKS URL has 1 to {MAX_URI_LENGTH} characters")
    if not uri.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in uri):
        raise refuse("a JWKS URL is plain ASCII without spaces (host names in their xn-- form)")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise refuse("the JWKS URL cannot be read") from None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("https", "http") or not host:
        raise refuse("the JWKS URL must be an https:// address")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise refuse("a JWKS URL carries no user name, password or #fragment")
    if parts.scheme.lower() == "http" and host not in LOOPBACK_HOSTS:
        raise refuse("the JWKS URL must use https (http only to 127.0.0.1, ::1 or localhost)")
    return uri


class FetchFailed(Exception):
    """A JWKS URL gave no usable key set; `reason` is a stable code for the audit record."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


def _max_age(cache_control: str | None) -> float:
    """How long to keep a fetched set: its `max-age`, within [MIN_REFETCH, MAX_MAX_AGE]."""
    if not cache_control:
        return DEFAULT_MAX_AGE
    seconds = DEFAULT_MAX_AGE
    for directive in cache_control.split(","):
        if directive.strip().lower() in _NO_KEEP:
            return MIN_REFETCH
        matched = _MAX_AGE.match(directive)
        if matched:
            seconds = float(matched.group(1))
    return min(max(seconds, MIN_REFETCH), MAX_MAX_AGE)


def _read(url: str) -> tuple[bytes, float]:
    """The body (at most MAX_JWKS_BYTES) and keep time of one GET, within FETCH_TIMEOUT."""
    deadline = time.monotonic() + FETCH_TIMEOUT
    headers = {"Accept": "application/jwk-set+json, application/json", "User-Agent": "refhub"}
    with (
        httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False, headers=headers) as http,
        http.stream("GET", url) as response,
    ):
        if response.status_code != 200:
            raise FetchFailed("jwks-uri-status", f"the JWKS URL answered {response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_JWKS_BYTES:
            raise FetchFailed("jwks-uri-too-large", "the JWKS is larger than 64 KB")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_JWKS_BYTES:
                raise FetchFailed("jwks-uri-too-large", "the JWKS is larger than 64 KB")
            if time.monotonic() > deadline:
                raise FetchFailed("jwks-uri-timeout", "the JWKS URL did not answer in time")
        return bytes(body), _max_age(response.headers.get("cache-control"))


def fetch_jwks(url: str) -> tuple[dict[str, PublicKey], float]:
    """The checked public keys at `url` by `kid`, and how many seconds to keep them.

    Raises:
        FetchFailed: the address is not acceptable, cannot be reached in time, does not
            answer 200, answers more than 64 KB, or not a valid JWKS of acceptable keys.
    """
    try:
        check_jwks_uri(url)
    except InvalidKeySource as exc:
        raise FetchFailed("jwks-uri-not-allowed", exc.detail) from None
    try:
        body, max_age = _read(url)
    except httpx.TimeoutException:
        raise FetchFailed("jwks-uri-timeout", "the JWKS URL did not answer in time") from None
    except (httpx.HTTPError, OSError) as exc:
        detail = f"the JWKS URL cannot be reached ({type(exc).__name__})"
        raise FetchFailed("jwks-uri-unreachable", detail) from None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise FetchFailed("jwks-uri-not-json", "the JWKS URL did not answer JSON") from None
    try:
        keys = public_keys_from_jwks(parsed)
    except InvalidKey as exc:
        raise FetchFailed("jwks-uri-invalid", exc.detail) from None
    return {key.kid: key for key in keys}, max_age


class KeyUnavailable(Exception):
    """No usable key with the asked `kid`; `reason` is a stable code for the audit record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Entry:
    url: str
    keys: dict[str, PublicKey] | None  # None: the last fetch failed
    fresh_until: float
    fetched_at: float  # when the last fetch was attempted (successful or not)
    failure: str = ""


Fetcher = Callable[[str], tuple[dict[str, PublicKey], float]]


class JwksCache:
    """Fetched key sets by client, for one process. `clock` is monotonic seconds."""

    def __init__(
        self, *, fetch: Fetcher = fetch_jwks, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._entries: dict[uuid.UUID, _Entry] = {}
        self._locks: dict[uuid.UUID, threading.Lock] = {}
        self._guard = threading.Lock()  # only around the two dicts, never over the network

    def _lock_for(self, client_id: uuid.UUID) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(client_id, threading.Lock())

    def _store(self, client_id: uuid.UUID, entry: _Entry) -> None:
        with self._guard:
            self._entries[client_id] = entry

    def forget(self, client_id: uuid.UUID) -> None:
        """Drop a client's kept set (the next token request fetches again)."""
        with self._guard:
            self._entries.pop(client_id, None)

    def key(self, client_id: uuid.UUID, url: str, kid: str) -> PublicKey:
        """The key `kid` of the client's set at `url`, fetched if not kept or not fresh, or
        fetched again when the kept set lacks `kid` (at most once every MIN_REFETCH).

        Raises:
            KeyUnavailable: `unknown-kid`, or why the set could not be fetched (kept for
                MIN_REFETCH, so a failing address is asked at most that often).
        """
        with self._lock_for(client_id):
            now = self._clock()
            with self._guard:
                entry = self._entries.get(client_id)
            if entry is not None and entry.url != url:
                entry = None
            fresh = entry is not None and entry.keys is not None and now < entry.fresh_until
            if fresh and entry is not None and entry.keys is not None and kid in entry.keys:
                return entry.keys[kid]
            if entry is not None and now - entry.fetched_at < MIN_REFETCH:
                raise KeyUnavailable("unknown-kid" if fresh else entry.failure or "unknown-kid")
            try:
                keys, max_age = self._fetch(url)
            except FetchFailed as exc:
                kept = entry if fresh and entry is not None else None
                self._store(
                    client_id,
                    _Entry(
                        url=url,
                        keys=kept.keys if kept else None,
                        fresh_until=kept.fresh_until if kept else now,
                        fetched_at=now,
                        failure=exc.reason,
                    ),
                )
                raise KeyUnavailable(exc.reason) from exc
            self._store(client_id, _Entry(url, keys, now + max_age, now))
            if kid in keys:
                return keys[kid]
            raise KeyUnavailable("unknown-kid")


#: The process's cache, used by the token endpoint (tests may replace it).
CACHE = JwksCache()
