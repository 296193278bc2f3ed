"""Sign-in hardening: the second factor locks and takes each code once, the session token
changes when it passes, the password lock-out is capped and never a 500, unknown and known
accounts answer alike, and each client address is throttled (in process and in Redis)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.auth import credentials, lockout, throttle
from gateway.auth.dependencies import SESSION_COOKIE
from gateway.dependencies import get_session
from gateway.runtime import Runtime
from kernel.audit import AuditRecord
from kernel.db import end_transaction, utcnow
from kernel.settings import Settings
from tests.gateway.staff import Account, MakeAccount, StaffClient

MakeApp = Callable[..., FastAPI]
ROOMY = {"sign_in_throttle_attempts": 1000}  # for tests about the accounts, not addresses


@pytest.fixture
def make_app(settings: Settings, db: Session) -> MakeApp:
    """An app on the test's transaction with some settings changed (a fresh throttle each)."""

    def make(**overrides: Any) -> FastAPI:
        application = create_app(Runtime(settings.model_copy(update=overrides)), run_relay=False)

        def _session() -> Iterator[Session]:
            try:
                yield db
            except BaseException as error:
                end_transaction(db, error)
                raise
            end_transaction(db, None)

        application.dependency_overrides[get_session] = _session
        return application

    return make


def _wrong_code(account: Account) -> str:
    """A code valid for none of the steps around now (the hub's drift window)."""
    assert account.totp_secret is not None
    for digit in "0123456789":
        code = digit * 6
        if all(
            credentials.totp_step(account.totp_secret, code, now=utcnow().timestamp() + shift)
            is None
            for shift in (0, 30, 60)
        ):
            return code
    raise AssertionError("every candidate is a valid code")


def _password(client: StaffClient, email: str, password: str) -> Any:
    return client.http.post("/auth/login", json={"email": email, "password": password})


def _stable(response: Any) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k != "request_id"}


def _audited(db: Session, action: str, **where: Any) -> list[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.action == action)
    for name, value in where.items():
        query = query.where(getattr(AuditRecord, name) == value)
    return list(db.scalars(query.order_by(AuditRecord.seq)))


# --- the second factor -------------------------------------------------------------------


def test_thirty_wrong_codes_lock_the_sign_in(
    make_app: MakeApp, make_account: MakeAccount, db: Session
) -> None:
    account = make_account()
    client = StaffClient(make_app(**ROOMY))
    assert client.login(account, with_code=False) == "totp"
    wrong = _wrong_code(account)
    answers = [client.post("/auth/login/totp", json={"code": wrong}) for _ in range(30)]
    assert {a.status_code for a in answers} == {401}
    right = client.post("/auth/login/totp", json={"code": account.code()})
    assert right.status_code == 401  # locked: the pending session ended with the lock
    assert client.get("/auth/me").status_code == 401
    again = StaffClient(make_app(**ROOMY))
    assert _password(again, account.user.email, account.password).status_code == 401
    locks = _audited(db, "auth.account_locked", subject=f"User/{account.user.id}")
    assert locks and locks[0].detail["factor"] == "totp"
    assert locks[0].detail["failures"] == lockout.MAX_FAILURES
    assert locks[0].detail["pending_sessions_ended"] == 1
    failures = _audited(db, "auth.second_factor", outcome="denied", actor=f"user:{account.user.id}")
    assert [r.detail["reason"] for r in failures] == ["bad-totp"] * lockout.MAX_FAILURES


def test_signing_in_again_buys_no_more_code_guesses(
    make_app: MakeApp, make_account: MakeAccount
) -> None:
    account = make_account()
    app = make_app(**ROOMY)
    wrong = _wrong_code(account)
    first = StaffClient(app)
    first.login(account, with_code=False)
    for _ in range(lockout.MAX_FAILURES - 1):
        assert first.post("/auth/login/totp", json={"code": wrong}).status_code == 401
    second = StaffClient(app)
    assert second.login(account, with_code=False) == "totp"  # the password resets nothing
    assert second.post("/auth/login/totp", json={"code": wrong}).status_code == 401
    assert second.post("/auth/login/totp", json={"code": account.code()}).status_code == 401
    assert second.get("/auth/me").status_code == 401


def test_a_code_is_accepted_once(app: FastAPI, make_account: MakeAccount, db: Session) -> None:
    account = make_account()
    code = account.code()
    phone, laptop = StaffClient(app), StaffClient(app)
    phone.login(account, with_code=False)
    assert phone.post("/auth/login/totp", json={"code": code}).json() == {"next_step": "done"}
    laptop.login(account, with_code=False)
    replayed = laptop.post("/auth/login/totp", json={"code": code})
    assert replayed.status_code == 401
    assert laptop.get("/auth/me").status_code == 403  # still short of the second factor
    denied = _audited(db, "auth.second_factor", outcome="denied", actor=f"user:{account.user.id}")
    assert denied[-1].detail["reason"] == "replayed-totp"
    # A later code still works (the account is not locked by one replay).
    assert laptop.post("/auth/login/totp", json={"code": account.code()}).status_code == 200


def test_the_session_token_changes_when_the_second_factor_passes(
    app: FastAPI, make_account: MakeAccount
) -> None:
    account = make_account()
    client = StaffClient(app)
    client.login(account, with_code=False)
    before = client.http.cookies[SESSION_COOKIE]
    passed = client.post("/auth/login/totp", json={"code": account.code()})
    assert passed.status_code == 200
    after = client.http.cookies[SESSION_COOKIE]
    assert after and after != before
    assert client.get("/auth/me").status_code == 200
    fixated = TestClient(app, cookies={SESSION_COOKIE: before})
    assert fixated.get("/auth/me").status_code == 401  # the pre-sign-in token is dead


# --- passwords ---------------------------------------------------------------------------


def test_forty_wrong_passwords_answer_as_an_unknown_account_does(
    make_app: MakeApp, make_account: MakeAccount, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """401 every time (never a 500), the very answer an unknown account gets, with the same
    timing equaliser (one argon2 verification); each failure audited; the lock capped."""
    account = make_account()
    client = StaffClient(make_app(**ROOMY))
    verified: list[bool] = []
    real_verify = credentials.verify_password

    def counting(stored_hash: str | None, password: str) -> bool:
        verified.append(stored_hash is not None)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(credentials, "verify_password", counting)
    unknown = _password(client, "nobody@example.org", "wrong password!")
    assert unknown.status_code == 401
    for attempt in range(40):  # through the lock and past where the back-off overflowed
        known = _password(client, account.user.email, f"wrong password {attempt}")
        assert known.status_code == unknown.status_code, (attempt, known.text)
        assert _stable(known) == _stable(unknown)
        assert known.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    assert _stable(_password(client, "nobody@example.org", "wrong password!")) == _stable(known)
    assert verified == [False] + [True] * 40 + [False]
    denied = _audited(db, "auth.sign_in", outcome="denied", actor=f"user:{account.user.id}")
    assert len(denied) == 40
    assert [r.detail["reason"] for r in denied[-3:]] == ["locked"] * 3
    db.refresh(account.user)
    assert account.user.locked_until is not None
    assert account.user.locked_until - utcnow() <= lockout.LOCK_CAP
    locks = _audited(db, "auth.account_locked", subject=f"User/{account.user.id}")
    assert len(locks) == 40 - lockout.MAX_FAILURES + 1
    assert locks[-1].detail["seconds"] == lockout.LOCK_CAP.total_seconds()
    # The right password is refused too while locked, the same way.
    assert _stable(_password(client, account.user.email, account.password)) == _stable(unknown)


def test_the_back_off_doubles_up_to_its_cap() -> None:
    minutes = [lockout.lock_duration(n) for n in range(1, 12)]
    assert minutes[: lockout.MAX_FAILURES - 1] == [None] * (lockout.MAX_FAILURES - 1)
    assert minutes[lockout.MAX_FAILURES - 1 :] == [
        dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15, 15)
    ]
    assert lockout.lock_duration(10**9) == lockout.LOCK_CAP


# --- per-address throttles ---------------------------------------------------------------


def _assert_throttled(response: Any, window: float) -> int:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window
    return retry_after


def _address() -> tuple[str, int]:
    """A client address of this test's own (Redis windows outlive an app)."""
    suffix = uuid.uuid4().int
    return (f"10.{suffix % 250}.{suffix // 250 % 250}.{suffix // 62500 % 250}", 50000)


@pytest.fixture(params=["memory", "redis"])
def throttled(request: pytest.FixtureRequest, make_app: MakeApp) -> FastAPI:
    """An app allowing 3 sign-in attempts per 5 minutes and 2 token requests per minute,
    counted in process, or in the run's real Redis (`REFHUB_TEST_REDIS_URL`)."""
    limits: dict[str, Any] = {"sign_in_throttle_attempts": 3, "token_throttle_requests": 2}
    if request.param == "redis":
        limits["broker_url"] = request.getfixturevalue("redis_url")
    return make_app(**limits)


def test_sign_in_is_throttled_per_address(
    throttled: FastAPI, make_account: MakeAccount, settings: Settings
) -> None:
    account = make_account()
    address = _address()
    http = TestClient(throttled, client=address)
    body = {"email": account.user.email, "password": "wrong password!"}
    assert [http.post("/auth/login", json=body).status_code for _ in range(3)] == [401] * 3
    over = http.post("/auth/login", json=body)
    _assert_throttled(over, settings.sign_in_throttle_window_seconds)
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["code"] == "too-many-attempts"
    right = http.post("/auth/login", json={**body, "password": account.password})
    assert right.status_code == 429  # refused before the password is even checked
    elsewhere = TestClient(throttled, client=_address())
    assert elsewhere.post("/auth/login", json={**body, "password": account.password}).is_success
    form = TestClient(throttled, client=address).post(
        "/ui/login", data={"email": account.user.email, "password": "x", "csrf_token": "t"}
    )
    _assert_throttled(form, settings.sign_in_throttle_window_seconds)
    assert "Too many sign-in attempts" in form.text  # the form again, not a raw error body
    if throttled.state.runtime.settings.broker_url:
        window = redis.Redis.from_url(throttled.state.runtime.settings.broker_url)
        key = f"{throttle.KEY_PREFIX}sign-in:{address[0]}"
        assert window.zcard(key) == 3  # refused attempts are not counted
        assert 0 < window.pttl(key) <= settings.sign_in_throttle_window_seconds * 1000


def test_token_requests_are_throttled_per_address(throttled: FastAPI, settings: Settings) -> None:
    http = TestClient(throttled, client=_address())
    form = {"grant_type": "client_credentials"}
    assert [http.post("/auth/token", data=form).status_code for _ in range(2)] == [400, 400]
    over = http.post("/auth/token", data=form)
    _assert_throttled(over, settings.token_throttle_window_seconds)
    assert over.json()["error"] == "slow_down"
    assert over.headers["cache-control"] == "no-store"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_window_slides(kind: str, request: pytest.FixtureRequest) -> None:
    clock = _Clock()
    window: throttle.Window
    if kind == "redis":
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        window = throttle.RedisWindow(client, prefix=f"test:{uuid.uuid4().hex}:", clock=clock)
    else:
        window = throttle.MemoryWindow(clock=clock)
    limit = throttle.Limit("sign-in", attempts=2, window_seconds=60)
    assert window.hit("a", limit) is None
    clock.now += 20
    assert window.hit("a", limit) is None
    assert window.hit("a", limit) == pytest.approx(40)  # the first attempt leaves at 60
    assert window.hit("b", limit) is None  # another address has its own window
    clock.now += 40
    assert window.hit("a", limit) is None
    assert window.hit("a", limit) == pytest.approx(20)


def test_an_unreachable_redis_admits_at_once(settings: Settings) -> None:
    down = settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})  # nobody there
    found = throttle.for_settings(down)
    assert isinstance(found.window, throttle.RedisWindow)
    started = time.monotonic()
    assert found.window.hit("a", throttle.Limit("token", attempts=1, window_seconds=60)) is None
    assert time.monotonic() - started < 1.5  # no retries with back-off on a sign-in


def test_client_keys() -> None:
    assert throttle.client_key("192.0.2.7") == "192.0.2.7"
    assert throttle.client_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert throttle.client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert throttle.client_key(None) == "unknown"
    assert throttle.client_key("testclient") == "testclient"


def test_the_count_ceiling_keeps_the_counter_in_range(
    make_account: MakeAccount, db: Session
) -> None:
    account = make_account()
    account.user.failed_logins = 10**6
    db.flush()
    assert lockout.refuse(db, account.user, "bad-password", "auth.sign_in").status == 401
    assert account.user.failed_logins == 10**6
