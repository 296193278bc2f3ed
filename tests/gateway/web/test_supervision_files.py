"""The supervisor's "Case files" pages over HTTP: the report's failing checks, drawing last
month's sample (again: the same files; a malformed or future month at the field), findings
required at the field, a done review read-only, and the boundaries: another organisation's
file review is the 404 page (its refusal audited), a case worker gets the refusal page."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.models import Purpose
from gateway.workflow.casework import file_review
from gateway.workflow.casework.models import FileReview
from gateway.workflow.models import Case
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.db import utcnow
from tests.consent.factories import grant, make_client, permit, staff
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

SignedIn = Callable[[Account], StaffClient]
REVIEW_LINK = re.compile(r'href="/ui/team/files/([0-9a-f-]{36})"')


def _last_month() -> str:
    first = utcnow().date().replace(day=1) - dt.timedelta(days=1)
    return first.strftime("%Y-%m")


@dataclass
class Team:
    boss: StaffClient
    worker: StaffClient
    foreign: StaffClient
    org_id: uuid.UUID


@pytest.fixture
def team(db: Session, make_org: MakeOrg, make_account: MakeAccount, staff_client: SignedIn) -> Team:
    """One open case opened last month, without an assessment, checked by the hub."""
    org = make_org()
    person = make_client(db, staff(org.id), name="Amal Files")
    grant(db, staff(org.id), person, permit(org=org.id, purposes=(Purpose.SERVICE_COORDINATION,)))
    opened = dt.datetime.strptime(_last_month() + "-10", "%Y-%m-%d").replace(tzinfo=dt.UTC)
    db.add(
        Case(client_id=person.id, owner_org_id=org.id, opened_by_org_id=org.id, opened_at=opened)
    )
    db.flush()
    assert file_review.run_for_organisation(db, org.id) == 1
    return Team(
        staff_client(make_account(org=org, roles=(Role.SUPERVISOR,))),
        staff_client(make_account(org=org, roles=(Role.CASE_WORKER,))),
        staff_client(make_account(roles=(Role.SUPERVISOR,))),
        org.id,
    )


def _draw(client: StaffClient, period: str) -> str:
    drawn = client.post(
        "/ui/team/files/sample",
        data={"period": period, "csrf_token": client.csrf},
        follow_redirects=False,
    )
    assert drawn.status_code == 303, drawn.text
    return str(drawn.headers["location"])


def _sampled(db: Session, org_id: uuid.UUID) -> FileReview:
    return db.scalars(
        select(FileReview).where(FileReview.organisation_id == org_id, FileReview.kind == "sample")
    ).one()


def test_the_report_the_sample_and_findings_with_their_errors(db: Session, team: Team) -> None:
    page = team.boss.get("/ui/team/files")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "Case files" in text and 'aria-current="page"' in text
    assert "Assessment recorded" in text and 'role="img"' in text
    assert f'value="{_last_month()}" selected' in text  # last month by default

    period = _last_month()
    assert _draw(team.boss, period) == f"/ui/team/files?period={period}&drawn=new#sample"
    first = _sampled(db, team.org_id)
    assert _draw(team.boss, period).endswith("drawn=again#sample")
    assert _sampled(db, team.org_id).id == first.id  # the same sample
    listed = team.boss.get(f"/ui/team/files?period={period}&drawn=again")
    assert "these are the same files" in listed.text
    assert REVIEW_LINK.findall(listed.text) == [str(first.id)]
    assert "Amal Files" in listed.text and "Fails: Assessment recorded" in listed.text

    for bad, message in (("2026-13", "Choose one of the months"), ("2999-01", "not ended yet")):
        refused = team.boss.post(
            "/ui/team/files/sample", data={"period": bad, "csrf_token": team.boss.csrf}
        )
        assert refused.status_code == 422 and message in refused.text
        assert 'id="period-error"' in refused.text and 'href="#period"' in refused.text

    url = f"/ui/team/files/{first.id}"
    empty = team.boss.post(
        f"{url}/findings",
        data={"findings": "  ", "corrective_actions": "Call me", "csrf_token": team.boss.csrf},
    )
    assert empty.status_code == 422 and 'id="findings-error"' in empty.text
    assert "Write what you found" in empty.text and ">Call me</textarea>" in empty.text
    done = team.boss.post(
        f"{url}/findings",
        data={"findings": "No assessment yet.", "csrf_token": team.boss.csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=1"
    shown = team.boss.get(f"{url}?done=1")
    assert "Review done" in shown.text and "No assessment yet." in shown.text
    assert "Mark the review done" not in shown.text and f"/ui/cases/{first.case_id}" in shown.text
    again = team.boss.post(
        f"{url}/findings", data={"findings": "More", "csrf_token": team.boss.csrf}
    )
    assert again.status_code == 409 and "done already" in again.text


def test_another_organisations_file_review_is_the_404_page(db: Session, team: Team) -> None:
    _draw(team.boss, _last_month())
    review = _sampled(db, team.org_id)
    url = f"/ui/team/files/{review.id}"
    seen = team.foreign.get(url)
    assert seen.status_code == 404 and "<html" in seen.text and "Amal Files" not in seen.text
    posted = team.foreign.post(
        f"{url}/findings", data={"findings": "Mine now", "csrf_token": team.foreign.csrf}
    )
    assert posted.status_code == 404 and "<html" in posted.text
    assert team.foreign.get(f"/ui/team/files/{uuid.uuid4()}").status_code == 404
    assert team.foreign.get("/ui/team/files/not-an-id").status_code == 404
    denied = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "file-review.read", AuditRecord.outcome == "denied"
        )
    ).all()
    assert any(r.subject == f"FileReview/{review.id}" for r in denied)
    db.refresh(review)
    assert review.status == "open" and review.sealed is None


def test_a_case_worker_gets_the_refusal_page(db: Session, team: Team) -> None:
    _draw(team.boss, _last_month())
    review = _sampled(db, team.org_id)
    for response in (
        team.worker.get("/ui/team/files"),
        team.worker.get(f"/ui/team/files/{review.id}"),
        team.worker.post(
            "/ui/team/files/sample",
            data={"period": _last_month(), "csrf_token": team.worker.csrf},
        ),
        team.worker.post(
            f"/ui/team/files/{review.id}/findings",
            data={"findings": "x", "csrf_token": team.worker.csrf},
        ),
    ):
        assert response.status_code == 403 and "You cannot use this page" in response.text
