"""Push channels, registered in one table: how a message travels to each kind of target.

- `fhir-rest` (directory `connection_type` `hl7-fhir-rest`): a Bundle (or Parameters) is
  `POST {base}`, any other resource `PUT {base}/{type}/{id}`;
- `webhook` (`rest-hook`): `POST {address}`;
- `subscription` (a receiver's FHIR Subscription): `POST {channel.endpoint}`, an id-only
  notification;
- `inbox`: nothing pushed; the receiver pulls (`GET /delivery/inbox`).

Content always travels sealed (`Content-Type: application/jose`, a compact JWE holding
the hub's compact JWS, see `envelope.py`); a target without a usable public key gets no
content (the message waits in the inbox). Notifications carry ids only, in clear JSON,
with a detached JWS of the body in `X-Refhub-Signature`. Every request names the message
in `X-Refhub-Message-Id` (also signed, as `refhub-msg`).

`push()` performs one request with explicit timeouts and classifies the answer: 2xx is
delivered (whatever the body), 408, 429, 5xx, timeouts and broken connections are worth a
retry (honouring `Retry-After`), any other answer is a refusal.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import enum
import threading
import time
from dataclasses import dataclass, field

import httpx
from joserfc import jws
from joserfc.jwk import ECKey

from gateway.delivery.envelope import MESSAGE_TYPE, REGISTRY, SIGNING_ALGORITHMS
from kernel.db import utcnow

__all__ = [
    "CONNECTION_TYPES",
    "Channel",
    "Push",
    "PushOutcome",
    "PushResult",
    "detached_signature",
    "push",
    "retry_after_seconds",
]

MESSAGE_ID_HEADER = "X-Refhub-Message-Id"
KIND_HEADER = "X-Refhub-Message-Kind"
SIGNATURE_HEADER = "X-Refhub-Signature"
JOSE = "application/jose"
FHIR_JSON = "application/fhir+json"


class Channel(enum.StrEnum):
    FHIR_REST = "fhir-rest"
    WEBHOOK = "webhook"
    SUBSCRIPTION = "subscription"
    INBOX = "inbox"


#: The directory's endpoint connection types and the channel each one uses.
CONNECTION_TYPES: dict[str, Channel] = {
    "hl7-fhir-rest": Channel.FHIR_REST,
    "rest-hook": Channel.WEBHOOK,
}


class PushOutcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True)
class Push:
    """One request to one target, fully prepared (no database needed to send it)."""

    channel: Channel
    target: str  # "Endpoint/<id>" or "Subscription/<id>"
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class PushResult:
    push: Push
    outcome: PushOutcome
    started_at: dt.datetime
    elapsed_ms: int
    status_code: int | None = None
    error: str | None = None  # a code: http-503, timeout, connect-error; never content
    retry_after: float | None = None


def detached_signature(
    body: bytes, *, message_id: str, content_type: str, signing_key: ECKey
) -> str:
    """A compact JWS over `body` with the payload part left empty (RFC 7515 appendix F):
    the receiver re-inserts base64url(body) and verifies with the hub's JWKS."""
    header = {
        "alg": "ES256",
        "kid": signing_key.kid or signing_key.thumbprint(),
        "typ": MESSAGE_TYPE,
        "cty": content_type,
        "refhub-msg": message_id,
        "iat": int(time.time()),
    }
    signed = jws.serialize_compact(
        header, body, signing_key, algorithms=SIGNING_ALGORITHMS, registry=REGISTRY
    )
    protected, _payload, signature = signed.split(".")
    return f"{protected}..{signature}"


def attach(detached: str, body: bytes) -> str:
    """The compact JWS a detached signature stands for, with `body` as payload."""
    protected, _, signature = detached.split(".")
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    return f"{protected}.{payload}.{signature}"


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or utcnow())).total_seconds())


_RETRY_STATUSES = frozenset({408, 429})
_clients: dict[tuple[float, float], httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(timeout: float, connect_timeout: float) -> httpx.Client:
    """One pooled client per process and timeout pair (created after a worker fork)."""
    key = (timeout, connect_timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=connect_timeout),
                follow_redirects=False,
                headers={"User-Agent": "refhub-delivery"},
            )
            _clients[key] = client
        return client


def push(request: Push, *, timeout: float, connect_timeout: float) -> PushResult:
    """Send one prepared request; never raises for what the receiver or network does."""
    started, clock = utcnow(), time.perf_counter()

    def result(outcome: PushOutcome, **fields: object) -> PushResult:
        elapsed = int((time.perf_counter() - clock) * 1000)
        return PushResult(request, outcome, started, elapsed, **fields)  # type: ignore[arg-type]

    deadline = time.monotonic() + timeout
    try:
        with _client(timeout, connect_timeout).stream(
            request.method, request.url, content=request.body, headers=request.headers
        ) as response:
            # read (and drop) the body within the overall deadline: a slow-drip answer
            # counts as a timeout, garbage in a 2xx is fine
            for _chunk in response.iter_bytes():
                if time.monotonic() > deadline:
                    return result(PushOutcome.RETRY, error="timeout")
    except httpx.TimeoutException:
        return result(PushOutcome.RETRY, error="timeout")
    except httpx.TransportError as exc:
        code = "connect-error" if isinstance(exc, httpx.ConnectError) else "transport-error"
        return result(PushOutcome.RETRY, error=code)
    status = response.status_code
    if 200 <= status < 300:
        return result(PushOutcome.DELIVERED, status_code=status)
    if status in _RETRY_STATUSES or status >= 500:
        return result(
            PushOutcome.RETRY,
            status_code=status,
            error=f"http-{status}",
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    return result(PushOutcome.REFUSED, status_code=status, error=f"http-{status}")
