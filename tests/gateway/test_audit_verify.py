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
from kernel import audit
from kernel.crypto import load_ed25519_private_key
from tests.conftest import REFHUB, Databases


def _disable_guard(conn: object, backend: str) -> None:
    """What an attacker with owner rights does first: switch off the append-only trigger."""
    assert hasattr(conn, "execute")
    if backend == "postgresql":
        conn.execute(text("ALTER TABLE kernel_audit_record DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER kernel_audit_record_no_update"))
        conn.execute(text("DROP TRIGGER kernel_audit_record_no_delete"))


@pytest.fixture
def chain(databases: Databases, data_dir: Path) -> tuple[str, Engine, Ed25519PrivateKey]:
    """A fresh database holding 6 records, checkpointed after the 4th and the 6th."""
    url = databases.create()
    engine = create_engine(url)
    key = load_ed25519_private_key(data_dir / "keys" / "audit-signing.pem")
    sessions = sessionmaker(bind=engine)
    for batch in (range(4), range(4, 6)):
        with sessions.begin() as session:
            for i in batch:
                audit.record(
                    session,
                    actor=f"user:u{i}",
                    action="referral.submit",
                    organisation="org-a",
                    subject=f"ServiceRequest/{i}",
                )
        with sessions.begin() as session:
            audit_service.write_checkpoint(session, key)
    return url, engine, key


def _verify(url: str, env_base: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REFHUB, "audit", "verify"],
        env={**env_base, "REFHUB_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_intact_chain_verifies(
    chain: tuple[str, Engine, Ed25519PrivateKey], env_base: dict[str, str]
) -> None:
    result = _verify(chain[0], env_base)
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
    chain: tuple[str, Engine, Ed25519PrivateKey],
    env_base: dict[str, str],
    backend: str,
) -> None:
    url, engine, _key = chain
    statements, expected = TAMPERING[case]
    with engine.begin() as conn:
        _disable_guard(conn, backend)
        for statement in statements:
            conn.execute(text(statement))
    if case == "rehashed rewrite":
        _rehash_from(engine, 5)
    result = _verify(url, env_base)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert "audit chain FAILED verification" in result.stdout


def _rehash_from(engine: Engine, seq: int) -> None:
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


def test_verify_report_in_process(chain: tuple[str, Engine, Ed25519PrivateKey]) -> None:
    _url, engine, key = chain
    with Session(engine) as session:
        report = audit_service.verify_chain(session, key.public_key())
    assert report.ok and report.records == 6 and report.checkpoints == 2
    with Session(engine) as session:
        other = Ed25519PrivateKey.generate().public_key()
        report = audit_service.verify_chain(session, other)
    assert not report.ok
    assert any("invalid signature" in problem for problem in report.problems)


def test_checkpoint_is_idempotent(chain: tuple[str, Engine, Ed25519PrivateKey]) -> None:
    _url, engine, key = chain
    with Session(engine) as session, session.begin():
        assert audit_service.write_checkpoint(session, key) is None
