"""The production shape under concurrency (issue 14): `refhub serve` with 2 uvicorn workers
on PostgreSQL and a Celery worker on Redis (one worker on the embedded SQLite), loaded with
concurrent requests. Every request has a client-side timeout, so a hung worker fails here.

Seen failing before the fix: two concurrent submissions with one Idempotency-Key hung the
worker (the async route ran the synchronous database work on the event loop), and the
worker processes logged with structlog's development renderer instead of JSON.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import credentials
from gateway.auth.demo import DEMO_DOMAIN, DEMO_PASSWORD, demo_totp_secret
from tests.conftest import Databases, wait_for
from tests.gateway.production import TIMEOUT, Hub, Target, demo_targets, make_data_dir, start_hub
from tests.gateway.production import summary as make_summary

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
CONCURRENCY = 32


@pytest.fixture(scope="module")
def hub(
    backend: str,
    databases: Databases,
    env_base: dict[str, str],
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    postgres = backend == "postgresql"
    running = start_hub(
        env_base=env_base,
        database_url=databases.create(),
        broker_url=redis_url if postgres else None,
        data_dir=make_data_dir(tmp_path_factory.mktemp("production")),
        workers=2 if postgres else 1,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def targets(hub: Hub) -> list[Target]:
    found = demo_targets(hub)
    assert len(found) >= 2, found
    return found


def run_all(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """All `calls` at once, each on its own thread (at most CONCURRENCY in flight)."""
    start = threading.Barrier(min(len(calls), CONCURRENCY))

    def one(call: Callable[[], httpx.Response]) -> httpx.Response:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(10)
        return call()

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(one, calls))


def post(hub: Hub, slug: str, path: str, **kw: Any) -> Callable[[], httpx.Response]:
    headers = {**hub.agencies[slug].headers, **kw.pop("headers", {})}
    return lambda: httpx.post(f"{hub.base_url}{path}", headers=headers, timeout=TIMEOUT, **kw)


def as_fhir_bundle(hub: Hub, data: dict[str, Any]) -> bytes:
    converted = httpx.post(
        f"{hub.base_url}/convert?from=summary&to=fhir",
        json=data,
        headers=hub.agencies["northside"].headers,
        timeout=TIMEOUT,
    )
    assert converted.status_code == 200, converted.text
    bundle = json.loads(converted.json()["outputs"][0]["content"])
    assert bundle["type"] == "transaction"
    return json.dumps(bundle).encode()


def test_racing_retries_share_one_referral_per_idempotency_key(
    hub: Hub, targets: list[Target]
) -> None:
    run = dt.datetime.now(dt.UTC).strftime("%H%M%S%f")
    calls, keys = [], []
    for n in range(4):  # 4 keys as case summaries, 4 as FHIR transactions; 4 racers each
        key = f"race-{run}-summary-{n}"
        body = make_summary(targets[0], note=f"racing summary {n}")
        keys.append(key)
        idem = {"Idempotency-Key": key}
        calls += [post(hub, "northside", "/referrals", json=body, headers=idem)] * 4
    for n in range(4):
        key = f"race-{run}-fhir-{n}"
        bundle = as_fhir_bundle(hub, make_summary(targets[0], note=f"racing bundle {n}"))
        keys.append(key)
        fhir = {"Idempotency-Key": key, "Content-Type": "application/fhir+json"}
        calls += [post(hub, "northside", "/fhir", content=bundle, headers=fhir)] * 4
    answers = run_all(calls)
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {200, 201, 409, 422}, [a.text for a in answers if a.status_code >= 500]
    originals = Counter(
        a.request.headers["Idempotency-Key"]
        for a in answers
        if a.is_success and "Idempotent-Replayed" not in a.headers
    )
    assert originals == {key: 1 for key in keys}, statuses  # one original, the rest replays
    for key in keys:
        rows = hub.sql("SELECT count(*) FROM workflow_referral WHERE idempotency_key = :k", k=key)
        assert rows[0][0] == 1, key
    assert hub.ready()


def test_concurrent_status_changes_on_one_task_have_one_winner(
    hub: Hub, targets: list[Target]
) -> None:
    sent = post(hub, "northside", "/referrals", json=make_summary(targets[0], note="one winner"))()
    assert sent.status_code == 201, sent.text
    referral, version = sent.json()["id"], sent.headers["ETag"]
    path = f"/referrals/{referral}/status"
    accept = post(hub, "harbour", path, json={"status": "accepted"}, headers={"If-Match": version})
    answers = run_all([accept] * 8)
    statuses = Counter(a.status_code for a in answers)
    assert statuses[200] == 1, statuses
    assert set(statuses) <= {200, 409, 412}, statuses
    events = hub.sql(
        "SELECT count(*) FROM workflow_referral_event WHERE referral_id = :r AND to_status = "
        "'accepted'",
        r=referral if hub.database_url.startswith("postgresql") else referral.replace("-", ""),
    )
    assert events[0][0] == 1


def test_nothing_is_delivered_after_a_revocation_commits(hub: Hub, targets: list[Target]) -> None:
    target = targets[1]
    submit = post(hub, "northside", "/referrals", json=make_summary(target, note="in flight"))
    revoked_at: list[dt.datetime] = []

    def revoke() -> httpx.Response:
        answer = post(
            hub,
            "northside",
            f"/consent/consents/{target.consent_id}/revoke",
            json={"reason": "client-withdrew"},
        )()
        revoked_at.append(dt.datetime.now(dt.UTC))  # the revocation has committed by now
        return answer

    calls: list[Callable[[], httpx.Response]] = [submit] * 12 + [revoke] + [submit] * 12
    answers = run_all(calls)
    revocation = answers[12]
    assert revocation.status_code == 200, revocation.text
    submissions = answers[:12] + answers[13:]
    # After the revocation: 422 "That Consent is no longer in force" (or 403 at the decision)
    assert {a.status_code for a in submissions} <= {201, 403, 422}, [
        a.text for a in submissions if a.status_code not in (201, 403, 422)
    ]
    accepted = [a.json()["id"] for a in submissions if a.status_code == 201]

    # The receiver pulls its inbox and acknowledges everything it is given, until empty.
    harbour = hub.agencies["harbour"]

    def drained() -> bool:
        page = httpx.get(f"{hub.base_url}/delivery/inbox", headers=harbour.headers, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            ack = httpx.post(
                f"{hub.base_url}/delivery/inbox/{item['message_id']}/ack",
                headers=harbour.headers,
                timeout=TIMEOUT,
            )
            assert ack.status_code in (200, 409), ack.text
        return not page.json()["items"]

    wait_for(drained, timeout=60, what="the receiver's inbox to drain")
    late = [
        row
        for row in hub.sql(
            "SELECT referral_id, delivered_at, acknowledged_at FROM delivery_message "
            "WHERE kind = 'referral'"
        )
        if _hex(row[0]) in {_hex(r) for r in accepted}
        and any(_after(moment, revoked_at[0]) for moment in row[1:])
    ]
    assert late == []
    for referral in accepted:
        packet = httpx.get(
            f"{hub.base_url}/referrals/{referral}/packet", headers=harbour.headers, timeout=TIMEOUT
        )
        assert packet.status_code != 200


def _staff_session(hub: Hub, email: str) -> httpx.Client:
    """A demo staff member signed in (password, then authenticator code), CSRF header set."""
    http = httpx.Client(base_url=hub.base_url, timeout=TIMEOUT)
    signed = http.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert signed.status_code == 200, signed.text
    http.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    code = credentials.totp_code(demo_totp_secret(email))
    assert http.post("/auth/login/totp", json={"code": code}).status_code == 200
    return http


def test_concurrent_case_work_on_one_case_keeps_every_write(hub: Hub) -> None:
    """32 reassessments at once are numbered 1..n without a gap or a clash, and 32 status
    updates of one plan task all land (the case and task rows are locked, not raced)."""
    http = _staff_session(hub, f"caseworker@northside.{DEMO_DOMAIN}")
    cases = http.get("/cases?status=open&per_page=100").json()["items"]
    with_plan = [c for c in cases if http.get(f"/cases/{c['id']}/plan").status_code == 200]
    assert with_plan, "the demo loads a case plan"
    case_id = with_plan[0]["id"]
    body = {"assessed_on": dt.date.today().isoformat(), "risk_flags": ["homelessness"]}
    url = f"/cases/{case_id}/assessments"
    answers = run_all([lambda: http.post(url, json=body)] * CONCURRENCY)
    assert Counter(a.status_code for a in answers) == {201: CONCURRENCY}
    versions = sorted(v["version"] for v in http.get(url).json()["items"])
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) >= CONCURRENCY + 1

    plan = http.get(f"/cases/{case_id}/plan").json()
    task = next(t for g in plan["goals"] for t in g["tasks"] if t["referral_id"] is None)
    notes = [f"update {n}" for n in range(CONCURRENCY)]
    updates = [
        (
            lambda note=note: http.patch(
                f"/plan-tasks/{task['id']}", json={"status": "in-progress", "status_note": note}
            )
        )
        for note in notes
    ]
    assert Counter(a.status_code for a in run_all(updates)) == {200: CONCURRENCY}
    after = http.get(f"/cases/{case_id}/plan").json()
    final = next(t for g in after["goals"] for t in g["tasks"] if t["id"] == task["id"])
    assert final["status_note"] in notes


def _hex(value: Any) -> str:
    return str(value).replace("-", "")


def _after(moment: Any, limit: dt.datetime) -> bool:
    if moment is None:
        return False
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return bool(moment > limit)


def _hang_up_mid_body(hub: Hub, token: str) -> None:
    host, port = hub.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                "POST /referrals?format=summary HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 200000\r\n\r\n"
                '{"version": "1", "referral": {'
            ).encode()
        )


def test_clients_that_hang_up_mid_request_leave_the_workers_healthy(
    hub: Hub, targets: list[Target]
) -> None:
    token = hub.agencies["northside"].token
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _hang_up_mid_body(hub, token), range(24)))
    wait_for(hub.ready, timeout=15, what="/readyz after the disconnects")
    answer = post(hub, "northside", "/referrals", json=make_summary(targets[0], note="after"))()
    assert answer.status_code == 201, answer.text


def _serving_pids(hub: Hub) -> set[int]:
    records = [json.loads(line) for line in hub.log().splitlines() if line.strip()]
    return {
        r["pid"] for r in records if str(r.get("event", "")).startswith("Started server process")
    }


def _rss_kb(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _stream_100_mb(hub: Hub, path: str, declared: bool) -> tuple[int | str, int]:
    """POST 100 MB (declared in Content-Length, or chunked); what came back, bytes sent."""
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        block = b"x" * 65536
        for _ in range(1600):
            sent += len(block)
            yield block

    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(1600 * 65536)
    try:
        answer = httpx.post(f"{hub.base_url}{path}", content=chunks(), headers=headers, timeout=30)
        return answer.status_code, sent
    except httpx.TransportError as exc:  # the hub closed the connection at the limit
        return type(exc).__name__, sent


def test_oversized_bodies_are_cut_off_and_memory_stays_bounded(hub: Hub) -> None:
    pids = _serving_pids(hub)
    before = _rss_kb(pids)
    attempts = [(path, declared) for path in ("/auth/login", "/referrals") for declared in (1, 0)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda a: _stream_100_mb(hub, a[0], bool(a[1])), attempts * 2))
    for answer, sent in results:
        assert answer in (401, 413, "WriteError", "RemoteProtocolError", "ReadError"), answer
        assert sent < 40 * 1024 * 1024  # stopped far short of the 100 MB
    growth_mb = (_rss_kb(pids) - before) / 1024
    assert growth_mb < 64, growth_mb
    assert hub.ready()


def test_every_worker_logs_json_lines_without_secrets(hub: Hub) -> None:
    """Runs last in this module: the log holds everything the tests above did."""
    bogus = "not-a-real-token-but-secret-looking-0123456789"
    httpx.get(f"{hub.base_url}/auth/me", headers={"Authorization": f"Bearer {bogus}"}, timeout=10)
    log = hub.log()
    # Standard output holds the one line `refhub serve` prints for people, nothing logged.
    assert hub.printed().splitlines() == [f"refhub serving on {hub.base_url} (API docs at /docs)"]
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) > 20
    records = []
    for line in lines:
        records.append(json.loads(line))  # every line is one JSON object
    assert {r.get("event") for r in records} >= {"http.request"}
    for agency in hub.agencies.values():
        assert agency.token not in log
    assert bogus not in log
    assert "Traceback" not in log or "locals" not in log


def test_each_serving_worker_configured_its_own_logging(hub: Hub) -> None:
    """uvicorn logs "Started server process" from each worker after it built the app: as
    JSON with that worker's pid only if the worker configured logging itself."""
    started = _serving_pids(hub)
    serving = 2 if hub.database_url.startswith("postgresql") else 1
    assert len(started) == serving, started
