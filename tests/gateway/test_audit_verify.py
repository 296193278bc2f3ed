"""`refhub audit verify` passes an intact chain and catches every kind of tampering."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import service as audit_service
from gateway.audit.witness import FileWitness, Witnesses
from kernel import audit
from kernel.crypto import load_ed25519_private_key
from tests.conftest import REFHUB, Databases


def disable_guard(conn: object, backend: str) -> None:
    """What an attacker with owner rights does first: switch off the append-only trigger."""
    assert hasattr(conn, "execute")
    if backend == "postgresql":
        conn.execute(text("ALTER TABLE kernel_audit_record DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER kernel_audit_record_no_update"))
        conn.execute(text("DROP TRIGGER kernel_audit_record_no_delete"))


Chain = tuple[str, Engine, Ed25519PrivateKey]


@pytest.fixture
def witness(tmp_path: Path) -> FileWitness:
    """This test's witness file (the run's data dir is shared by many databases)."""
    return FileWitness.in_folder(tmp_path / "audit-witness")


def witness_env(env_base: dict[str, str], witness: FileWitness) -> dict[str, str]:
    """The environment of a `refhub` subprocess reading `witness`."""
    return {**env_base, "REFHUB_AUDIT_WITNESS_DIR": str(witness.folder)}


@pytest.fixture
def env(env_base: dict[str, str], witness: FileWitness) -> dict[str, str]:
    return witness_env(env_base, witness)


def add_records(sessions: sessionmaker[Session], seqs: range) -> None:
    with sessions.begin() as session:
        for i in seqs:
            audit.record(
                session,
                actor=f"user:u{i}",
                action="referral.submit",
                organisation="org-a",
                subject=f"ServiceRequest/{i}",
            )


def checkpoint_and_witness(
    sessions: sessionmaker[Session], key: Ed25519PrivateKey, witness: FileWitness
) -> None:
    """What the checkpoint task does: sign the head, commit, then append to the witness."""
    with sessions.begin() as session:
        audit_service.write_checkpoint(session, key)
        pending = audit_service.unwitnessed_checkpoints(session, witness=witness)
    Witnesses(witness).export(pending)


def build_chain(databases: Databases, data_dir: Path, witness: FileWitness) -> Chain:
    """A fresh database holding 6 records, checkpointed (and witnessed) after the 4th and
    the 6th."""
    url = databases.create()
    engine = create_engine(url)
    key = load_ed25519_private_key(data_dir / "keys" / "audit-signing.pem")
    sessions = sessionmaker(bind=engine)
    for batch in (range(4), range(4, 6)):
        add_records(sessions, batch)
        checkpoint_and_witness(sessions, key, witness)
    return url, engine, key


@pytest.fixture
def chain(databases: Databases, data_dir: Path, witness: FileWitness) -> Chain:
    return build_chain(databases, data_dir, witness)


def verify_cli(url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REFHUB, "audit", "verify"],
        env={**env, "REFHUB_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_intact_chain_verifies(chain: Chain, env: dict[str, str]) -> None:
    result = verify_cli(chain[0], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 records, 2 signed checkpoints" in result.stdout
    assert "audit chain OK" in result.stdout


TAMPERING: dict[str, tuple[list[str], str]] = {
    "altered field": (
        ["UPDATE kernel_audit_record SET organisation = 'org-b' WHERE seq = 2"],
        "record 2 was altered",
    ),
    "deleted in the middle": (
        ["DELETE FROM kernel_audit_record WHERE seq = 3"],
        "records 3..3 are missing",
    ),
    "tail removed and head rewound": (
        [
            "DELETE FROM kernel_audit_record WHERE seq > 4",
            "UPDATE kernel_audit_head SET seq = 4, "
            "hash = (SELECT hash FROM kernel_audit_record WHERE seq = 4)",
        ],
        "checkpoint pins record 6 but the chain ends at 4",
    ),
    "rehashed rewrite": (
        # Rewrites record 5's hash and the rest of the chain consistently, as an attacker
        # who knows the hash recipe would; only the signed checkpoint exposes it.
        [],
        "record 6 differs from its signed checkpoint",
    ),
    "forged checkpoint": (
        [
            "UPDATE gateway_audit_checkpoint SET head_hash = "
            "(SELECT hash FROM kernel_audit_record WHERE seq = 3), seq = 3 WHERE seq = 4"
        ],
        "checkpoint at record 3 has an invalid signature",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected(
    case: str,
    chain: Chain,
    env: dict[str, str],
    backend: str,
) -> None:
    url, engine, _key = chain
    statements, expected = TAMPERING[case]
    with engine.begin() as conn:
        disable_guard(conn, backend)
        for statement in statements:
            conn.execute(text(statement))
    if case == "rehashed rewrite":
        rehash_from(engine, 5)
    result = verify_cli(url, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert "audit chain FAILED verification" in result.stdout


def rehash_from(engine: Engine, seq: int) -> None:
    """Rewrite records from `seq` on and rehash them, as an attacker who knows the recipe."""
    with Session(engine) as session, session.begin():
        rows = (
            session.query(audit.AuditRecord)
            .filter(audit.AuditRecord.seq >= seq - 1)
            .order_by(audit.AuditRecord.seq)
            .all()
        )
        prev = rows[0].hash
        for row in rows[1:]:
            row.actor = "user:attacker"
            row.prev_hash = prev
            row.hash = audit.chain_hash(audit.hashed_fields(row, row.seq), prev)
            prev = row.hash
        head = session.get(audit.AuditHead, 1)
        assert head is not None
        head.hash = prev


def test_verify_report_in_process(chain: Chain, witness: FileWitness) -> None:
    _url, engine, key = chain
    with Session(engine) as session:
        report = audit_service.verify_chain(session, key.public_key(), witness=witness.read())
    assert report.ok and report.records == 6 and report.checkpoints == 2
    assert report.witnessed_checkpoints == 2 and report.uncovered_records == 0
    with Session(engine) as session:
        other = Ed25519PrivateKey.generate().public_key()
        report = audit_service.verify_chain(session, other, witness=witness.read())
    assert not report.ok
    assert any("invalid signature" in problem for problem in report.problems)


def test_checkpoint_is_idempotent(chain: Chain) -> None:
    _url, engine, key = chain
    with Session(engine) as session, session.begin():
        assert audit_service.write_checkpoint(session, key) is None
