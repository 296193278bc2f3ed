"""List rows of referrals as the staff pages show them: the API's shape plus the client's
name and reference (as consent lets this viewer see them), the assignee's name, and the
flags (late, the next step is yours, a message waits for your answer)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from consent import clients as consent_clients
from gateway.auth import people
from gateway.auth.models import Organisation
from gateway.web.i18n import N_
from gateway.workflow import access, attention, views
from gateway.workflow.models import Handover, Kind, Referral
from gateway.workflow.schemas import ReferralOut
from gateway.workflow.states import Party
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["ACTION_LABELS", "Row", "client_purpose", "rows_of"]

#: What "needs your action" says, per `attention.Flags.action`.
ACTION_LABELS = {
    "answer": N_("Answer: accept or decline"),
    "start": N_("Start the service"),
    "first-contact": N_("Confirm first contact"),
    "resend": N_("Declined: send elsewhere"),
    "reply": N_("Reply to a message"),
}


@dataclass(frozen=True)
class Row:
    referral: ReferralOut
    client: consent_clients.ClientLabel
    counterpart: str
    assignee: str | None
    flags: attention.Flags


def client_purpose(session: Session, caller: Caller, referral: Referral) -> str:
    """The purpose this viewer reads the client's identity under (as `content.packet_for`):
    the referral's kind for the receiver; the sender's own view until a handover is
    transferred, then follow-up."""
    if access.party_of(referral, caller) is Party.OWNER:
        return referral.kind
    if referral.kind == Kind.HANDOVER:
        handover = session.get(Handover, referral.id)
        if handover is not None and handover.transferred_at is not None:
            return "follow-up"
    return "service-coordination"


def labels(
    session: Session, caller: Caller, referrals: Sequence[Referral]
) -> dict[uuid.UUID, consent_clients.ClientLabel]:
    wanted = {r.client_id: client_purpose(session, caller, r) for r in referrals}
    org = session.get(Organisation, caller.organisation_id)
    return consent_clients.labels_for(
        session, caller, wanted, caller_org_type=org.org_type if org else None
    )


def rows_of(session: Session, caller: Caller, referrals: Sequence[Referral]) -> list[Row]:
    outs = views.referrals_out(session, caller, list(referrals))
    names = labels(session, caller, referrals)
    flags = attention.flags(session, caller, referrals, now=utcnow())
    assignees = {
        o.owner_assignee if o.your_side == "owner" else o.requester_assignee for o in outs
    } - {None}
    who = people.names_of(session, [f"user:{a}" for a in assignees])
    rows = []
    for out in outs:
        mine = out.owner_assignee if out.your_side == "owner" else out.requester_assignee
        person = who.get(f"user:{mine}") if mine else None
        other = out.requester if out.your_side == "owner" else out.owner
        rows.append(
            Row(
                referral=out,
                client=names.get(out.client_id, consent_clients.ClientLabel(None, None)),
                counterpart=other.name or "",
                assignee=person.name if person else None,
                flags=flags[out.id],
            )
        )
    return rows
