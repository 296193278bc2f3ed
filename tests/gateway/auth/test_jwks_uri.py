"""System clients registered by JWKS URL: a real HTTP server on 127.0.0.1 publishes the keys.

A token with a key from the URL; rotation at the URL (fetched again for a new kid, at most
once every 30 s); the kept set honours Cache-Control; a server that is down, slow, too
large, not JSON or not a valid JWKS makes the token request `invalid_client`, audited with
the reason, never a 500; the cache under concurrent requests.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.clients import remote_keys
from gateway.auth.clients import service as clients_service
from gateway.auth.clients.keys import PublicKey, public_key_from_jwk
from gateway.auth.clients.models import AccessToken, SystemClient
from gateway.auth.clients.remote_keys import FetchFailed, JwksCache, KeyUnavailable
from gateway.auth.clients.router import token_url
from gateway.runtime import Runtime
from kernel.audit import AuditRecord
from tests.gateway.auth.factories import (
    DEFAULT_SCOPES,
    make_organisation,
    org_admin,
    sign_assertion,
    token_form,
)

TOKEN_PATH = "/auth/token"


@dataclass
class Published:
    """What the local server answers at any path, and how often it was asked."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True
    delay: float = 0.0
    hits: int = 0

    def keys(self, *keys: tuple[str, ECKey]) -> None:
        jwks = {"keys": [{**key.as_dict(private=False), "kid": kid} for kid, key in keys]}
        self.body = json.dumps(jwks).encode()


class _Server(ThreadingHTTPServer):
    published: Published


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        published = self.server.published
        published.hits += 1
        if published.delay:
            time.sleep(published.delay)
        try:
            self.send_response(published.status)
            self.send_header("Content-Type", "application/json")
            for name, value in published.headers.items():
                self.send_header(name, value)
            if published.content_length:
                self.send_header("Content-Length", str(len(published.body)))
            self.end_headers()
            self.wfile.write(published.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub stopped reading (too large, too slow)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    published: Published
    url: str


@pytest.fixture
def site() -> Iterator[Site]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.published = Published()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(server.published, f"http://127.0.0.1:{server.server_address[1]}/jwks.json")
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fresh process cache on a clock the test moves."""
    clock = Clock()
    monkeypatch.setattr(remote_keys, "CACHE", JwksCache(clock=clock))
    return clock


@pytest.fixture
def aud(runtime: Runtime) -> str:
    return token_url(runtime.settings)


def _url_client(db: Session, url: str) -> SystemClient:
    org = make_organisation(db)
    return clients_service.register_client(
        db,
        org_admin(org),
        organisation_id=org.id,
        name="Case manager (URL keys)",
        jwks_uri=url,
        allowed_scopes=list(DEFAULT_SCOPES),
    )


def _token(client: TestClient, rc: SystemClient, aud: str, kid: str, key: ECKey) -> Any:
    assertion = sign_assertion(str(rc.id), key, aud, kid=kid, alg="ES384")
    return client.post(TOKEN_PATH, data=token_form(assertion))


def _last_reason(db: Session) -> str:
    record = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "auth.token.issue")
        .order_by(AuditRecord.seq.desc())
    ).first()
    assert record is not None and record.outcome == "denied"
    return str(record.detail["reason"])


def _assert_invalid_client(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }


def test_a_token_is_issued_with_a_key_from_the_url(
    client: TestClient, db: Session, site: Site, clock: Clock, aud: str
) -> None:
    key = ECKey.generate_key("P-384")
    site.published.keys(("k1", key))
    rc = _url_client(db, site.url)

    response = _token(client, rc, aud, "k1", key)
    assert response.status_code == 200, response.text
    caller = clients_service.caller_for_access_token(db, response.json()["access_token"])
    assert caller.id == rc.id and caller.organisation_id == rc.organisation_id
    row = db.scalars(select(AccessToken).where(AccessToken.client_id == rc.id)).one()
    assert row.client_key_id is None  # no registered key: it came from the URL

    clock.now += 200  # within the default 5 minutes: the kept set is used
    assert _token(client, rc, aud, "k1", key).status_code == 200
    assert site.published.hits == 1
    clock.now += 101  # past 5 minutes: fetched again
    assert _token(client, rc, aud, "k1", key).status_code == 200
    assert site.published.hits == 2


def test_a_key_rotated_at_the_url_works_after_one_refetch(
    client: TestClient, db: Session, site: Site, clock: Clock, aud: str
) -> None:
    old, new = ECKey.generate_key("P-384"), ECKey.generate_key("P-384")
    site.published.keys(("old", old))
    rc = _url_client(db, site.url)
    assert _token(client, rc, aud, "old", old).status_code == 200

    site.published.keys(("old", old), ("new", new))
    clock.now += 10  # a new kid within 30 s of the last fetch: not fetched again
    _assert_invalid_client(_token(client, rc, aud, "new", new))
    assert _last_reason(db) == "unknown-kid"
    assert site.published.hits == 1

    clock.now += 25  # 35 s after the fetch: one refetch, and the new key works
    assert _token(client, rc, aud, "new", new).status_code == 200
    assert site.published.hits == 2
    for _ in range(3):  # unknown kids right after cannot make the hub ask again
        _assert_invalid_client(_token(client, rc, aud, f"guess-{uuid.uuid4().hex}", new))
    assert site.published.hits == 2
    assert _token(client, rc, aud, "old", old).status_code == 200  # both published


def test_cache_control_max_age_is_honoured_within_limits(
    client: TestClient, db: Session, site: Site, clock: Clock, aud: str
) -> None:
    key = ECKey.generate_key("P-384")
    site.published.keys(("k", key))
    site.published.headers = {"Cache-Control": "public, max-age=3600"}
    rc = _url_client(db, site.url)
    assert _token(client, rc, aud, "k", key).status_code == 200
    clock.now += 3000
    assert _token(client, rc, aud, "k", key).status_code == 200
    assert site.published.hits == 1
    clock.now += 700
    assert _token(client, rc, aud, "k", key).status_code == 200
    assert site.published.hits == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 300.0),
        ("max-age=3600", 3600.0),
        ("public, max-age=10", 30.0),
        ("max-age=99999999", 86400.0),
        ("no-store", 30.0),
        ("no-cache, max-age=600", 30.0),
        ("max-age=soon", 300.0),
    ],
)
def test_the_keep_time_follows_max_age(header: str | None, seconds: float) -> None:
    assert remote_keys._max_age(header) == seconds


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


def test_a_server_that_is_down_is_invalid_client_and_audited(
    client: TestClient, db: Session, clock: Clock, aud: str
) -> None:
    rc = _url_client(db, _closed_port_url())
    _assert_invalid_client(_token(client, rc, aud, "k", ECKey.generate_key("P-384")))
    assert _last_reason(db) == "jwks-uri-unreachable"
    record = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "auth.token.issue")
        .order_by(AuditRecord.seq.desc())
    ).first()
    assert record is not None and record.subject == f"SystemClient/{rc.id}"


def _private_jwks() -> bytes:
    private = {**ECKey.generate_key("P-384").as_dict(private=True), "kid": "k"}
    return json.dumps({"keys": [private]}).encode()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"body": b'{"keys": [' + b" " * 70_000 + b"]}"}, "jwks-uri-too-large"),
        (
            {"body": b'{"keys": [' + b" " * 70_000 + b"]}", "content_length": False},
            "jwks-uri-too-large",
        ),
        ({"body": b"<html>Not here</html>"}, "jwks-uri-not-json"),
        ({"body": b'{"keys": []}'}, "jwks-uri-invalid"),
        ({"body": _private_jwks()}, "jwks-uri-invalid"),
        ({"body": b'{"keys": [1]}', "status": 500}, "jwks-uri-status"),
        ({"status": 302, "headers": {"Location": "https://example.org/k"}}, "jwks-uri-status"),
    ],
)
def test_an_unusable_answer_is_invalid_client_with_the_reason(
    client: TestClient,
    db: Session,
    site: Site,
    clock: Clock,
    aud: str,
    answer: dict[str, Any],
    reason: str,
) -> None:
    for name, value in answer.items():
        setattr(site.published, name, value)
    rc = _url_client(db, site.url)
    _assert_invalid_client(_token(client, rc, aud, "k", ECKey.generate_key("P-384")))
    assert _last_reason(db) == reason
    # A failing address is asked at most once every 30 seconds.
    _assert_invalid_client(_token(client, rc, aud, "k", ECKey.generate_key("P-384")))
    assert _last_reason(db) == reason
    assert site.published.hits == 1


def test_a_slow_server_is_cut_off(
    client: TestClient,
    db: Session,
    site: Site,
    clock: Clock,
    aud: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remote_keys, "FETCH_TIMEOUT", 0.3)
    key = ECKey.generate_key("P-384")
    site.published.keys(("k", key))
    site.published.delay = 1.0
    rc = _url_client(db, site.url)
    started = time.monotonic()
    _assert_invalid_client(_token(client, rc, aud, "k", key))
    assert time.monotonic() - started < 1.0
    assert _last_reason(db) == "jwks-uri-timeout"


def _public(kid: str) -> PublicKey:
    return public_key_from_jwk({**ECKey.generate_key("P-384").as_dict(private=False), "kid": kid})


def test_the_cache_fetches_once_for_concurrent_requests_and_never_blocks_others() -> None:
    slow_started, release = threading.Event(), threading.Event()
    calls: list[str] = []
    calls_lock = threading.Lock()

    def fetch(url: str) -> tuple[dict[str, PublicKey], float]:
        with calls_lock:
            calls.append(url)
        if url == "https://slow.example/jwks":
            slow_started.set()
            assert release.wait(10)
        return {"k": _public("k")}, 300.0

    cache = JwksCache(fetch=fetch)
    slow, quick = uuid.uuid4(), uuid.uuid4()
    found: list[str] = []

    def ask() -> None:
        found.append(cache.key(slow, "https://slow.example/jwks", "k").kid)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert slow_started.wait(10)
    # While the slow client's address is being fetched, another client is answered.
    assert cache.key(quick, "https://quick.example/jwks", "k").kid == "k"
    release.set()
    for thread in threads:
        thread.join(10)
    assert found == ["k"] * 8
    assert calls.count("https://slow.example/jwks") == 1


def test_a_failed_refetch_keeps_the_fresh_set() -> None:
    clock = Clock()
    answers: list[Any] = [({"a": _public("a")}, 300.0), FetchFailed("jwks-uri-unreachable")]

    def fetch(_url: str) -> tuple[dict[str, PublicKey], float]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        result: tuple[dict[str, PublicKey], float] = answer
        return result

    cache = JwksCache(fetch=fetch, clock=clock)
    client_id = uuid.uuid4()
    assert cache.key(client_id, "https://a.example/jwks", "a").kid == "a"
    clock.now += 31
    with pytest.raises(KeyUnavailable) as refused:
        cache.key(client_id, "https://a.example/jwks", "b")
    assert refused.value.reason == "jwks-uri-unreachable"
    assert cache.key(client_id, "https://a.example/jwks", "a").kid == "a"  # still kept
