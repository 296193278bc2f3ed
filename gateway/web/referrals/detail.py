"""A referral's page, both sides: the client, the packet as a readable summary, outcomes,
the next steps, thread, documents, assignment, handover record and timeline."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

import adapters
from consent.i18n import CATEGORY_LABELS
from gateway.auth import people
from gateway.web.i18n import N_
from gateway.web.referrals.rows import labels
from gateway.web.referrals.timeline import timeline
from gateway.web.shell import Staff, StaffDep
from gateway.workflow import access, cases, content, resend, thread, views
from gateway.workflow import documents as referral_documents
from gateway.workflow.errors import ReferralRefused
from gateway.workflow.models import Kind, Referral, Status
from gateway.workflow.states import REASON_REQUIRED, Party
from kernel.errors import RefhubError

__all__ = ["DESTRUCTIVE", "MOVE_LABELS", "move_label", "referral_page", "routes"]

routes = APIRouter(include_in_schema=False)

#: The button of each move, in the order a person thinks: the next step first.
MOVE_LABELS = {
    "accepted": N_("Accept the referral"),
    "in-progress": N_("Start the service"),
    "completed": N_("Complete and report the outcome"),
    "on-hold": N_("Put on hold"),
    "rejected": N_("Decline the referral"),
    "failed": N_("Mark as could not be completed"),
    "cancelled": N_("Cancel the referral"),
    "entered-in-error": N_("Mark as entered in error"),
}
#: The same buttons on a handover, where "referral" would name the wrong thing.
HANDOVER_LABELS = {
    "accepted": N_("Accept the handover"),
    "completed": N_("Complete the handover"),
    "rejected": N_("Decline the handover"),
    "cancelled": N_("Cancel the handover"),
}
#: Moves that end the referral: shown apart, after a confirmation page.
DESTRUCTIVE = ("rejected", "failed", "cancelled", "entered-in-error")
#: When each ending move is the right one (they sit side by side; the words tell them apart).
ENDING_HINTS = {
    "rejected": N_("You cannot take it. The sender is told why and can send it elsewhere."),
    "failed": N_("The service started but could not be completed."),
    "cancelled": N_("It is no longer needed, for example because the client withdrew."),
    "entered-in-error": N_("It was sent by mistake. Nothing more happens on it."),
}
#: FHIR request priority in the words the sender chose them by (compose's answers).
PRIORITY_LABELS = {
    "stat": N_("Urgent: within 24 hours"),
    "asap": N_("Urgent: within 24 hours"),
    "urgent": N_("Soon: within 72 hours"),
    "routine": N_("Routine: within 2 weeks"),
}
DONE = {
    "moved": N_("Status changed."),
    "contact": N_("First contact recorded. The sender has been told."),
    "sent": N_("Message sent."),
    "assigned": N_("Assignment saved."),
    "uploaded": N_("Document uploaded."),
    "closed": N_("Case closed. The continuation plan is saved with the case."),
    "resent": N_("Referral re-sent. It is linked to the declined one."),
}


def _messages(staff: Staff, referral: Referral) -> tuple[list[Any] | None, list[dict[str, Any]]]:
    try:
        _, rows = thread.messages(staff.session, staff.caller, referral.id)
    except ReferralRefused:
        return None, []
    names = people.names_of(staff.session, {m.sender_actor for m in rows})
    orgs = views.names(staff.session, {referral.requester_org_id, referral.owner_org_id})
    shown = []
    for m in rows:
        person = names.get(m.sender_actor)
        shown.append(
            {
                "author": person.name if person else staff.gettext("Someone no longer on refhub"),
                "organisation": orgs.get(m.sender_org_id, ""),
                "ours": m.sender_org_id == staff.caller.organisation_id,
                "sent_at": m.sent_at,
                "text": thread.open_text(staff.session, referral, m),
            }
        )
    return rows, shown


def _packet(staff: Staff, referral: Referral) -> tuple[str | None, str | None]:
    """The summary's HTML as this viewer may read it now, or why it cannot be shown."""
    party = access.party_of(referral, staff.caller)
    try:
        packet = content.packet_for(staff.session, staff.caller, referral, party)
        html = adapters.summary_html(
            adapters.packet_from_dict(packet), language=staff.language, top_level=3
        )
    except ReferralRefused:
        return None, staff.gettext(
            "The client's consent no longer lets your organisation read this referral's "
            "content through refhub."
        )
    except adapters.AdapterError:
        return None, staff.gettext("The referral's content could not be shown as a summary.")
    return html, None


def _outcomes(staff: Staff, referral: Referral) -> list[dict[str, str]]:
    """What the receiver reported on completion, in words."""
    if referral.outputs is None:
        return []
    stored = content.open_outputs(staff.session, referral)
    found = []
    for procedure in stored.get("contained", []):
        found.append(
            {
                "what": str((procedure.get("code") or {}).get("text") or ""),
                "when": str(procedure.get("performedDateTime") or ""),
                "outcome": str((procedure.get("outcome") or {}).get("text") or ""),
            }
        )
    return found


def move_label(move: str, kind: str) -> str:
    """The button of a move (untranslated), in the words of the referral's kind."""
    if kind == Kind.HANDOVER and move in HANDOVER_LABELS:
        return HANDOVER_LABELS[move]
    return MOVE_LABELS[move]


def _moves(out: Any) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str, str]]]:
    allowed = [m for m in MOVE_LABELS if m in set(out.allowed_moves)]
    forward = [
        (m, move_label(m, out.kind), m in REASON_REQUIRED) for m in allowed if m not in DESTRUCTIVE
    ]
    ending = [(m, move_label(m, out.kind), ENDING_HINTS[m]) for m in allowed if m in DESTRUCTIVE]
    return forward, ending


def _case_to_close(staff: Staff, referral: Referral, handover: Any) -> Any:
    """The case this handover brought to the caller, while open and closable: only once
    the handover itself is closed (`cases.close_case` refuses while it is open)."""
    if referral.kind != Kind.HANDOVER or handover is None or handover.case_id is None:
        return None
    if handover.closed_at is None:
        return None
    if access.party_of(referral, staff.caller) is not Party.OWNER:
        return None
    try:
        case = cases.get_case(staff.session, staff.caller, handover.case_id)
    except RefhubError:
        return None
    return case if case.status == "open" else None


def context(staff: Staff, referral_id: uuid.UUID) -> dict[str, Any]:
    """Everything the referral page shows (raises ReferralNotFound for others)."""
    session, caller = staff.session, staff.caller
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, referral_id)
    out = views.referral_out(session, caller, referral)
    rows, messages = _messages(staff, referral)
    packet_html, packet_refused = _packet(staff, referral)
    handover = (
        cases.handover_record(session, caller, referral_id)
        if referral.kind == Kind.HANDOVER
        else None
    )
    forward, ending = _moves(out)
    side_assignee = out.owner_assignee if out.your_side == "owner" else out.requester_assignee
    assignee = people.names_of(session, [f"user:{side_assignee}"]) if side_assignee else {}
    return {
        "nav": "inbox" if out.your_side == "owner" else "outbox",
        "category_labels": CATEGORY_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "referral": out,
        "client": labels(session, caller, [referral]).get(referral.client_id),
        "packet_html": packet_html,
        "packet_refused": packet_refused,
        "outcomes": _outcomes(staff, referral),
        "messages": messages if rows is not None else None,
        "timeline": timeline(session, caller, referral, rows or [], staff.gettext),
        "documents": referral_documents.of_referral(session, caller, referral),
        "handover": handover,
        "case": _case_to_close(staff, referral, handover),
        "forward": forward,
        "ending": ending,
        "assignee": assignee.get(f"user:{side_assignee}") if side_assignee else None,
        "may_assign_anyone": access.sees_everything_of_side(caller),
        "staff_members": people.assignable(session, caller),
        "resent_as": resend.resent_as(session, caller, referral.id),
        "may_resend": out.your_side == "requester" and Status(referral.status) in resend.RESENDABLE,
    }


def referral_page(
    staff: Staff,
    referral_id: uuid.UUID,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    banner: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        ctx = context(staff, referral_id)
    except RefhubError as exc:
        return staff.page(
            "referrals/missing.html",
            status=exc.status if exc.status >= 400 else 404,
            errors=[],
            detail=exc.detail,
        )
    return staff.page(
        "referrals/referral.html",
        status=status,
        errors=errors or [],
        banner=banner,
        form=form or {},
        **ctx,
    )


@routes.get("/referrals/{referral_id}", response_class=HTMLResponse)
def show(referral_id: uuid.UUID, staff: StaffDep, done: str = "") -> HTMLResponse:
    banner = {"kind": "ok", "text": staff.gettext(DONE[done])} if done in DONE else None
    return referral_page(staff, referral_id, banner=banner)
