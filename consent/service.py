"""Consent rules: consent versions and revocation. With `consent.clients`, the only writer
of consent tables.

Services take the session and caller first; they flush, never commit. Every write and
every refusal is audited (pseudonyms and codes only). Reads start from
`consent.scope.visible_client_ids`. A consent is never overwritten: a change or a
revocation adds the next version of its series.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.clients import get_client, refuse, require_acting, subject_of
from consent.errors import ClientErased, ConsentNotFound
from consent.models import (
    Client,
    ConsentRecord,
    ConsentStatus,
    Provision,
    ProvisionRecipient,
    RevokedVia,
)
from consent.rules import draft_problem
from consent.schemas import ConsentCreate
from consent.scope import is_latest, visible_client_ids
from kernel import audit, outbox
from kernel.audit import Outcome
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = [
    "REVOKED_EVENT",
    "create_consent",
    "current_version",
    "draft_problem",
    "latest_versions",
    "provisions_of",
    "revoke",
    "revoke_record",
    "versions",
]

REVOKED_EVENT = "consent.revoked"


def _check_draft(
    session: Session, caller: Caller, client: Client, draft: ConsentCreate, now: dt.datetime
) -> None:
    """Refuse (audited) a consent that lacks what makes it meaningful."""
    problem = draft_problem(draft, client_id=client.id, now=now)
    if problem is not None:
        code, message = problem
        raise refuse(session, caller, "consent.create", subject_of(client.id), code, message)
    grantor = draft.grantor
    if grantor is not None and grantor.client_id not in (None, client.id):
        get_client(session, caller, client_id=grantor.client_id)


def _write_version(
    session: Session,
    *,
    series_id: uuid.UUID,
    version: int,
    client_id: uuid.UUID,
    org_id: uuid.UUID,
    actor: str,
    draft: ConsentCreate,
    status: ConsentStatus,
    revoked_via: RevokedVia | None,
    period_start: dt.datetime,
) -> ConsentRecord:
    assert draft.grantor is not None
    assert draft.grantor.relationship is not None
    record = ConsentRecord(
        series_id=series_id,
        version=version,
        client_id=client_id,
        recorded_by_org_id=org_id,
        recorded_by=actor,
        recorded_at=utcnow(),
        status=status.value,
        grantor_relationship=draft.grantor.relationship.value,
        grantor_id=draft.grantor.client_id,
        method=draft.method.value,
        witness=draft.witness,
        period_start=period_start,
        period_end=draft.period_end,
        revoked_via=revoked_via.value if revoked_via else None,
        language=draft.language,
    )
    session.add(record)
    session.flush()
    for position, p in enumerate(draft.provisions):
        provision = Provision(
            record_id=record.id,
            position=position,
            kind=p.kind.value,
            purposes=" " + " ".join(sorted({x.value for x in p.purposes})) + " ",
            categories=" " + " ".join(sorted({x.value for x in p.categories})) + " ",
            period_start=p.period_start,
            period_end=p.period_end,
        )
        session.add(provision)
        session.flush()
        for r in p.recipients:
            session.add(
                ProvisionRecipient(
                    provision_id=provision.id,
                    organisation_id=r.organisation_id,
                    organisation_type=r.organisation_type.value if r.organisation_type else None,
                )
            )
    session.flush()
    return record


def create_consent(
    session: Session,
    caller: Caller,
    *,
    client_id: uuid.UUID,
    draft: ConsentCreate,
    series_id: uuid.UUID | None = None,
) -> ConsentRecord:
    """Record a consent (a new series), or with `series_id` its next version.

    Raises:
        ConsentNotFound: the client (or the series) is not visible to the caller.
        ConsentInvalid: the consent lacks grantor, recipient, purpose, ... (audited).
    """
    action = "consent.create" if series_id is None else "consent.amend"
    require_acting(session, caller, action, subject_of(client_id))
    client = get_client(session, caller, client_id=client_id)
    if client.erased_at is not None:
        raise ClientErased("This client's data was erased; no consent can be recorded.")
    now = utcnow()
    version = 1
    if series_id is not None:
        current = current_version(session, caller, series_id=series_id)
        if current.client_id != client_id or current.status != ConsentStatus.ACTIVE:
            raise refuse(
                session,
                caller,
                action,
                subject_of(client_id),
                "not-active",
                "Only a consent in force can be changed; record a new consent instead.",
            )
        version = current.version + 1
    _check_draft(session, caller, client, draft, now)
    record = _write_version(
        session,
        series_id=series_id or new_id(),
        version=version,
        client_id=client.id,
        org_id=caller.organisation_id,
        actor=caller.actor,
        draft=draft,
        status=ConsentStatus.ACTIVE,
        revoked_via=None,
        period_start=draft.period_start or now,
    )
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject=subject_of(client.id),
        detail={"consent": str(record.series_id), "version": record.version},
    )
    return record


def versions(session: Session, caller: Caller, *, series_id: uuid.UUID) -> list[ConsentRecord]:
    """Every version of a consent, oldest first (404 unless the client is visible)."""
    rows = list(
        session.scalars(
            select(ConsentRecord)
            .where(
                ConsentRecord.series_id == series_id,
                ConsentRecord.client_id.in_(visible_client_ids(caller, utcnow())),
            )
            .order_by(ConsentRecord.version)
        )
    )
    if not rows:
        audit.record(
            session,
            actor=caller.actor,
            action="consent.read",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=f"Consent/{series_id}",
        )
        raise ConsentNotFound("No such consent.")
    return rows


def current_version(session: Session, caller: Caller, *, series_id: uuid.UUID) -> ConsentRecord:
    return versions(session, caller, series_id=series_id)[-1]


def latest_versions(
    session: Session, caller: Caller, *, client_id: uuid.UUID | None = None
) -> list[ConsentRecord]:
    """The current version of each consent the caller may see (optionally of one client)."""
    query = select(ConsentRecord).where(
        is_latest(), ConsentRecord.client_id.in_(visible_client_ids(caller, utcnow()))
    )
    if client_id is not None:
        query = query.where(ConsentRecord.client_id == client_id)
    return list(session.scalars(query.order_by(ConsentRecord.recorded_at.desc())))


def provisions_of(
    session: Session, records: Sequence[ConsentRecord]
) -> dict[uuid.UUID, list[tuple[Provision, list[ProvisionRecipient]]]]:
    """The provisions of each record, in order, with their recipients."""
    ids = [r.id for r in records]
    out: dict[uuid.UUID, list[tuple[Provision, list[ProvisionRecipient]]]] = {i: [] for i in ids}
    if not ids:
        return out
    provisions = list(
        session.scalars(
            select(Provision).where(Provision.record_id.in_(ids)).order_by(Provision.position)
        )
    )
    recipients: dict[uuid.UUID, list[ProvisionRecipient]] = {}
    for row in session.scalars(
        select(ProvisionRecipient).where(
            ProvisionRecipient.provision_id.in_([p.id for p in provisions])
        )
    ):
        recipients.setdefault(row.provision_id, []).append(row)
    for p in provisions:
        out[p.record_id].append((p, recipients.get(p.id, [])))
    return out


def revoke_record(
    session: Session,
    record: ConsentRecord,
    *,
    actor: str,
    organisation: uuid.UUID | None,
    via: RevokedVia,
    reason: str,
) -> ConsentRecord:
    """Add the inactive version that ends `record`'s consent, with its outbox event.

    The new version copies the provisions (history stays readable) and is the latest, so
    the very next decision no longer sees the consent.
    """
    provisions = provisions_of(session, [record])[record.id]
    copy = ConsentRecord(
        series_id=record.series_id,
        version=record.version + 1,
        client_id=record.client_id,
        recorded_by_org_id=organisation or record.recorded_by_org_id,
        recorded_by=actor,
        recorded_at=utcnow(),
        status=ConsentStatus.INACTIVE.value,
        grantor_relationship=record.grantor_relationship,
        grantor_id=record.grantor_id,
        method=record.method,
        witness=record.witness,
        period_start=record.period_start,
        period_end=record.period_end,
        revoked_via=via.value,
        language=record.language,
    )
    session.add(copy)
    session.flush()
    for p, recipients in provisions:
        provision = Provision(
            record_id=copy.id,
            position=p.position,
            kind=p.kind,
            purposes=p.purposes,
            categories=p.categories,
            period_start=p.period_start,
            period_end=p.period_end,
        )
        session.add(provision)
        session.flush()
        for r in recipients:
            session.add(
                ProvisionRecipient(
                    provision_id=provision.id,
                    organisation_id=r.organisation_id,
                    organisation_type=r.organisation_type,
                )
            )
    session.flush()
    outbox.enqueue(
        session,
        REVOKED_EVENT,
        {
            "consent_id": str(record.series_id),
            "version": copy.version,
            "client_id": str(record.client_id),
            "via": via.value,
        },
        dedupe_key=f"{REVOKED_EVENT}:{record.series_id}:{copy.version}",
    )
    audit.record(
        session,
        actor=actor,
        action="consent.revoke" if via is not RevokedVia.EXPIRY else "consent.expire",
        organisation=str(organisation) if organisation else None,
        subject=subject_of(record.client_id),
        detail={
            "consent": str(record.series_id),
            "version": copy.version,
            "via": via.value,
            "reason": reason,
        },
    )
    return copy


def revoke(session: Session, caller: Caller, *, series_id: uuid.UUID, reason: str) -> ConsentRecord:
    """Revoke a consent on the client's instruction (staff or system client).

    Raises:
        ConsentNotFound: not a consent the caller may see.
        ConsentInvalid: it is no longer in force (already revoked or expired).
    """
    current = current_version(session, caller, series_id=series_id)
    require_acting(session, caller, "consent.revoke", subject_of(current.client_id))
    if current.status != ConsentStatus.ACTIVE:
        raise refuse(
            session,
            caller,
            "consent.revoke",
            subject_of(current.client_id),
            "not-active",
            "This consent is no longer in force.",
        )
    return revoke_record(
        session,
        current,
        actor=caller.actor,
        organisation=caller.organisation_id,
        via=RevokedVia.STAFF,
        reason=reason,
    )
