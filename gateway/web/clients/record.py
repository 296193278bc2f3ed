"""A client's record, gathered from the services that own each part: identity and
consents (consent), referrals and handovers (workflow queries), cases, documents."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from consent import clients as consent_clients
from consent import service as consent_service
from consent.errors import ClientErased
from consent.models import Client, ClientIdentifier
from gateway import consent_wiring
from gateway.auth.errors import Forbidden
from gateway.documents import service as documents_service
from gateway.web.clients.wording import ConsentView, Words, consent_view
from gateway.workflow import cases, notes, queries, views
from gateway.workflow.notes import NoteOut
from gateway.workflow.schemas import CaseOut, ReferralOut
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["REFERRALS_SHOWN", "ClientRecord", "birth_day", "load_record", "shown_identity"]

#: The most recent referrals and handovers listed on a client's record.
REFERRALS_SHOWN = 50


@dataclass
class ClientRecord:
    client: Client
    identity: dict[str, Any]
    own: bool
    erased: bool
    registered_by: str
    identifiers: list[ClientIdentifier] = field(default_factory=list)
    consents: list[ConsentView] = field(default_factory=list)
    referrals: list[ReferralOut] = field(default_factory=list)
    referral_total: int = 0
    cases: list[CaseOut] = field(default_factory=list)
    documents: list[documents_service.DocumentView] = field(default_factory=list)
    #: The organisation's case notes about the client, newest contact first; None when
    #: the caller's role does not read notes (org admins) or the client was erased.
    notes: list[NoteOut] | None = None
    #: The open case new notes go on (None: notes can only be read).
    note_case: uuid.UUID | None = None

    @property
    def name(self) -> str:
        return str(self.identity.get("name") or "")

    @property
    def born(self) -> dt.date | None:
        return birth_day(self.identity)


def birth_day(identity: dict[str, Any]) -> dt.date | None:
    """The identity's birth date as a date (it is kept as ISO text)."""
    value = identity.get("birth_date")
    return dt.date.fromisoformat(str(value)) if value else None


def shown_identity(session: Session, caller: Caller, client: Client) -> dict[str, Any]:
    """What of the client's identity the caller may see (all of it for the registering
    organisation, else what consent permits: a decision, audited)."""
    return consent_clients.readable_identity(
        session,
        caller,
        client,
        caller_org_type=consent_wiring.ORGANISATIONS.type_of(session, caller.organisation_id),
    )


def _consents(
    session: Session, caller: Caller, client_id: uuid.UUID, words: Words
) -> list[ConsentView]:
    records = consent_service.latest_versions(session, caller, client_id=client_id)
    provisions = consent_service.provisions_of(session, records)
    org_ids = {r.recorded_by_org_id for r in records} | {
        rec.organisation_id
        for rows in provisions.values()
        for _p, recipients in rows
        for rec in recipients
        if rec.organisation_id is not None
    }
    names = consent_wiring.ORGANISATIONS.names(session, org_ids)
    now = utcnow()
    shown = [consent_view(words, r, provisions[r.id], names, now) for r in records]
    return sorted(shown, key=lambda c: (not c.in_force, -c.recorded_at.timestamp()))


def load_record(
    session: Session, caller: Caller, client_id: uuid.UUID, words: Words
) -> ClientRecord:
    """Everything the caller may see about one client.

    Raises:
        ConsentNotPermitted: the caller's role does not work with clients (audited).
        ConsentNotFound: no such client, or not one the caller's organisation may see.
    """
    consent_clients.require_acting(
        session, caller, "client.read", consent_clients.subject_of(client_id)
    )
    client = consent_clients.get_client(session, caller, client_id=client_id)
    own = client.registered_by_org_id == caller.organisation_id
    registered_by = consent_wiring.ORGANISATIONS.names(session, [client.registered_by_org_id])
    record = ClientRecord(
        client=client,
        identity={},
        own=own,
        erased=client.erased_at is not None,
        registered_by=registered_by.get(client.registered_by_org_id, ""),
    )
    if not record.erased:
        try:
            record.identity = shown_identity(session, caller, client)
            record.documents = documents_service.documents_of(session, caller, client_id=client.id)
        except ClientErased:
            record.erased = True
    record.identifiers = [
        i
        for i in consent_clients.identifiers_of(session, client.id)
        if i.organisation_id == caller.organisation_id
    ]
    record.consents = _consents(session, caller, client.id, words)
    rows, record.referral_total = queries.search(
        session, caller, queries.Filters(box="all", client=[client.id], limit=REFERRALS_SHOWN)
    )
    record.referrals = views.referrals_out(session, caller, rows)
    case_rows, _ = cases.list_cases(
        session, caller, status=None, offset=0, limit=10, client_id=client.id
    )
    record.cases = [cases.case_out(session, c) for c in case_rows]
    if not record.erased and notes.reads_notes(caller):
        try:
            record.notes = notes.notes_of_client(session, caller, client.id)
        except (Forbidden, ClientErased):
            record.notes = None
        else:
            record.note_case = next((c.id for c in record.cases if c.status == "open"), None)
    return record
