"""Case notes on the client's record page: the form without JavaScript (CSRF, errors at the
field with the typed text kept), the note on the record, a correction beside its note."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from html import unescape

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.auth.models import Organisation
from gateway.workflow.models import Case, CaseNote
from kernel.caller import Role
from tests.consent.factories import make_client, staff
from tests.gateway.staff import Account, MakeAccount, StaffClient

TYPED = "Phoned Amal about the school place; she will bring the papers on Monday."


def text_of(response: httpx.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


@pytest.fixture
def desk(
    db: Session, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> tuple[StaffClient, uuid.UUID]:
    account = make_account(roles=(Role.CASE_WORKER,))
    person = make_client(db, staff(account.org.id), name="Amal Record")
    db.add(Case(client_id=person.id, owner_org_id=account.org.id, opened_by_org_id=account.org.id))
    db.flush()
    return staff_client(account), person.id


def _post(web: StaffClient, url: str, data: dict[str, str]) -> httpx.Response:
    return web.http.post(url, data={"csrf_token": web.csrf, **data}, follow_redirects=False)


def _form(web: StaffClient, client_id: uuid.UUID, query: str = "") -> dict[str, str]:
    page = web.get(f"/ui/clients/{client_id}/notes/new{query}")
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'type="hidden" name="(case_id|corrects)" value="([^"]*)"', page.text))
    return {"contact_day": "30/11/2026", "contact_time": "14:30", **hidden}


def _count(db: Session, client_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(CaseNote).where(CaseNote.client_id == client_id)
    return int(db.scalar(query) or 0)


def test_add_a_note_then_correct_it_on_the_record(
    db: Session, desk: tuple[StaffClient, uuid.UUID]
) -> None:
    web, client_id = desk
    record = web.get(f"/ui/clients/{client_id}")
    assert "Case notes" in record.text and "Add a case note" in record.text
    url = f"/ui/clients/{client_id}/notes/new"
    saved = _post(web, url, {**_form(web, client_id), "kind": "phone", "text": TYPED})
    assert saved.status_code == 303, saved.text
    shown = text_of(web.get(saved.headers["location"]))
    assert "Case note saved." in shown and TYPED in shown and "Phone call" in shown
    assert "No interpreter" in shown
    note_id = db.scalars(select(CaseNote.id).where(CaseNote.client_id == client_id)).one()

    correction = _form(web, client_id, f"?corrects={note_id}")
    assert correction["corrects"] == str(note_id)
    prefilled = web.get(f"{url}?corrects={note_id}")
    assert "The note you are correcting" in prefilled.text and TYPED in prefilled.text
    fixed = _post(
        web,
        url,
        {
            **correction,
            "kind": "phone",
            "interpreter": "yes",
            "interpreter_language": "Arabic",
            "text": "She will bring the papers on Tuesday.",
        },
    )
    assert fixed.status_code == 303, fixed.text
    page = text_of(web.get(fixed.headers["location"]))
    assert "Correction saved." in page and "Corrected" in page
    assert "Corrects the note of" in page and "With an interpreter (Arabic)" in page
    assert page.index("Tuesday") < page.index("Monday")  # newest written first at one time
    assert _count(db, client_id) == 2


def test_errors_show_at_the_field_with_the_text_kept(
    db: Session, desk: tuple[StaffClient, uuid.UUID]
) -> None:
    web, client_id = desk
    url = f"/ui/clients/{client_id}/notes/new"
    typed = {**_form(web, client_id), "contact_day": "1/1/2999", "kind": "phone", "text": TYPED}
    future = _post(web, url, typed)
    assert future.status_code == 422
    assert 'href="#contact_day"' in future.text and "cannot be in the future" in future.text
    assert TYPED in unescape(future.text)
    today = dt.datetime.now(dt.UTC)
    later = today + dt.timedelta(hours=1)
    if later.date() == today.date():  # an hour from now, still today: the time is wrong
        day = f"{today.day}/{today.month}/{today.year}"
        soon = {**typed, "contact_day": day, "contact_time": f"{later:%H:%M}"}
        refused = _post(web, url, soon)
        assert refused.status_code == 422 and 'href="#contact_time"' in refused.text
    missing = _post(web, url, {**_form(web, client_id), "contact_time": "25:00", "text": " "})
    assert missing.status_code == 422
    for field in ("contact_time", "kind", "text"):
        assert f'href="#{field}"' in missing.text and f'id="{field}-error"' in missing.text
    assert _count(db, client_id) == 0
    no_token = web.http.post(url, data={**typed, "contact_day": "1/1/2026"}, follow_redirects=False)
    assert no_token.status_code == 303 and "expired" in no_token.headers["location"]
    assert _count(db, client_id) == 0


def test_another_organisation_sees_no_notes_form(
    db: Session,
    desk: tuple[StaffClient, uuid.UUID],
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    web, client_id = desk
    data = {**_form(web, client_id), "kind": "phone", "text": TYPED}
    other = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    assert other.get(f"/ui/clients/{client_id}/notes/new").status_code == 404
    assert _post(other, f"/ui/clients/{client_id}/notes/new", data).status_code == 404
    assert _count(db, client_id) == 0


def test_an_org_admin_sees_the_record_without_notes(
    db: Session,
    desk: tuple[StaffClient, uuid.UUID],
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    web, client_id = desk
    assert (
        _post(
            web,
            f"/ui/clients/{client_id}/notes/new",
            {**_form(web, client_id), "kind": "phone", "text": TYPED},
        ).status_code
        == 303
    )
    case = db.scalars(select(Case).where(Case.client_id == client_id)).one()
    org = db.get(Organisation, case.owner_org_id)
    admin = staff_client(make_account(org=org, roles=(Role.ORG_ADMIN,)))
    record = admin.get(f"/ui/clients/{client_id}")
    assert record.status_code == 200
    assert 'id="notes"' not in record.text and TYPED not in record.text


def test_without_an_open_case_there_is_no_form(
    db: Session, desk: tuple[StaffClient, uuid.UUID]
) -> None:
    web, client_id = desk
    case = db.scalars(select(Case).where(Case.client_id == client_id)).one()
    case.status = "closed"
    db.flush()
    record = web.get(f"/ui/clients/{client_id}")
    assert 'id="notes"' in record.text and "Add a case note</a>" not in record.text
    assert "Notes are written on your organisation's open case" in unescape(record.text)
    page = web.get(f"/ui/clients/{client_id}/notes/new")
    assert "has no open case for this client" in unescape(page.text)
    assert '<form method="post" action="/ui/clients/' not in page.text


def test_a_note_links_to_goals_of_the_plan_and_may_be_shared(
    db: Session, desk: tuple[StaffClient, uuid.UUID]
) -> None:
    web, client_id = desk
    case_id = db.scalars(select(Case.id).where(Case.client_id == client_id)).one()
    url = f"/ui/clients/{client_id}/notes/new"
    assert "Which goals of the plan" not in web.get(url).text  # no plan yet: no question
    assessed = web.post(
        f"/cases/{case_id}/assessments",
        json={"assessed_on": "2026-11-01", "domains": {"housing": {"needs": [{"text": "A flat"}]}}},
    )
    assert assessed.status_code == 201, assessed.text
    assert web.put(f"/cases/{case_id}/plan", json={}).status_code == 200
    goal = web.post(
        f"/cases/{case_id}/plan/goals",
        json={"domain": "housing", "target_on": "2027-03-01", "worker_words": "A stable flat"},
    ).json()
    page = web.get(url)
    assert "Which goals of the plan" in page.text and "A stable flat" in page.text

    lonely = _post(
        web, url, {**_form(web, client_id), "kind": "phone", "text": TYPED, "share": "yes"}
    )
    assert lonely.status_code == 422
    assert "choose at least one goal" in text_of(lonely) and TYPED in lonely.text
    saved = web.http.post(
        url,
        data={
            "csrf_token": web.csrf,
            **_form(web, client_id),
            "kind": "phone",
            "text": TYPED,
            "goal_ids": [goal["id"]],
            "share": "yes",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    note = db.scalars(select(CaseNote).where(CaseNote.client_id == client_id)).one()
    assert note.share_with_partners is True
    listed = web.get(f"/cases/{case_id}/notes").json()["items"]
    assert listed[0]["goal_ids"] == [goal["id"]]
