"""A supervisor in the browser: reads the team dashboard, changes a filter, opens the
late items behind a number, reassigns one to another case worker and sees the new
assignee, then looks at that worker's open items."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, expect

from gateway.auth.models import OrgType, User
from gateway.runtime import Runtime
from gateway.workflow.models import Referral
from kernel.caller import Role
from kernel.db import utcnow
from tests.gateway.workflow.factories import referral_from
from tests.web.conftest import Person, look, make_org, make_person, sign_in

H = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Team:
    supervisor: Person
    late_id: uuid.UUID


@pytest.fixture
def team(committed: Runtime) -> Team:
    """A resettlement agency: a supervisor, two case workers (Nadia, Omar) and what they
    sent: one late (100 h unanswered, Nadia's), one declined for lack of capacity
    (Nadia's), one accepted (Omar's), one waiting and nobody's yet."""
    with committed.sessions.begin() as session:
        org = make_org(session, "Harbour Resettlement", OrgType.RESETTLEMENT_NGO)
        boss = make_person(session, org, "Leila Mansour", (Role.SUPERVISOR,))
        ids = {}
        for who in ("Nadia Haddad", "Omar Said"):
            make_person(session, org, who, (Role.CASE_WORKER,))
        users = {
            u.display_name: u.id for u in session.query(User).filter_by(organisation_id=org.id)
        }
        now = utcnow()
        for name in ("late", "declined", "accepted", "waiting"):
            ids[name] = referral_from(session, org.id)
        late, declined, accepted = ids["late"], ids["declined"], ids["accepted"]
        late.authored_on = now - 100 * H
        late.requester_assignee = users["Nadia Haddad"]
        declined.authored_on = now - 30 * H
        declined.status, declined.status_reason = "rejected", "no-capacity"
        declined.responded_at = declined.closed_at = now - 20 * H
        declined.requester_assignee = users["Nadia Haddad"]
        accepted.authored_on = now - 50 * H
        accepted.status = "accepted"
        accepted.responded_at = accepted.accepted_at = now - 40 * H
        accepted.requester_assignee = users["Omar Said"]
        ids["waiting"].requester_assignee = None
        session.flush()
        return Team(boss, late.id)


def test_a_supervisor_finds_late_items_and_reassigns_one(
    new_context: Callable[[], BrowserContext], hub: str, team: Team, committed: Runtime
) -> None:
    page = sign_in(new_context(), hub, team.supervisor)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team dashboard", level=1)).to_be_visible()
    page.get_by_label("Sent by us").check()
    page.get_by_role("button", name="Show the figures").click()
    expect(page.get_by_role("img", name="Referrals by status")).to_be_visible()
    look(page, "team-dashboard")

    page.get_by_label("Period", exact=True).select_option("30")
    page.get_by_role("button", name="Show the figures").click()
    expect(page.get_by_label("Period", exact=True)).to_have_value("30")
    page.get_by_role("link", name=re.compile("late now, whenever sent")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Late now")
    row = page.locator(f"#row-{team.late_id}")
    expect(row).to_contain_text("Nadia Haddad")
    look(page, "team-overdue")

    row.get_by_label(re.compile("^Reassign")).select_option(label="Omar Said")
    row.get_by_role("button", name=re.compile("^Reassign")).click()
    expect(page.get_by_role("status")).to_contain_text("Reassigned.")
    expect(page.locator(f"#row-{team.late_id} .team-assignee")).to_have_text("Omar Said")
    with committed.sessions.begin() as session:
        moved = session.get(Referral, team.late_id)
        assert moved is not None and moved.requester_assignee is not None

    page.get_by_role("link", name="Case workers").click()
    page.get_by_role("link", name="Omar Said").click()
    expect(page.get_by_role("heading", name="Open items of Omar Said")).to_be_visible()
    expect(page.locator(f"#row-{team.late_id}")).to_be_visible()
    look(page, "team-worker")
