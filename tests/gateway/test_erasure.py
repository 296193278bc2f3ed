"""Erasure over HTTP (hub admins only) and on the command line (with confirmation), and
KEK rotation with the real `refhub keys` commands on a database of its own."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from consent import clients, vault
from consent.models import Client
from consent.schemas import IdentityIn
from gateway.runtime import Runtime
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.settings import reset_settings_cache
from tests.conftest import REFHUB, Databases
from tests.consent.factories import make_client, staff
from tests.gateway.staff import Account, MakeAccount, StaffClient

BODY = {"basis": "data-subject-request", "reason": "Request DSR-2026-0042 received in writing"}


def test_only_hub_admins_erase_and_twice_is_a_conflict(
    db: Session, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    worker = make_account(roles=(Role.CASE_WORKER,))
    person = make_client(db, staff(worker.org.id), name="Api Erased Person")
    url = f"/admin/clients/{person.id}/$erase"
    org_admin = staff_client(make_account(org=worker.org, roles=(Role.ORG_ADMIN,)))
    assert org_admin.post(url, json=BODY).status_code == 403
    assert staff_client(worker).post(url, json=BODY).status_code == 403
    hub = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    assert hub.post(url, json={"basis": "because", "reason": BODY["reason"]}).status_code == 422
    assert hub.post(url, json={"basis": "court-order", "reason": "x"}).status_code == 422
    assert hub.post(f"/admin/clients/{uuid.uuid4()}/$erase", json=BODY).status_code == 404

    done = hub.post(url, json=BODY)

    assert done.status_code == 200, done.text
    assert done.json()["basis"] == "data-subject-request"
    again = hub.post(url, json=BODY)
    assert again.status_code == 409 and again.json()["code"] == "already-erased"
    identity = staff_client(worker).get(f"/consent/clients/{person.id}")
    assert identity.status_code == 410 and identity.json()["code"] == "client-erased"
    assert "Api Erased" not in identity.text
    records = db.scalars(
        select(AuditRecord).where(
            AuditRecord.subject == f"Patient/{person.id}", AuditRecord.action == "client.erase"
        )
    ).all()
    assert [r.outcome for r in records].count("success") == 1
    assert {r.detail.get("refused") for r in records if r.outcome == "denied"} >= {
        "role",
        "already-erased",
    }
    assert all("DSR-2026" not in str(r.detail) for r in records)


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REFHUB, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_cli_erase_asks_for_the_id_again(
    committed: Runtime, env_base: dict[str, str], tmp_path: Path
) -> None:
    with committed.sessions.begin() as session:
        person = make_client(session, staff(), name="Cli Erased Person")
        person_id = person.id
    env = {**env_base, "REFHUB_DATABASE_URL": committed.settings.database_url}
    args = ["clients", "erase", str(person_id), "--basis", "retention-ended"]
    args += ["--reason", "Retention period of seven years ended"]

    wrong = _run(args, env, stdin=f"{uuid.uuid4()}\n")
    assert wrong.returncode == 2 and "does not match; nothing was erased" in wrong.stderr
    with committed.sessions() as session:
        assert session.get(Client, person_id).wrapped_key is not None  # type: ignore[union-attr]

    right = _run(args, env, stdin=f"{person_id}\n")
    assert right.returncode == 0, right.stderr
    assert "erased (retention-ended)" in right.stdout
    with committed.sessions() as session:
        row = session.get(Client, person_id)
        assert row is not None and row.wrapped_key is None and row.erased_at is not None

    twice = _run([*args, "--yes"], env)
    assert twice.returncode == 2 and "already erased" in twice.stderr


def test_cli_rotation_resumable_then_retire(
    databases: Databases,
    env_base: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = databases.create()
    current, previous = tmp_path / "kek.key", tmp_path / "kek-previous"
    env = {
        **env_base,
        "REFHUB_DATABASE_URL": url,
        "REFHUB_KEK_FILE": str(current),
        "REFHUB_KEK_PREVIOUS_DIR": str(previous),
    }
    vault.generate_kek_file(current)
    engine = create_engine(url)
    monkeypatch.setenv("REFHUB_KEK_FILE", str(current))
    monkeypatch.setenv("REFHUB_KEK_PREVIOUS_DIR", str(previous))
    reset_settings_cache()
    try:
        with Session(engine) as session, session.begin():
            ids = [
                clients.register_client(
                    session,
                    staff(),
                    identity=IdentityIn.model_validate({"name": f"Rotated By Cli {i}"}),
                ).id
                for i in range(5)
            ]
        old_id = vault.load_keyring(current, previous).current.id

        refused = _run(["keys", "retire-old", "--yes"], env)
        assert refused.returncode == 0 and "no earlier KEKs" in refused.stdout
        rotated = _run(["keys", "rotate", "--batch-size", "2"], env)
        assert rotated.returncode == 0, rotated.stderr
        assert f"rotated from {old_id}" in rotated.stdout and "re-wrapped 5" in rotated.stdout
        again = _run(["keys", "rotate"], env)  # nothing unfinished: a further new KEK
        assert again.returncode == 0 and "re-wrapped 5" in again.stdout
        status = _run(["keys", "status"], env)
        assert "earlier KEK" in status.stdout and "MISSING" not in status.stdout
        retired = _run(["keys", "retire-old", "--yes"], env)
        assert retired.returncode == 0 and "destroyed 2 earlier KEK(s)" in retired.stdout
        assert list(previous.glob("*.key")) == []

        with Session(engine) as session:
            ring = vault.load_keyring(current, previous)
            for i, client_id in enumerate(ids):
                row = session.get(Client, client_id)
                assert row is not None and row.kek_id == ring.current.id
                assert clients.identity_of(row)["name"] == f"Rotated By Cli {i}"
            runs = session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action.in_(["keys.rotate", "keys.retire"]))
                .order_by(AuditRecord.seq)
            ).all()
            assert [(r.action, r.detail.get("rewrapped")) for r in runs] == [
                ("keys.rotate", 5),
                ("keys.rotate", 5),
                ("keys.retire", None),
            ]
            assert all("Rotated By" not in str(r.detail) for r in runs)
    finally:
        monkeypatch.undo()
        reset_settings_cache()
        engine.dispose()
