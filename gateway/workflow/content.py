"""Client content of a referral (the packet, outputs), opened only under a current consent.

Every read by the receiver asks the consent decision point again and narrows the packet to
what is permitted now, so a revocation blocks further reads at once. The sender reads its
own packet; after a handover is transferred, only as far as consent allows it as follow-up.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

import adapters
from consent import clients as consent_clients
from consent import decision as consent_decision
from consent.models import Purpose
from gateway.auth.models import Organisation
from gateway.workflow.errors import ReferralRefused
from gateway.workflow.models import Handover, Kind, Referral
from gateway.workflow.states import Party
from kernel import audit
from kernel.caller import Caller

__all__ = [
    "current_permission",
    "open_outputs",
    "open_packet",
    "packet_for",
    "seal_outputs",
]


def _context(kind: str, referral_id: uuid.UUID) -> str:
    return f"{kind}:{referral_id}"


def open_packet(session: Session, referral: Referral) -> dict[str, Any]:
    """The stored (already minimised at submission) packet; no consent check here."""
    plain = consent_clients.open_for_client(
        session, referral.client_id, referral.packet, _context("packet", referral.id)
    )
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value


def seal_outputs(session: Session, referral: Referral, outputs: dict[str, Any]) -> None:
    """Store Task outputs: ``{"output": [Task.output...], "contained": [Procedure...]}``."""
    data = json.dumps(outputs, separators=(",", ":"), ensure_ascii=False).encode()
    referral.outputs = consent_clients.seal_for_client(
        session, referral.client_id, data, _context("outputs", referral.id)
    )
    referral.output_count = len(outputs.get("output", []))


def open_outputs(session: Session, referral: Referral) -> dict[str, Any]:
    if referral.outputs is None:
        return {"output": [], "contained": []}
    plain = consent_clients.open_for_client(
        session, referral.client_id, referral.outputs, _context("outputs", referral.id)
    )
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value


def current_permission(
    session: Session, caller: Caller, referral: Referral, recipient_org_id: uuid.UUID, purpose: str
) -> consent_decision.Decision:
    """Ask the decision point whether the referral's categories may go to the recipient now."""
    org = session.get(Organisation, recipient_org_id)
    return consent_decision.decide(
        session,
        caller,
        client_id=referral.client_id,
        recipient_org_id=recipient_org_id,
        recipient_org_type=org.org_type if org else None,
        purpose=purpose,
        categories=adapters.parse_categories(referral.categories.split()),
    )


def packet_for(
    session: Session, caller: Caller, referral: Referral, party: Party
) -> dict[str, Any]:
    """The packet as `caller`'s side may read it now (audited as a disclosure).

    Raises:
        ReferralRefused: the receiver's consent is gone (revoked, expired).
    """
    packet = open_packet(session, referral)
    if party is Party.OWNER:
        purpose = referral.kind
    else:
        handover = session.get(Handover, referral.id) if referral.kind == Kind.HANDOVER else None
        if handover is None or handover.transferred_at is None:
            return packet  # the sender's own submission
        purpose = Purpose.FOLLOW_UP.value
    decided = current_permission(session, caller, referral, caller.organisation_id, purpose)
    if party is Party.OWNER and not decided.permit:
        raise ReferralRefused(
            "The client's consent for this referral is no longer in force; its content "
            "cannot be read through the hub."
        )
    minimised, _ = adapters.minimise(
        adapters.packet_from_dict(packet), decided.permitted_categories
    )
    audit.record(
        session,
        actor=caller.actor,
        action="referral.read",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{referral.client_id}",
        purpose=purpose,
        detail={
            "task": str(referral.id),
            "disclosed": " ".join(sorted(c.value for c in decided.permitted_categories)),
        },
    )
    return adapters.packet_dict(minimised)
