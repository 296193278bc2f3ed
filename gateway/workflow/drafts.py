"""Referral drafts: the sender's working copy of a referral or handover, not yet sent.

A draft belongs to the sending organisation and is seen by its author, and by the
organisation's supervisors and org admins. What is chosen (kind, client, service, consent)
is kept in clear like a referral's routing facts; the case summary being written is sealed
under the client's data key, unminimised: it is the sender's own data, and the consent
decides only at sending what goes. Sending goes through `gateway.workflow.submit.submit`
(the same function as `POST /referrals`) with the idempotency key `draft_key(draft)`, so
a second click replays the first; the sent draft names its referral and its content is
dropped (the referral is the record of what was sent).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from gateway.auth.errors import Forbidden
from gateway.workflow import access
from gateway.workflow.errors import NotAllowedChange, ReferralNotFound
from gateway.workflow.models import DraftStatus, Kind, ReferralDraft
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import lock_key, utcnow

__all__ = [
    "content_of",
    "create",
    "discard",
    "draft_key",
    "get",
    "list_open",
    "mark_sent",
    "save",
]

_ACTING = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN)
_UNSET: Any = object()


def draft_key(draft: ReferralDraft) -> str:
    """The idempotency key the draft is sent with: one referral per draft."""
    return f"draft:{draft.id}"


def _context(draft_id: uuid.UUID) -> str:
    return f"referral-draft:{draft_id}"


def _require_acting(caller: Caller) -> None:
    if caller.kind is not CallerKind.USER or not caller.has_role(*_ACTING):
        raise Forbidden("Only case workers, supervisors and org admins compose referrals.")


def _audit(session: Session, caller: Caller, action: str, draft: ReferralDraft) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject=f"Patient/{draft.client_id}" if draft.client_id else None,
        detail={"draft": str(draft.id), "kind": draft.kind},
    )


def create(
    session: Session,
    caller: Caller,
    *,
    kind: Kind,
    client_id: uuid.UUID | None = None,
    service_id: uuid.UUID | None = None,
) -> ReferralDraft:
    """Start a draft for the caller's organisation (the client checked visible if given).

    Raises:
        Forbidden: not a case worker, supervisor or org admin.
        ConsentNotFound: the client is not visible to the caller.
    """
    _require_acting(caller)
    if client_id is not None:
        consent_clients.get_client(session, caller, client_id=client_id)
    draft = ReferralDraft(
        organisation_id=caller.organisation_id,
        author_id=caller.id,
        author_actor=caller.actor,
        kind=kind.value,
        client_id=client_id,
        service_id=service_id,
    )
    session.add(draft)
    session.flush()
    _audit(session, caller, "referral.draft.create", draft)
    return draft


def _visible(caller: Caller) -> Any:
    rule = ReferralDraft.organisation_id == caller.organisation_id
    if not access.sees_everything_of_side(caller):
        rule = rule & (ReferralDraft.author_id == caller.id)
    return rule


def get(
    session: Session, caller: Caller, draft_id: uuid.UUID, *, for_update: bool = False
) -> ReferralDraft:
    """The draft if the caller may work on it; for sending, locked (one send at a time).

    Raises:
        ReferralNotFound: no such draft for the caller (the same answer either way).
    """
    _require_acting(caller)
    if for_update:
        lock_key(session, "referral.draft", str(draft_id))
    query = select(ReferralDraft).where(ReferralDraft.id == draft_id, _visible(caller))
    if for_update:
        query = query.with_for_update()
    draft = session.scalars(query).first()
    if draft is None:
        raise ReferralNotFound("No such draft.")
    return draft


def list_open(session: Session, caller: Caller, *, limit: int = 50) -> list[ReferralDraft]:
    """The caller's drafts not yet sent, most recently changed first."""
    _require_acting(caller)
    return list(
        session.scalars(
            select(ReferralDraft)
            .where(_visible(caller), ReferralDraft.status == DraftStatus.OPEN.value)
            .order_by(ReferralDraft.updated_at.desc(), ReferralDraft.id)
            .limit(limit)
        )
    )


def content_of(session: Session, draft: ReferralDraft) -> dict[str, Any]:
    """The draft's content as saved (empty before anything was written).

    Raises:
        ClientErased: the client's data was erased since.
    """
    if draft.content is None or draft.client_id is None:
        return {}
    plain = consent_clients.open_for_client(
        session, draft.client_id, draft.content, _context(draft.id)
    )
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value


def save(
    session: Session,
    caller: Caller,
    draft: ReferralDraft,
    *,
    kind: Kind | None = None,
    client_id: uuid.UUID | None = _UNSET,
    service_id: uuid.UUID | None = _UNSET,
    consent_id: uuid.UUID | None = _UNSET,
    content: dict[str, Any] | None = None,
) -> ReferralDraft:
    """Change what the draft holds. Another client drops the chosen consent (it was the
    previous client's) and re-seals the content under the new client's key.

    Raises:
        NotAllowedChange: the draft was sent already.
        ConsentNotFound: the new client is not visible to the caller.
    """
    if draft.status != DraftStatus.OPEN:
        raise NotAllowedChange("This draft was sent already; it can no longer be changed.")
    kept = content if content is not None else None
    if client_id is not _UNSET and client_id != draft.client_id:
        if client_id is not None:
            consent_clients.get_client(session, caller, client_id=client_id)
        if kept is None and draft.content is not None:
            kept = content_of(session, draft)
        draft.client_id = client_id
        draft.consent_id = None
        draft.content = None
    if kind is not None:
        draft.kind = kind.value
    if service_id is not _UNSET:
        draft.service_id = service_id
    if consent_id is not _UNSET:
        draft.consent_id = consent_id
    if kept is not None and draft.client_id is not None:
        data = json.dumps(kept, separators=(",", ":"), ensure_ascii=False).encode()
        draft.content = consent_clients.seal_for_client(
            session, draft.client_id, data, _context(draft.id)
        )
    draft.updated_at = utcnow()
    session.flush()
    return draft


def mark_sent(session: Session, draft: ReferralDraft, referral_id: uuid.UUID) -> None:
    """The draft became this referral: its content is dropped (the referral holds it)."""
    draft.status = DraftStatus.SENT.value
    draft.referral_id = referral_id
    draft.content = None
    draft.updated_at = utcnow()
    session.flush()


def discard(session: Session, caller: Caller, draft: ReferralDraft) -> None:
    """Delete a draft that was not sent (audited; nothing of it is kept)."""
    if draft.status != DraftStatus.OPEN:
        raise NotAllowedChange("This draft was sent already; it can no longer be deleted.")
    _audit(session, caller, "referral.draft.discard", draft)
    session.delete(draft)
    session.flush()
