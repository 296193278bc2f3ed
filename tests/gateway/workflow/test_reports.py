"""`/reports/referrals`: the figures match a seeded set of referrals made through the API,
the CSV parses in its documented layout, no organisation sees another's figures, and only
supervisors, org admins and hub admins (counts only) get them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from gateway.workflow.models import Referral
from gateway.workflow.reports_router import CSV_COLUMNS
from kernel import outbox
from kernel.caller import Role
from kernel.db import utcnow
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network

SignedIn = Callable[[Account], StaffClient]
H = dt.timedelta(hours=1)


@dataclass
class Seeded:
    ids: dict[str, str]


def _move(network: Network, rid: str, status: str, reason: str | None = None, *, by: Any) -> None:
    body: dict[str, Any] = {"status": status, **({"reason": reason} if reason else {})}
    if status == "completed":  # completion reports what was done (Gravity refer-9)
        body["outputs"] = [{"description": "Four counselling sessions held"}]
    moved = by.post(f"/referrals/{rid}/status", json=body)
    assert moved.status_code == 200, moved.text


def _backdate(db: Session, rid: str, hours: float) -> None:
    """Pretend the referral was sent `hours` before its answer (times are hours apart)."""
    referral = db.get(Referral, uuid.UUID(rid))
    assert referral is not None
    referral.authored_on -= hours * H
    db.flush()


@pytest.fixture
def seeded(network: Network, db: Session) -> Seeded:
    """Sent by `sender`: a, b, f, g, d to `receiver`; c, e, h to `second`."""
    r1, r2 = network.receiver, network.second
    ids = {
        name: network.submit(to, **kw).json()["id"]
        for name, to, kw in (
            ("a", r1, {}),
            ("b", r1, {}),
            ("c", r2, {}),
            ("d", r1, {}),
            ("e", r2, {}),
            ("f", r1, {}),
            ("g", r1, {}),
            ("h", r2, {"kind": "handover"}),
        )
    }
    _move(network, ids["a"], "rejected", "no-capacity", by=r1)
    _move(network, ids["b"], "rejected", "no-capacity", by=r1)
    _move(network, ids["c"], "rejected", "not-eligible", by=r2)
    for status in ("accepted", "in-progress", "completed"):
        _move(network, ids["d"], status, by=r1)
    _move(network, ids["e"], "accepted", by=r2)
    _move(network, ids["g"], "cancelled", "client-declined", by=network.sender)
    _move(network, ids["h"], "accepted", by=r2)
    for name, hours in (("a", 10), ("b", 2), ("c", 4), ("d", 20), ("e", 30), ("h", 6), ("f", 100)):
        _backdate(db, ids[name], hours)
    # f has waited 100 h for an answer: the monitor reminds its receiver
    outbox.registered_tasks()["workflow.monitor"].handler(db, now=utcnow().isoformat())
    db.flush()
    return Seeded(ids=ids)


def _supervisor(
    org: Any, make_account: MakeAccount, staff_client: SignedIn, role: Role = Role.SUPERVISOR
) -> StaffClient:
    return staff_client(make_account(org=org, roles=(role,)))


def test_sent_figures_match_the_seeded_referrals(
    network: Network, seeded: Seeded, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    ids, r1, r2 = seeded.ids, network.receiver, network.second
    client = _supervisor(network.sender.org, make_account, staff_client)
    got = client.get("/reports/referrals?side=sent")
    assert got.status_code == 200, got.text
    report = got.json()

    assert report["scope"] == "organisation" and report["grouped_by"] == "receiver"
    assert report["organisation_id"] == str(network.sender.id)
    assert report["total"] == 8
    assert report["by_status"] == {
        "accepted": 2, "cancelled": 1, "completed": 1, "rejected": 3, "requested": 1
    }  # fmt: skip
    assert report["by_kind"] == {"handover": 1, "referral": 7}
    by_org = {o["organisation_id"]: o for o in report["by_organisation"]}
    assert set(by_org) == {str(r1.id), str(r2.id)}
    assert by_org[str(r1.id)]["name"] == r1.org.name
    assert (by_org[str(r1.id)]["total"], by_org[str(r1.id)]["open"]) == (5, 1)
    assert (by_org[str(r2.id)]["total"], by_org[str(r2.id)]["open"]) == (3, 2)
    assert by_org[str(r1.id)]["by_status"] == {
        "cancelled": 1, "completed": 1, "rejected": 2, "requested": 1
    }  # fmt: skip
    # open: e (30 h), h (6 h), f (100 h)
    assert report["open_age"] == {"lt_1d": 1, "1d_3d": 1, "3d_7d": 1, "7d_30d": 0, "gt_30d": 0}
    reasons = {(r["status"], r["reason"]): r["count"] for r in report["reasons"]}
    assert reasons == {
        ("rejected", "no-capacity"): 2,
        ("rejected", "not-eligible"): 1,
        ("cancelled", "client-declined"): 1,
    }
    gaps = {
        (r["organisation_id"], r["status"], r["reason"]): r["count"]
        for r in report["reasons_by_receiver"]
    }
    assert gaps == {
        (str(r1.id), "rejected", "no-capacity"): 2,
        (str(r2.id), "rejected", "not-eligible"): 1,
        (str(r1.id), "cancelled", "client-declined"): 1,
    }
    # answers by the receiver (a sender's cancellation is not a response): 2 4 6 10 20 30 h
    assert report["time_to_response"] == {
        "count": 6, "sample": 6, "median_hours": 8.0, "p90_hours": 30.0
    }  # fmt: skip
    # acceptances d, e, h: 6 20 30 h
    assert report["time_to_acceptance"] == {
        "count": 3, "sample": 3, "median_hours": 20.0, "p90_hours": 30.0
    }  # fmt: skip
    assert report["handovers"] == {
        "total": 1, "transferred": 1, "first_contact_made": 0, "first_contact_overdue": 0
    }  # fmt: skip
    assert report["attention_count"] == 1
    [attention] = report["attention"]
    assert (attention["id"], attention["why"], attention["status"]) == (
        ids["f"], "reminded", "requested"
    )  # fmt: skip
    assert attention["counterpart_id"] == str(r1.id) and attention["age_hours"] >= 100
    assert str(network.client_id) not in got.text


def test_received_figures_and_no_leaks_between_organisations(
    network: Network, seeded: Seeded, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    ids = seeded.ids
    r1 = _supervisor(network.receiver.org, make_account, staff_client, Role.ORG_ADMIN)
    report = r1.get("/reports/referrals?side=received").json()
    assert report["grouped_by"] == "sender" and report["total"] == 5
    assert [o["organisation_id"] for o in report["by_organisation"]] == [str(network.sender.id)]
    assert report["by_status"] == {
        "cancelled": 1, "completed": 1, "rejected": 2, "requested": 1
    }  # fmt: skip
    assert [a["id"] for a in report["attention"]] == [ids["f"]]
    # what R1 sent: nothing
    assert r1.get("/reports/referrals?side=sent").json()["total"] == 0

    r2 = _supervisor(network.second.org, make_account, staff_client)
    received = r2.get("/reports/referrals?side=received")
    assert received.json()["total"] == 3
    assert ids["f"] not in received.text and network.receiver.org.name not in received.text

    stranger = _supervisor(None, make_account, staff_client, Role.ORG_ADMIN)
    for side in ("sent", "received"):
        seen = stranger.get(f"/reports/referrals?side={side}&format=csv")
        assert seen.status_code == 200
        assert not any(rid in seen.text for rid in ids.values())
        assert network.sender.org.name not in seen.text
        assert network.receiver.org.name not in seen.text


def test_only_supervisors_admins_and_hub_admins(
    network: Network, seeded: Seeded, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    worker = _supervisor(network.sender.org, make_account, staff_client, Role.CASE_WORKER)
    refused = worker.get("/reports/referrals?side=sent")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert network.sender.get("/reports/referrals?side=sent").status_code == 403  # system

    hub = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    got = hub.get("/reports/referrals?side=received")
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["scope"] == "network" and report["organisation_id"] is None
    assert report["grouped_by"] == "receiver"
    assert report["attention"] == [] and report["attention_count"] >= 1  # counts only
    assert not any(rid in got.text for rid in seeded.ids.values())
    assert str(network.client_id) not in got.text
    gaps = {(r["organisation_id"], r["reason"]): r["count"] for r in report["reasons_by_receiver"]}
    assert gaps[(str(network.receiver.id), "no-capacity")] == 2
    mine = {o["organisation_id"]: o["total"] for o in report["by_organisation"]}
    assert mine[str(network.receiver.id)] == 5 and mine[str(network.second.id)] == 3


def test_csv_has_one_row_per_figure(
    network: Network, seeded: Seeded, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    client = _supervisor(network.sender.org, make_account, staff_client)
    got = client.get("/reports/referrals?side=sent&format=csv")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith(
        'attachment; filename="refhub-referrals-sent-'
    )
    reader = csv.DictReader(io.StringIO(got.text))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)

    def value(metric: str, statistic: str = "count", **dims: str) -> str:
        found = [
            r["value"]
            for r in rows
            if r["metric"] == metric
            and r["statistic"] == statistic
            and all(r[k] == v for k, v in dims.items())
        ]
        assert len(found) == 1, (metric, statistic, dims, found)
        return found[0]

    assert value("total") == "8"
    assert value("by_status", status="rejected") == "3"
    assert value("by_kind", kind="handover") == "1"
    r1 = str(network.receiver.id)
    assert value("by_receiver", organisation_id=r1, status="") == "5"
    assert value("by_receiver", "open", organisation_id=r1) == "1"
    assert value("open_age", bucket="3d_7d") == "1"
    assert value("reasons_by_receiver", organisation_id=r1, reason="no-capacity") == "2"
    assert value("time_to_response_hours", "median") == "8.0"
    assert value("time_to_acceptance_hours", "p90") == "30.0"
    assert value("handovers", "transferred") == "1"
    assert value("attention", "count") == "1"
    assert value("attention", "age_hours", referral_id=seeded.ids["f"], reason="reminded")


def test_the_window_narrows_every_figure_but_attention(
    network: Network, seeded: Seeded, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    client = _supervisor(network.sender.org, make_account, staff_client)
    later = (utcnow() + H).isoformat()
    report = client.get("/reports/referrals", params={"side": "sent", "since": later}).json()
    assert report["total"] == 0 and report["by_status"] == {}
    assert report["attention_count"] == 1  # what needs attention now, whenever it was sent
    recent = client.get(
        "/reports/referrals",
        params={"side": "sent", "since": (utcnow() - 15 * H).isoformat()},
    ).json()
    assert recent["total"] == 5  # a b c g h; not d (20 h), e (30 h), f (100 h)
    empty = client.get(
        "/reports/referrals", params={"side": "sent", "since": later, "until": later}
    )
    assert empty.status_code == 422 and empty.json()["code"] == "invalid-window"
