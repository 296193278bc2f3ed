"""Referral rows → the JSON shapes (batched look-ups of organisation and service names)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Service
from gateway.auth.models import Organisation
from gateway.workflow import access
from gateway.workflow.models import Handover, Referral
from gateway.workflow.schemas import HandoverOut, OrgRef, ReferralOut
from gateway.workflow.states import BUSINESS_STATUS, allowed_moves
from kernel.caller import Caller

__all__ = ["handover_out", "names", "referral_out", "referrals_out"]


def names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


def referrals_out(session: Session, caller: Caller, referrals: list[Referral]) -> list[ReferralOut]:
    org_names = names(
        session,
        {r.requester_org_id for r in referrals} | {r.owner_org_id for r in referrals},
    )
    service_ids = {r.service_id for r in referrals if r.service_id}
    services = (
        {
            row.id: row.name
            for row in session.execute(
                select(Service.id, Service.name).where(Service.id.in_(service_ids))
            )
        }
        if service_ids
        else {}
    )
    handover_ids = [r.id for r in referrals if r.kind == "handover"]
    handovers = (
        {
            h.referral_id: h
            for h in session.scalars(select(Handover).where(Handover.referral_id.in_(handover_ids)))
        }
        if handover_ids
        else {}
    )
    out = []
    for r in referrals:
        side = access.party_of(r, caller)
        handover = handovers.get(r.id)
        out.append(
            ReferralOut(
                id=r.id,
                kind=r.kind,
                status=r.status,
                status_reason=r.status_reason,
                status_reason_text=r.status_reason_text,
                business_status=r.business_status,
                business_status_display=BUSINESS_STATUS.get(r.business_status or ""),
                priority=r.priority,
                do_not_contact=r.do_not_contact,
                client_id=r.client_id,
                consent_id=r.consent_id,
                requester=OrgRef(id=r.requester_org_id, name=org_names.get(r.requester_org_id)),
                owner=OrgRef(id=r.owner_org_id, name=org_names.get(r.owner_org_id)),
                service=OrgRef(id=r.service_id, name=services.get(r.service_id))
                if r.service_id
                else None,
                your_side=side.value,
                allowed_moves=allowed_moves(r.status, side),
                disclosed_categories=r.categories.split(),
                withheld_categories=r.withheld.split(),
                service_codes=list(r.service_codes),
                output_count=r.output_count,
                version=r.version,
                authored_on=r.authored_on,
                updated_at=r.updated_at,
                responded_at=r.responded_at,
                accepted_at=r.accepted_at,
                closed_at=r.closed_at,
                resent_from=r.resent_from_id,
                requester_assignee=r.requester_assignee,
                owner_assignee=r.owner_assignee,
                owner_team=r.owner_team,
                handover=handover_out(handover, org_names) if handover else None,
            )
        )
    return out


def referral_out(session: Session, caller: Caller, referral: Referral) -> ReferralOut:
    return referrals_out(session, caller, [referral])[0]


def handover_out(
    h: Handover,
    org_names: dict[uuid.UUID, str],
    *,
    open_goals: list[str] | None = None,
    next_steps: str | None = None,
) -> HandoverOut:
    """The handover record; goals and next steps only where the caller read the packet."""
    return HandoverOut(
        from_organisation=OrgRef(id=h.from_org_id, name=org_names.get(h.from_org_id)),
        to_organisation=OrgRef(id=h.to_org_id, name=org_names.get(h.to_org_id)),
        case_id=h.case_id,
        transferred_at=h.transferred_at,
        transferred_by=h.transferred_by,
        first_contact_days=h.first_contact_days,
        first_contact_due_at=h.first_contact_due_at,
        first_contact_at=h.first_contact_at,
        closed_at=h.closed_at,
        open_goals=open_goals,
        next_steps=next_steps,
    )
