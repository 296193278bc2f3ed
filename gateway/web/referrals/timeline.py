"""A referral's timeline in words: every step of its history, every delivery of a message
about it, every message of its thread, oldest first, each with the person who acted by name
(not `user:<uuid>`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.auth import people
from gateway.delivery import inbox as delivery_inbox
from gateway.web.i18n import N_, REASON_LABELS, STATUS_LABELS, STEP_LABELS
from gateway.workflow import history, views
from gateway.workflow.models import Referral, ThreadMessage
from kernel.caller import Caller

__all__ = ["Entry", "timeline"]

#: History actions in words (`history.record(action=...)`).
ACTIONS = {
    "submitted": N_("Sent"),
    "status": N_("Status changed"),
    "update": N_("Step updated"),
    "assigned": N_("Assigned"),
    "resent": N_("Re-sent to another provider"),
    "reminder": N_("Reminder sent: the answer is late"),
    "escalation": N_("Escalated to the sender's supervisors"),
    "first-contact": N_("First contact with the client confirmed"),
    "first-contact-overdue": N_("First contact is late"),
    "message": N_("Message"),
}
DELIVERY = {
    "pending": N_("waiting to be delivered"),
    "delivered": N_("delivered"),
    "acknowledged": N_("delivered and acknowledged"),
    "cancelled": N_("not sent"),
    "failed": N_("could not be delivered"),
}
KINDS = {
    "referral": N_("The referral"),
    "revocation": N_("A consent revocation"),
    "status": N_("A status notice"),
    "message": N_("A message"),
}


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    what: str
    who: str
    detail: str = ""


def _who(person: people.Person | None, actor: str, gettext: Callable[[str], str]) -> str:
    if person is not None:
        return f"{person.name} ({person.organisation})" if person.organisation else person.name
    if actor.startswith("system:"):
        return gettext("refhub (automatic)")
    return gettext("Someone no longer on refhub")


def _status_text(e: object, gettext: Callable[[str], str]) -> str:
    parts = []
    to = getattr(e, "to_status", None)
    before = getattr(e, "from_status", None)
    if to and before != to:
        parts.append(gettext(STATUS_LABELS.get(to, to)))
    business = getattr(e, "business_status", None)
    if business in STEP_LABELS and getattr(e, "action", "") == "status":
        parts.append(gettext(STEP_LABELS[business]))
    reason = getattr(e, "reason", None)
    if reason:
        parts.append(gettext(REASON_LABELS.get(reason, N_("Other (see text)"))))
    return " · ".join(parts)


def timeline(
    session: Session,
    caller: Caller,
    referral: Referral,
    messages: Sequence[ThreadMessage],
    gettext: Callable[[str], str],
) -> list[Entry]:
    """The referral's entries, oldest first (messages: their time and author only here;
    their text is in the thread)."""
    events = history.events_of(session, referral)
    receipts = delivery_inbox.visible_receipts(session, caller, referral_id=referral.id)
    actors = {e.actor for e in events} | {m.sender_actor for m in messages}
    names = people.names_of(session, actors)
    orgs = views.names(session, {r.recipient_org_id for r in receipts})
    entries = []
    for e in events:
        if e.action == "message":
            continue  # the message itself is listed below, with its author
        what = gettext(ACTIONS.get(e.action, N_("Status changed")))
        entries.append(
            Entry(e.at, what, _who(names.get(e.actor), e.actor, gettext), _status_text(e, gettext))
        )
    for m in messages:
        entries.append(
            Entry(
                m.sent_at,
                gettext(ACTIONS["message"]),
                _who(names.get(m.sender_actor), m.sender_actor, gettext),
            )
        )
    for r in receipts:
        what = gettext(KINDS.get(r.kind, N_("A notice")))
        to = orgs.get(r.recipient_org_id, "")
        state = gettext(DELIVERY.get(r.state, r.state))
        detail = gettext("to %(org)s: %(state)s") % {"org": to, "state": state}
        if r.attempts:
            detail += " · " + gettext("%(n)s delivery attempts") % {"n": r.attempts}
        if r.last_error and r.state != "delivered":
            detail += " · " + gettext("last error: %(error)s") % {"error": r.last_error}
        entries.append(Entry(r.created_at, what, gettext("refhub delivery"), detail))
    return sorted(entries, key=lambda x: x.at)
