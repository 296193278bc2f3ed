"""Assigning a side of a referral, and re-sending a closed one to another provider."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import adapters
from gateway.auth.errors import Forbidden
from gateway.auth.models import User
from gateway.workflow import access, content, history
from gateway.workflow.errors import InvalidTransition, NotAllowedChange
from gateway.workflow.models import Referral, Status
from gateway.workflow.states import Party
from gateway.workflow.submit import Submitted, submit
from kernel import audit
from kernel.caller import Caller

__all__ = ["RESENDABLE", "assign", "resend", "resent_as"]

#: A referral that ended without the service being given may be sent on.
RESENDABLE = frozenset({Status.REJECTED, Status.CANCELLED, Status.FAILED})


def assign(
    session: Session,
    caller: Caller,
    referral: Referral,
    assignee: uuid.UUID | None,
    team: str | None,
) -> Referral:
    """Assign the caller's side to a staff member of its organisation and/or a team."""
    access.require_scope(caller, "Task", "u")
    party = access.party_of(referral, caller)
    wide = access.sees_everything_of_side(caller)
    if not wide:
        current = referral.owner_assignee if party is Party.OWNER else referral.requester_assignee
        if assignee != caller.id or current not in (None, caller.id):
            raise Forbidden("A case worker may only take an unassigned referral for themselves.")
    if assignee is not None:
        user = session.get(User, assignee)
        if user is None or user.organisation_id != caller.organisation_id:
            raise NotAllowedChange("Assign to a staff member of your own organisation.")
    if party is Party.OWNER:
        referral.owner_assignee, referral.owner_team = assignee, team or referral.owner_team
    else:
        referral.requester_assignee = assignee
        referral.requester_team = team or referral.requester_team
    history.record(session, referral, caller, action="assigned")
    audit.record(
        session,
        actor=caller.actor,
        action=f"{referral.kind}.assign",
        organisation=str(caller.organisation_id),
        subject=f"Task/{referral.id}",
        detail={"side": party.value, "assignee": str(assignee) if assignee else None},
    )
    return referral


def resend(
    session: Session,
    caller: Caller,
    referral_id: uuid.UUID,
    *,
    service_id: uuid.UUID,
    idempotency_key: str | None,
) -> Submitted:
    """A new referral of the same case to `service_id`, linked to the closed one."""
    first = access.get_visible(session, caller, referral_id)
    if access.party_of(first, caller) is not Party.REQUESTER:
        raise Forbidden("Only the sending organisation re-sends a referral.")
    if Status(first.status) not in RESENDABLE:
        raise InvalidTransition(
            f"Only a rejected, cancelled or failed referral is re-sent; this one is "
            f"{first.status}.",
            current=first.status,
            allowed=[],
        )
    data = content.open_packet(session, first)
    for entry in data.get("entry", []):
        resource: dict[str, Any] = entry.get("resource") or {}
        if resource.get("resourceType") == "ServiceRequest":
            kept = [
                p
                for p in resource.get("performer", [])
                if not str(p.get("reference", "")).startswith(
                    ("HealthcareService/", "Organization/")
                )
            ]
            resource["performer"] = [{"reference": f"HealthcareService/{service_id}"}, *kept]
        if resource.get("resourceType") == "Task":
            resource["status"] = Status.REQUESTED.value
            for key in ("businessStatus", "statusReason", "output", "owner", "lastModified"):
                resource.pop(key, None)
    case = adapters.normalise_bundle(data)
    if not case.ok or case.packet is None:
        raise NotAllowedChange(
            "The stored packet could not be re-sent: " + "; ".join(str(e) for e in case.errors)
        )
    done = submit(
        session,
        caller,
        packet=case.packet,
        source_format="resend",
        idempotency_key=idempotency_key or f"resend:{first.id}:{service_id}",
        digest=None,
    )
    if done.created:
        done.referral.resent_from_id = first.id
        history.record(session, first, caller, action="resent")
    return done


def resent_as(session: Session, caller: Caller, referral_id: uuid.UUID) -> list[Referral]:
    """The referrals `referral_id` was re-sent as, that the caller may see (oldest first)."""
    return list(
        session.scalars(
            select(Referral)
            .where(Referral.resent_from_id == referral_id, access.visible_clause(caller))
            .order_by(Referral.authored_on, Referral.id)
        )
    )
