"""Exact vread of the referral Task: every version as it was, sealed; unreadable once erased."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from consent import erasure
from consent.models import ErasureBasis
from gateway.workflow.models import Referral, TaskVersion
from kernel.caller import Role
from tests.fhir_schema import assert_valid
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network

_SECRET = "Four sessions held with Amina at the Harbour office"


def _vread(network: Network, rid: str, version: int) -> dict[str, object]:
    answer = network.sender.get(f"/fhir/Task/{rid}/_history/{version}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == f'W/"{version}"'
    task: dict[str, object] = answer.json()
    assert task["meta"]["versionId"] == str(version)  # type: ignore[index]
    assert_valid(task)
    return task


def _erase(network: Network, db: Session) -> None:
    erasure.erase_client(
        db,
        actor="user:00000000-0000-4000-8000-0000000000ad",
        organisation_id=None,
        client_id=network.client_id,
        basis=ErasureBasis.DATA_SUBJECT_REQUEST,
        reason="Written request from the client, checked by the hub operator",
    )
    db.commit()
    db.expire_all()


def _mark_in_error(network: Network, rid: str) -> None:
    marked = network.sender.post(f"/referrals/{rid}/status", json={"status": "entered-in-error"})
    assert marked.status_code == 200, marked.text


def test_each_version_reads_as_it_was_outputs_included(network: Network, db: Session) -> None:
    rid = network.submit().json()["id"]
    accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    done = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "completed", "outputs": [{"description": _SECRET}]},
    )
    assert done.status_code == 200, done.text
    read = network.sender.get(f"/fhir/Task/{rid}").json()
    _mark_in_error(network, rid)  # version 4: the completed Task is now a past version

    first, second, third = (_vread(network, rid, n) for n in (1, 2, 3))
    assert first["status"] == "requested"
    assert "output" not in first and "contained" not in first
    assert second["status"] == "accepted"
    assert "output" not in second and "contained" not in second
    assert third["status"] == "completed"
    assert third["output"] == read["output"] and third["contained"] == read["contained"]
    assert third == read
    assert first["lastModified"] != third["lastModified"]
    assert _vread(network, rid, 4)["status"] == "entered-in-error"
    assert network.sender.get(f"/fhir/Task/{rid}/_history/5").status_code == 404
    assert network.second.get(f"/fhir/Task/{rid}/_history/1").status_code == 404

    kept = db.scalars(select(TaskVersion).where(TaskVersion.referral_id == uuid.UUID(rid))).all()
    assert sorted(k.version for k in kept) == [1, 2, 3, 4]
    assert not [k for k in kept if _SECRET.encode() in bytes(k.sealed)]  # sealed, not clear


def test_a_rejections_own_reason_text_is_in_that_version(network: Network) -> None:
    rid = network.submit().json()["id"]
    text = "Our Tuesday group is full until March; try Harbour House."
    rejected = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "rejected", "reason": "no-capacity", "reason_text": text},
    )
    assert rejected.status_code == 200, rejected.text
    _mark_in_error(network, rid)
    assert "statusReason" not in _vread(network, rid, 1)
    reason = _vread(network, rid, 2)["statusReason"]
    assert reason["text"] == text  # type: ignore[index]
    assert reason["coding"][0]["code"] == "no-capacity"  # type: ignore[index]


def test_after_erasure_no_version_discloses_content(network: Network, db: Session) -> None:
    rid = network.submit().json()["id"]
    network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    done = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "completed", "outputs": [{"description": _SECRET}]},
    )
    assert done.status_code == 200, done.text
    _erase(network, db)
    read = network.sender.get(f"/fhir/Task/{rid}")
    for version in (1, 2, 3):
        for side in (network.sender, network.receiver):
            answer = side.get(f"/fhir/Task/{rid}/_history/{version}")
            assert answer.status_code == read.status_code == 410, answer.text
            assert answer.json()["resourceType"] == "OperationOutcome"
            assert _SECRET not in answer.text


def test_a_referral_from_before_stored_versions_is_rebuilt_from_history(
    network: Network, db: Session
) -> None:
    rid = network.submit().json()["id"]
    network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "rejected", "reason": "no-capacity", "reason_text": "Full until March"},
    )
    db.execute(delete(TaskVersion).where(TaskVersion.referral_id == uuid.UUID(rid)))
    db.commit()
    assert _vread(network, rid, 1)["status"] == "requested"
    assert _vread(network, rid, 2)["statusReason"]["text"] == "Full until March"  # type: ignore[index]


def test_erasure_clears_the_receivers_own_wording_of_a_reason(
    network: Network,
    db: Session,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    """The one free text the workflow keeps in clear goes with the client's data key."""
    rid = network.submit().json()["id"]
    text = "Not safe to visit at home: her brother-in-law answers the door."
    rejected = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "rejected", "reason": "not-eligible", "reason_text": text},
    )
    assert rejected.status_code == 200, rejected.text
    assert text in network.sender.get(f"/fhir/Task/{rid}").text
    hub = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    body = {"basis": "data-subject-request", "reason": "Request DSR-2026-0077 in writing"}
    erased = hub.post(f"/admin/clients/{network.client_id}/$erase", json=body)
    assert erased.status_code == 200, erased.text
    db.expire_all()
    referral = db.get(Referral, uuid.UUID(rid))
    assert referral is not None and referral.status_reason_text is None
    assert referral.status_reason == "not-eligible"  # the code stays, the wording goes
    for side in (network.sender, network.receiver):
        assert text not in side.get(f"/fhir/Task/{rid}").text
        assert text not in side.get(f"/referrals/{rid}").text
