"""Staff pages of the home area: what needs this person's attention today (new referrals
to answer, late answers, first contacts to confirm, messages waiting for an answer,
declined referrals to send elsewhere, their own open items); supervisors and
administrators also see their team's open referrals per case worker."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from gateway.auth import people
from gateway.web.i18n import N_
from gateway.web.referrals.rows import rows_of
from gateway.web.shell import StaffDep
from gateway.workflow import attention
from gateway.workflow.access import sees_everything_of_side
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
#: The home page's sections, in the order a person works through them.
ROLE_LABELS = {
    "case_worker": N_("Case worker"),
    "supervisor": N_("Supervisor"),
    "org_admin": N_("Organisation administrator"),
    "hub_admin": N_("Hub administrator"),
}
SECTIONS = ("to_answer", "overdue", "first_contacts", "awaiting_reply", "to_resend", "mine_open")


@router.get("/", response_class=HTMLResponse)
def home(staff: StaffDep, expired: str = "") -> HTMLResponse:
    caller = staff.caller
    team = sees_everything_of_side(caller)
    try:
        today = attention.today(staff.session, caller, team=team)
    except RefhubError:
        today = attention.Today()
    referrals = {r.id: r for rows in today.items.values() for r in rows}
    rows = {
        row.referral.id: row for row in rows_of(staff.session, caller, list(referrals.values()))
    }
    sections = [
        (name, getattr(today, name), [rows[r.id] for r in today.items.get(name, [])])
        for name in SECTIONS
    ]
    members = dict(people.assignable(staff.session, caller)) if team else {}
    banner = None
    if expired:
        banner = {
            "kind": "warn",
            "text": staff.gettext(
                "The form had expired, so nothing was changed. Please try again."
            ),
        }
    return staff.page(
        "home/home.html",
        nav="home",
        sections=sections,
        team=[(members.get(t.assignee) if t.assignee else None, t) for t in today.team],
        show_team=team,
        roles=[ROLE_LABELS.get(r.value, r.value) for r in sorted(caller.roles)],
        banner=banner,
    )
