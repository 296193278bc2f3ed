"""The staff web UI's inbox, outbox and referral pages, signed in on each side."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network

Signed = Callable[[Account], StaffClient]


def _form(staff: StaffClient, url: str, **fields: str) -> httpx.Response:
    return staff.http.post(url, data={"csrf_token": staff.csrf, **fields}, follow_redirects=False)


def test_inbox_outbox_and_the_accept_form(
    network: Network, make_account: MakeAccount, staff_client: Signed
) -> None:
    rid = network.submit(kind="handover", do_not_contact=True).json()["id"]
    receiver = staff_client(make_account(org=network.receiver.org))
    sender = staff_client(make_account(org=network.sender.org, roles=(Role.SUPERVISOR,)))

    inbox = receiver.get("/ui/inbox")
    assert inbox.status_code == 200
    assert f"/ui/referrals/{rid}" in inbox.text and network.sender.org.name in inbox.text
    assert "Do not contact the client directly" in inbox.text
    outbox = sender.get("/ui/outbox")
    assert outbox.status_code == 200 and f"/ui/referrals/{rid}" in outbox.text
    assert f"/ui/referrals/{rid}" not in sender.get("/ui/inbox").text

    page = receiver.get(f"/ui/referrals/{rid}")
    assert page.status_code == 200
    assert 'role="note">Do not contact the client directly' in page.text
    assert f"/ui/referrals/{rid}/confirm/rejected" in page.text  # declining: a confirm page
    assert '<label for="reason">' in receiver.get(f"/ui/referrals/{rid}/confirm/rejected").text
    assert 'name="status" value="accepted"' in page.text

    forged = receiver.http.post(
        f"/ui/referrals/{rid}/status",
        data={"csrf_token": "forged", "status": "accepted"},
        follow_redirects=False,
    )
    assert (forged.status_code, forged.headers["location"]) == (303, "/ui/?expired=1")
    assert network.sender.get(f"/referrals/{rid}").json()["status"] == "requested"

    moved = _form(receiver, f"/ui/referrals/{rid}/status", status="accepted")
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/ui/referrals/{rid}?done=moved"
    assert network.sender.get(f"/referrals/{rid}").json()["status"] == "accepted"

    after = receiver.get(f"/ui/referrals/{rid}?done=moved")
    assert "Status changed." in after.text and "Confirm first contact" in after.text
    contact = _form(receiver, f"/ui/referrals/{rid}/first-contact")
    assert contact.status_code == 303
    record = network.sender.get(f"/referrals/{rid}/handover").json()
    assert record["first_contact_at"] is not None

    seen = sender.get(f"/ui/referrals/{rid}")
    assert seen.status_code == 200
    assert "Handover record" in seen.text and "Made on " in seen.text
    assert "Confirm first contact with the client</button>" not in seen.text
    assert "accepted" in seen.text  # the history


def test_refusals_rerender_with_the_reason_and_outsiders_see_nothing(
    app: FastAPI, network: Network, make_account: MakeAccount, staff_client: Signed
) -> None:
    rid = network.submit().json()["id"]
    receiver = staff_client(make_account(org=network.receiver.org))
    no_reason = _form(receiver, f"/ui/referrals/{rid}/status", status="rejected")
    assert no_reason.status_code == 422
    assert "A reason is required" in no_reason.text
    declined = _form(
        receiver,
        f"/ui/referrals/{rid}/status",
        status="rejected",
        reason="no-capacity",
        reason_text="Waitlist full",
    )
    assert declined.status_code == 303
    assert network.sender.get(f"/referrals/{rid}").json()["status_reason"] == "no-capacity"

    sent = _form(receiver, f"/ui/referrals/{rid}/messages", text="We can take her in May.")
    assert sent.status_code == 303
    assert "We can take her in May." in receiver.get(f"/ui/referrals/{rid}").text

    outsider = staff_client(make_account(org=network.second.org, roles=(Role.ORG_ADMIN,)))
    hidden = outsider.get(f"/ui/referrals/{rid}")
    assert hidden.status_code == 404 and network.sender.org.name not in hidden.text
    refused = _form(outsider, f"/ui/referrals/{rid}/status", status="cancelled", reason="other")
    assert refused.status_code == 404
    assert f"/ui/referrals/{rid}" not in outsider.get("/ui/inbox").text
    anonymous = TestClient(app, follow_redirects=False).get("/ui/inbox")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/ui/login")


def test_the_completion_form_needs_what_was_done_and_writes_a_gravity_output(
    network: Network, make_account: MakeAccount, staff_client: Signed
) -> None:
    rid = network.submit().json()["id"]
    receiver = staff_client(make_account(org=network.receiver.org))
    assert _form(receiver, f"/ui/referrals/{rid}/status", status="accepted").status_code == 303
    empty = _form(receiver, f"/ui/referrals/{rid}/status", status="completed", output=" ")
    assert empty.status_code == 422
    assert "Say what was done" in empty.text
    assert network.sender.get(f"/referrals/{rid}").json()["status"] == "accepted"

    done = _form(
        receiver,
        f"/ui/referrals/{rid}/status",
        status="completed",
        output="Six counselling sessions held",
        outcome="Sleeping better",
    )
    assert done.status_code == 303, done.text
    task = network.sender.get(f"/fhir/Task/{rid}").json()
    (output,) = task["output"]
    assert output["type"]["coding"][0]["code"] == "resulting-activity"
    (procedure,) = task["contained"]
    assert procedure["basedOn"] == [task["focus"]]
    assert procedure["code"]["coding"] and procedure["code"]["text"] == (
        "Six counselling sessions held"
    )
    assert procedure["outcome"] == {"text": "Sleeping better"}
