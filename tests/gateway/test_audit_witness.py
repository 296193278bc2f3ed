"""The audit witness: checkpoints kept outside the database expose what the database alone
cannot (a rehashed chain with its checkpoints deleted, a truncated tail), and checkpoints
are signed and witnessed often enough."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import service as audit_service
from gateway.audit import tasks as audit_tasks
from gateway.audit.models import AuditCheckpoint
from gateway.audit.witness import CURSOR_NAME, FileWitness, HttpWitness, Witnesses
from kernel import outbox
from kernel.settings import Settings, reset_settings_cache
from tests.conftest import Databases
from tests.gateway.test_audit_verify import (
    Chain,
    add_records,
    build_chain,
    checkpoint_and_witness,
    disable_guard,
    rehash_from,
    verify_cli,
    witness_env,
)


@pytest.fixture
def witness(tmp_path: Path) -> FileWitness:
    """This test's witness file (the run's data dir is shared by many databases)."""
    return FileWitness.in_folder(tmp_path / "audit-witness")


@pytest.fixture
def env(env_base: dict[str, str], witness: FileWitness) -> dict[str, str]:
    return witness_env(env_base, witness)


@pytest.fixture
def chain(databases: Databases, data_dir: Path, witness: FileWitness) -> Chain:
    """6 records, checkpointed and witnessed after the 4th and the 6th."""
    return build_chain(databases, data_dir, witness)


def _report(engine: Engine, key: Ed25519PrivateKey, file: FileWitness | None) -> dict[str, Any]:
    with Session(engine) as session:
        reading = file.read() if file is not None else None
        return audit_service.verify_chain(session, key.public_key(), witness=reading).as_dict()


def _tamper(engine: Engine, backend: str, *statements: str) -> None:
    with engine.begin() as conn:
        disable_guard(conn, backend)
        for statement in statements:
            conn.execute(text(statement))


def test_a_clean_chain_passes_against_the_witness(
    chain: Chain, witness: FileWitness, env: dict[str, str]
) -> None:
    url, engine, key = chain
    lines = [json.loads(line) for line in witness.path.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [4, 6]
    assert set(lines[0]) == {"seq", "head_hash", "signed_at", "key_id", "signature"}
    report = _report(engine, key, witness)
    assert report["ok"], report["problems"]
    assert report["witnessed_checkpoints"] == 2 and report["witnessed_seq"] == 6
    assert report["uncovered_records"] == 0 and report["unwitnessed_checkpoints"] == 0
    result = verify_cli(url, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"witness {witness.path}: 2 checkpoints, the last at record 6" in result.stdout
    assert "0 records not covered by any checkpoint" in result.stdout
    assert "audit chain OK" in result.stdout


def test_a_rehashed_chain_with_its_checkpoints_deleted_is_caught(
    chain: Chain, witness: FileWitness, env: dict[str, str], backend: str
) -> None:
    url, engine, key = chain
    _tamper(engine, backend, "DELETE FROM gateway_audit_checkpoint")
    rehash_from(engine, 3)
    # The finding: the database alone no longer shows anything wrong.
    assert _report(engine, key, None)["ok"]
    problems = _report(engine, key, witness)["problems"]
    assert isinstance(problems, list)
    for seq in (4, 6):
        assert f"record {seq} differs from its witnessed checkpoint (the chain was rewritten)" in (
            problems
        )
        assert (
            f"the witnessed checkpoint at record {seq} is missing from the database "
            "(checkpoints deleted)" in problems
        )
    result = verify_cli(url, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PROBLEM: record 4 differs from its witnessed checkpoint" in result.stdout
    assert "audit chain FAILED verification" in result.stdout


def test_a_truncated_tail_is_caught(
    chain: Chain, witness: FileWitness, env: dict[str, str], backend: str
) -> None:
    url, engine, key = chain
    _tamper(
        engine,
        backend,
        "DELETE FROM kernel_audit_record WHERE seq > 4",
        "UPDATE kernel_audit_head SET seq = 4, "
        "hash = (SELECT hash FROM kernel_audit_record WHERE seq = 4)",
        "DELETE FROM gateway_audit_checkpoint WHERE seq > 4",
    )
    assert _report(engine, key, None)["ok"]
    report = _report(engine, key, witness)
    assert report["problems"] == [
        "the witness holds a checkpoint at record 6 but the chain ends at 4 "
        "(records removed from the end)",
        "the witnessed checkpoint at record 6 is missing from the database (checkpoints deleted)",
    ]
    result = verify_cli(url, env)
    assert result.returncode == 1
    assert "PROBLEM: the witness holds a checkpoint at record 6" in result.stdout


def test_a_missing_or_altered_witness_is_a_problem(
    chain: Chain, witness: FileWitness, tmp_path: Path
) -> None:
    _url, engine, key = chain
    lines = witness.path.read_bytes().splitlines(keepends=True)
    altered = tmp_path / "altered.jsonl"
    entry = json.loads(lines[0])
    entry["head_hash"] = "0" * 64
    altered.write_bytes(json.dumps(entry).encode() + b"\n" + lines[1] + b"not json\n")
    problems = _report(engine, key, FileWitness(altered))["problems"]
    assert problems == [
        "witness line 3 is not a checkpoint (altered, or cut short by a crash)",
        "witnessed checkpoint at record 4 has an invalid signature (the witness was "
        "altered, or is another hub's)",
    ]
    problems = _report(engine, key, FileWitness(tmp_path / "absent.jsonl"))["problems"]
    assert isinstance(problems, list) and len(problems) == 1
    assert "absent.jsonl does not exist but the database holds 2 checkpoints" in problems[0]


def test_uncovered_records_are_counted(
    chain: Chain, witness: FileWitness, env: dict[str, str]
) -> None:
    url, engine, key = chain
    sessions = sessionmaker(bind=engine)
    add_records(sessions, range(6, 9))
    report = _report(engine, key, witness)
    assert report["ok"] and report["uncovered_records"] == 3
    with sessions.begin() as session:  # signed, but not (yet) in the witness
        audit_service.write_checkpoint(session, key)
    report = _report(engine, key, witness)
    assert report["ok"] and report["uncovered_records"] == 0
    assert report["witnessed_seq"] == 6 and report["unwitnessed_checkpoints"] == 1
    add_records(sessions, range(9, 11))
    checkpoint_and_witness(sessions, key, witness)
    add_records(sessions, range(11, 12))
    report = _report(engine, key, witness)
    assert report["witnessed_checkpoints"] == 4 and report["witnessed_seq"] == 11
    assert report["unwitnessed_checkpoints"] == 0 and report["uncovered_records"] == 1
    result = verify_cli(url, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 records not covered by any checkpoint" in result.stdout


def test_checkpoint_due_by_time_or_records(chain: Chain) -> None:
    _url, engine, _key = chain
    sessions = sessionmaker(bind=engine)
    with Session(engine) as session:
        assert not audit_service.checkpoint_due(session, every_records=1, every_seconds=60)
    add_records(sessions, range(6, 8))
    with Session(engine) as session:
        signed_at = session.scalar(select(func.max(AuditCheckpoint.signed_at)))
        assert signed_at is not None

        def due(every_records: int, seconds_later: float) -> bool:
            now = signed_at + dt.timedelta(seconds=seconds_later)
            return audit_service.checkpoint_due(
                session, every_records=every_records, every_seconds=300, now=now
            )

        assert not due(1000, 299)
        assert due(1000, 300)
        assert due(2, 0)
        assert not due(3, 0)


@pytest.fixture
def witnessing(chain: Chain, settings: Settings, tmp_path: Path) -> Iterator[FileWitness]:
    """The process's settings (tasks read them) with a checkpoint every 5 records and a
    witness folder of this test's; restored afterwards. (After `chain`: its records were
    added with the usual bound.)"""
    folder = tmp_path / "task-witness"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REFHUB_AUDIT_CHECKPOINT_EVERY_RECORDS", "5")
        mp.setenv("REFHUB_AUDIT_WITNESS_DIR", str(folder))
        reset_settings_cache()
        yield FileWitness.in_folder(folder)
    reset_settings_cache()


def _events(sessions: sessionmaker[Session], task: str) -> list[outbox.OutboxEvent]:
    with sessions() as session:
        query = select(outbox.OutboxEvent).where(outbox.OutboxEvent.task == task)
        return list(session.scalars(query.order_by(outbox.OutboxEvent.created_at)))


def _signed_seq(sessions: sessionmaker[Session]) -> int | None:
    with sessions() as session:
        return session.scalar(select(func.max(AuditCheckpoint.seq)))


def _seqs(file: FileWitness) -> list[int]:
    return [cp.seq for cp in file.read().checkpoints]


def test_a_checkpoint_is_triggered_after_n_records(chain: Chain, witnessing: FileWitness) -> None:
    _url, engine, _key = chain
    sessions = sessionmaker(bind=engine)
    for seq in range(7, 10):  # the chain holds 6: records 7 to 9 stay under the bound of 5
        add_records(sessions, range(seq - 1, seq))
        assert _events(sessions, audit_tasks.CHECKPOINT_TASK) == [], seq
    add_records(sessions, range(9, 10))  # record 10
    [event] = _events(sessions, audit_tasks.CHECKPOINT_TASK)
    assert event.dedupe_key == "audit.checkpoint@record:10"
    assert outbox.execute(sessions, event.id) is outbox.Outcome.DONE
    assert _signed_seq(sessions) == 10
    assert _seqs(witnessing) == [4, 6, 10]  # a new witness gets the earlier ones too
    add_records(sessions, range(10, 14))  # 11-14: nothing
    assert len(_events(sessions, audit_tasks.CHECKPOINT_TASK)) == 1
    add_records(sessions, range(14, 21))  # 15-21 in one commit: past 15 and 20, one event
    events = _events(sessions, audit_tasks.CHECKPOINT_TASK)
    assert [e.dedupe_key for e in events][1:] == ["audit.checkpoint@record:20"]
    assert outbox.execute(sessions, events[1].id) is outbox.Outcome.DONE
    assert _signed_seq(sessions) == 21 and _seqs(witnessing)[-1] == 21


def test_the_periodic_task_signs_when_due(chain: Chain, witnessing: FileWitness) -> None:
    _url, engine, _key = chain
    sessions = sessionmaker(bind=engine)
    spec = outbox.registered_tasks()["audit.checkpoint_if_due"]
    assert spec.every_seconds == audit_tasks.DUE_CHECK_EVERY_SECONDS

    def tick(key: str) -> None:
        with sessions.begin() as session:
            outbox.enqueue(session, "audit.checkpoint_if_due", dedupe_key=key)
        [event] = [e for e in _events(sessions, spec.name) if e.dedupe_key == key]
        assert outbox.execute(sessions, event.id) is outbox.Outcome.DONE

    add_records(sessions, range(6, 7))
    tick("tick-1")  # one record, the last checkpoint just signed: not due
    assert _signed_seq(sessions) == 6
    assert _seqs(witnessing) == [4, 6]  # but the new witness was caught up
    add_records(sessions, range(7, 8))  # 8: no multiple of 5 passed since 6
    add_records(sessions, range(8, 11))  # 9-11: passes 10, which enqueues audit.checkpoint
    tick("tick-2")  # 5 records since the last checkpoint: due (the record bound's backstop)
    assert _signed_seq(sessions) == 11 and _seqs(witnessing) == [4, 6, 11]


@dataclass
class _WitnessServer:
    """A witness on "another machine": records the JSON POSTed to it, or answers 503."""

    received: list[dict[str, object]] = field(default_factory=list)
    down: bool = False
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/witness"


@pytest.fixture
def witness_server() -> Iterator[_WitnessServer]:
    state = _WitnessServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.down:
                self.send_response(503)
            else:
                state.received.append(json.loads(body))
                self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=state.server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.server.shutdown()
    state.server.server_close()


def test_the_http_witness_gets_every_checkpoint_despite_an_outage(
    chain: Chain, tmp_path: Path, witness_server: _WitnessServer
) -> None:
    _url, engine, key = chain
    sessions = sessionmaker(bind=engine)
    folder = tmp_path / "with-http"
    file = FileWitness.in_folder(folder)
    witnesses = Witnesses(file, HttpWitness(witness_server.url, 5.0, folder / CURSOR_NAME))
    witness_server.down = True
    with Session(engine) as session:
        pending = audit_service.unwitnessed_checkpoints(session, witness=file)
    assert witnesses.export(pending) == 2  # the file has them; the witness is away
    assert witness_server.received == []
    add_records(sessions, range(6, 7))
    with sessions.begin() as session:
        audit_service.write_checkpoint(session, key)
        pending = audit_service.unwitnessed_checkpoints(session, witness=file)
    witness_server.down = False
    assert witnesses.export(pending) == 1
    assert [entry["seq"] for entry in witness_server.received] == [4, 6, 7]
    assert witness_server.received == [
        json.loads(line) for line in file.path.read_bytes().splitlines()
    ]
    assert witnesses.export([]) == 0  # nothing sent twice
    assert len(witness_server.received) == 3


def test_the_file_witness_appends_each_checkpoint_once(chain: Chain, witness: FileWitness) -> None:
    _url, engine, _key = chain
    with Session(engine) as session:
        everything = audit_service.unwitnessed_checkpoints(
            session, witness=FileWitness.in_folder(witness.folder / "empty")
        )
    before = witness.path.read_bytes()
    assert Witnesses(witness).export(everything) == 0
    assert witness.path.read_bytes() == before
    with witness.path.open("ab") as file:  # a write cut short by a crash
        file.write(b'{"seq": 7, "hea')
    add_records(sessionmaker(bind=engine), range(6, 7))
    checkpoint_and_witness(sessionmaker(bind=engine), _key, witness)
    lines = witness.path.read_bytes().splitlines()
    assert lines[:2] == before.splitlines() and lines[2] == b'{"seq": 7, "hea'
    assert json.loads(lines[3])["seq"] == 7
    assert witness.read().bad_lines == (3,)
