"""What makes a consent meaningful: the rules a draft must meet (pure: no session, no audit).

`consent.service.create_consent` refuses a draft that breaks one (audited); a form may ask
the same question first, before showing its check page.
"""

from __future__ import annotations

import datetime as dt
import uuid

from consent.models import GrantMethod, GrantorRelationship, ProvisionKind
from consent.schemas import ConsentCreate

__all__ = ["draft_problem"]


def draft_problem(
    draft: ConsentCreate, *, client_id: uuid.UUID, now: dt.datetime
) -> tuple[str, str] | None:
    """The first rule `draft` breaks, as (code, message), or None if it has none.

    The rules `create_consent` refuses a consent by (except that a guardian's own client
    record must be visible to the caller); a form may ask before showing its check page.
    """
    grantor = draft.grantor
    someone_else = grantor is not None and grantor.client_id not in (None, client_id)
    if grantor is None or (grantor.relationship is None and not someone_else):
        return (
            "grantor-missing",
            "Say who gave consent: the client (relationship 'self'), or a parent, guardian or "
            "legal representative with their relationship.",
        )
    if someone_else and grantor.relationship in (None, GrantorRelationship.SELF):
        return (
            "grantor-relationship-missing",
            "A consent given by someone else needs their relationship to the client.",
        )
    if grantor.relationship is not GrantorRelationship.SELF and grantor.client_id == client_id:
        return "grantor-relationship", "A client cannot be their own guardian."
    if draft.method is GrantMethod.VERBAL and not (draft.witness and draft.witness.strip()):
        return "witness-missing", "A verbal consent needs a witness."
    start = draft.period_start or now
    if draft.period_end is not None and draft.period_end <= start:
        return "period-order", "The consent period ends before it starts."
    if not draft.provisions:
        return "provision-missing", "Say who may receive what, and why."
    for index, p in enumerate(draft.provisions):
        where = f"provisions[{index}]"
        if any((r.organisation_id is None) == (r.organisation_type is None) for r in p.recipients):
            return (
                "recipient-invalid",
                f"{where}: each recipient is one organisation id or one organisation type.",
            )
        if p.kind is ProvisionKind.PERMIT and not p.recipients:
            return "recipient-missing", f"{where}: a permit needs at least one recipient."
        if p.kind is ProvisionKind.PERMIT and not p.purposes:
            return "purpose-missing", f"{where}: a permit needs at least one purpose."
        if p.kind is ProvisionKind.PERMIT and not p.categories:
            return "category-missing", f"{where}: a permit needs data categories."
        p_start, p_end = p.period_start or start, p.period_end or draft.period_end
        if p_end is not None and p_end <= p_start:
            return "period-order", f"{where}: the period ends before it starts."
        if p_start < start or (draft.period_end and p_end and p_end > draft.period_end):
            return "provision-period", f"{where}: the period is outside the consent's."
    return None
