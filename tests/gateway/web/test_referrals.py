"""Inbox, outbox and a referral's page, both sides: filters, the client's name, the packet
as a summary, outcomes in words, the timeline with people's names, the confirmation step
before declining, re-sending linked both ways, documents and assignment."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session

from gateway.workflow.models import Referral
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow import conftest as workflow_fixtures
from tests.gateway.workflow.conftest import Network

agency = workflow_fixtures.agency
network = workflow_fixtures.network
Signed = Callable[[Account], StaffClient]
CLIENT = "Amal Haddad"  # the network's client (tests.consent.factories.make_client)


def _form(staff: StaffClient, url: str, **fields: str) -> httpx.Response:
    return staff.http.post(url, data={"csrf_token": staff.csrf, **fields}, follow_redirects=False)


def _named(make_account: MakeAccount, db: Session, name: str, **kw: object) -> Account:
    account = make_account(**kw)
    account.user.display_name = name
    db.flush()
    return account


def _rows(html: str) -> list[str]:
    """The referral ids listed, in order."""
    return re.findall(r'<td data-label="Client">\s*<a href="/ui/referrals/([0-9a-f-]+)"', html)


def test_lists_filter_by_status_client_assignee_and_lateness(
    network: Network, make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    first = network.submit().json()["id"]
    second = network.submit(key="second").json()["id"]
    rania = staff_client(_named(make_account, db, "Rania Saleh", org=network.receiver.org))

    inbox = rania.get("/ui/inbox")
    assert inbox.status_code == 200
    assert set(_rows(inbox.text)) == {first, second}
    assert CLIENT in inbox.text  # the client's name on every row the consent lets us see
    assert "Answer: accept or decline" in inbox.text  # needs your action

    assert _form(rania, f"/ui/referrals/{first}/status", status="accepted").status_code == 303
    assert _rows(rania.get("/ui/inbox?status=requested").text) == [second]
    assert _rows(rania.get("/ui/inbox?status=accepted").text) == [first]
    assert set(_rows(rania.get("/ui/inbox?status=open").text)) == {first, second}

    assert set(_rows(rania.get(f"/ui/inbox?client={network.client_id}").text)) == {first, second}
    assert _rows(rania.get(f"/ui/inbox?client={uuid.uuid4()}").text) == []
    assert "Nothing matches these filters." in rania.get(f"/ui/inbox?client={uuid.uuid4()}").text

    assert _form(rania, f"/ui/referrals/{second}/assign", assignee="me").status_code == 303
    assert _rows(rania.get("/ui/inbox?assignee=me").text) == [second]
    assert _rows(rania.get("/ui/inbox?assignee=none").text) == [first]
    assert "Rania Saleh" in rania.get("/ui/inbox").text  # the assignee by name

    late = db.get(Referral, uuid.UUID(second))
    assert late is not None
    late.authored_on = late.authored_on - dt.timedelta(days=4)  # past the 72 h answer time
    db.flush()
    overdue = rania.get("/ui/inbox?overdue=1")
    assert _rows(overdue.text) == [second] and 'tag--overdue">Late' in overdue.text
    assert _rows(rania.get("/ui/inbox?sort=authored").text) == [second, first]

    sender = staff_client(make_account(org=network.sender.org, roles=(Role.SUPERVISOR,)))
    outbox = sender.get("/ui/outbox?status=requested")
    assert _rows(outbox.text) == [second] and CLIENT in outbox.text
    assert _rows(sender.get("/ui/outbox?overdue=1").text) == [second]


def test_the_referral_page_on_both_sides(
    network: Network, make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    rid = network.submit().json()["id"]
    rania = staff_client(_named(make_account, db, "Rania Saleh", org=network.receiver.org))
    sami = staff_client(
        _named(make_account, db, "Sami Nour", org=network.sender.org, roles=(Role.SUPERVISOR,))
    )

    page = rania.get(f"/ui/referrals/{rid}")
    assert page.status_code == 200
    assert f"<h1>{CLIENT}</h1>" in page.text
    packet = page.text.split('class="packet"')[1]
    assert "Two children (8 and 11) not enrolled" in packet and "<dl>" in packet  # not JSON
    assert "Symptoms of distress" not in packet  # health: not consented to
    assert "Accept the referral" in page.text
    assert page.text.index("Accept the referral") < page.text.index("Decline the referral")
    for field in ("text", "title", "file"):  # the names the routes read, not the field ids
        assert f'name="{field}"' in page.text

    assert (
        _form(rania, f"/ui/referrals/{rid}/messages", text="Can she come on Tuesday?").status_code
        == 303
    )
    assert _form(rania, f"/ui/referrals/{rid}/status", status="accepted").status_code == 303
    empty = _form(rania, f"/ui/referrals/{rid}/messages", text="  ")
    assert empty.status_code == 422 and "Write a message first." in empty.text
    done = _form(
        rania,
        f"/ui/referrals/{rid}/status",
        status="completed",
        output="Six counselling sessions held",
        outcome="Sleeping better; continues in a group",
    )
    assert done.status_code == 303, done.text

    seen = sami.get(f"/ui/referrals/{rid}")
    assert seen.status_code == 200
    assert "Six counselling sessions held" in seen.text  # the outcome in words
    assert "Sleeping better; continues in a group" in seen.text
    timeline = seen.text.split('id="timeline-heading"')[1]
    assert "Rania Saleh (" in timeline and "Status changed" in timeline
    assert "user:" not in seen.text and "client:" not in timeline
    assert "Completed" in seen.text and "Accepted" in timeline  # words, not codes
    assert ">7.0<" not in seen.text and "(7.0)" not in seen.text
    thread = seen.text.split('id="thread-heading"')[1]
    assert "<strong>Rania Saleh</strong>" in thread and "Can she come on Tuesday?" in thread

    outsider = staff_client(make_account(org=network.second.org, roles=(Role.ORG_ADMIN,)))
    hidden = outsider.get(f"/ui/referrals/{rid}")
    assert hidden.status_code == 404 and CLIENT not in hidden.text


def test_declining_asks_to_confirm_and_resending_links_both_ways(
    network: Network, make_account: MakeAccount, staff_client: Signed
) -> None:
    rid = network.submit().json()["id"]
    receiver = staff_client(make_account(org=network.receiver.org))
    sender = staff_client(make_account(org=network.sender.org, roles=(Role.SUPERVISOR,)))

    page = receiver.get(f"/ui/referrals/{rid}")
    assert f'href="/ui/referrals/{rid}/confirm/rejected"' in page.text  # a link, not a button
    assert 'name="status" value="rejected"' not in page.text
    confirm = receiver.get(f"/ui/referrals/{rid}/confirm/rejected")
    assert confirm.status_code == 200
    assert "Decline the referral?" in confirm.text and "No, go back" in confirm.text
    missing = _form(receiver, f"/ui/referrals/{rid}/status", status="rejected", reason_text="")
    assert missing.status_code == 422 and "A reason is required" in missing.text
    assert 'href="#reason"' in missing.text  # the error summary links to the field
    declined = _form(receiver, f"/ui/referrals/{rid}/status", status="rejected",
                     reason="no-capacity", reason_text="Waitlist full")  # fmt: skip
    assert declined.status_code == 303

    seen = sender.get(f"/ui/referrals/{rid}")
    assert "No capacity at present" in seen.text and "no-capacity" not in seen.text
    assert "Send to another provider" in seen.text
    choose = sender.get(f"/ui/referrals/{rid}/resend")
    assert choose.status_code == 200
    assert str(network.second.service_id) in choose.text
    assert f'value="{network.receiver.service_id}"' not in choose.text  # not the same one
    sent = _form(sender, f"/ui/referrals/{rid}/resend", service_id=str(network.second.service_id))
    assert sent.status_code == 303, sent.text
    new_id = sent.headers["location"].split("/")[-1].split("?")[0]
    new_page = sender.get(sent.headers["location"])
    assert "Referral re-sent" in new_page.text
    assert f'href="/ui/referrals/{rid}"' in new_page.text  # back to the declined one
    assert f'href="/ui/referrals/{new_id}"' in sender.get(f"/ui/referrals/{rid}").text
    assert "Declined: send elsewhere" not in sender.get("/ui/outbox").text.split(new_id)[0]


def test_documents_and_assignment(
    network: Network, make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    rid = network.submit().json()["id"]
    sender = staff_client(
        _named(make_account, db, "Sami Nour", org=network.sender.org, roles=(Role.SUPERVISOR,))
    )
    uploaded = sender.http.post(
        f"/ui/referrals/{rid}/documents",
        data={"csrf_token": sender.csrf, "title": "School letter"},
        files={"file": ("letter.txt", b"The school confirms enrolment.", "text/plain")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    page = sender.get(f"/ui/referrals/{rid}")
    link = re.search(rf'href="(/ui/referrals/{rid}/documents/[0-9a-f-]+)">School letter', page.text)
    assert link, page.text
    assert sender.get(link.group(1)).content == b"The school confirms enrolment."
    empty = sender.http.post(
        f"/ui/referrals/{rid}/documents",
        data={"csrf_token": sender.csrf, "title": "Nothing"},
        files={"file": ("empty.txt", b"", "text/plain")},
        follow_redirects=False,
    )
    assert empty.status_code == 422 and "The file is empty." in empty.text

    staff_members = _named(make_account, db, "Lina Aziz", org=network.sender.org)
    assigned = _form(sender, f"/ui/referrals/{rid}/assign", assignee=str(staff_members.user.id))
    assert assigned.status_code == 303
    assert "Assigned to Lina Aziz." in sender.get(f"/ui/referrals/{rid}").text
