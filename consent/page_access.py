"""The client's own access to their consents: single-use links, short sessions, revocation.

Staff issue a link (a random token, valid for a limited time) plus a second check the
client gives when opening it: a short code handed over separately, or their birth date.
On first use the token is spent and exchanged for a 15-minute page session (a cookie);
only SHA-256 hashes of tokens and session secrets are stored. Every opening, refusal and
revocation is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients, service
from consent.errors import ConsentInvalid, PageAccessRefused, PageSessionMissing, PageTokenRefused
from consent.models import ConsentRecord, ConsentStatus, PageSession, PageToken, RevokedVia
from consent.scope import is_latest
from kernel import audit
from kernel.audit import AuditRecord, Outcome
from kernel.caller import Caller
from kernel.crypto import sha256_hex
from kernel.db import utcnow

__all__ = [
    "DISCLOSURE_ACTIONS",
    "MAX_CHECK_FAILURES",
    "SESSION_MINUTES",
    "IssuedLink",
    "client_consents",
    "disclosures",
    "end_session",
    "issue_link",
    "link_language",
    "open_link",
    "page_session",
    "revoke_as_client",
    "visible_record",
]

SESSION_MINUTES = 15
MAX_CHECK_FAILURES = 5
#: Audit actions that mean "the client's data went to someone" (written by the gateway).
DISCLOSURE_ACTIONS = ("disclosure", "referral.submit")
_ANONYMOUS = "client-page:anonymous"


@dataclass(frozen=True)
class IssuedLink:
    """A new consent-page link: give `url` and `code` (if any) to the client separately."""

    url: str
    token: str
    code: str | None
    expires_at: dt.datetime


def _check_hash(token: str, check: str) -> str:
    return sha256_hex(f"{token}:{check.strip()}".encode())


def issue_link(
    session: Session,
    caller: Caller,
    *,
    client_id: uuid.UUID,
    base_url: str,
    language: str | None,
    second_check: str,
    valid_minutes: int,
) -> IssuedLink:
    """Create a single-use link to the consent page for a client the caller may see."""
    subject = clients.subject_of(client_id)
    clients.require_acting(session, caller, "consent.page.issue", subject)
    client = clients.get_client(session, caller, client_id=client_id)
    identity = clients.identity_of(client)
    token = secrets.token_urlsafe(32)
    code: str | None = None
    if second_check == "birth-date":
        if not identity.get("birth_date"):
            raise clients.refuse(
                session,
                caller,
                "consent.page.issue",
                subject,
                "birth-date-unknown",
                "The client's birth date is not recorded; use a short code instead.",
            )
        check = str(identity["birth_date"])
    else:
        code = f"{secrets.randbelow(1_000_000):06d}"
        check = code
    expires_at = utcnow() + dt.timedelta(minutes=valid_minutes)
    session.add(
        PageToken(
            client_id=client.id,
            token_hash=sha256_hex(token.encode()),
            check_hash=_check_hash(token, check),
            language=language or str(identity.get("preferred_language") or "en"),
            created_by=caller.actor,
            expires_at=expires_at,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="consent.page.issue",
        organisation=str(caller.organisation_id),
        subject=subject,
        detail={"second_check": second_check, "valid_minutes": valid_minutes},
    )
    return IssuedLink(
        url=f"{base_url}/consent/page/open?token={token}",
        token=token,
        code=code,
        expires_at=expires_at,
    )


def _refuse_open(session: Session, subject: str | None, reason: str) -> PageTokenRefused:
    audit.record(
        session,
        actor=_ANONYMOUS,
        action="consent.page.open",
        outcome=Outcome.DENIED,
        subject=subject,
        detail={"refused": reason},
    )
    return PageTokenRefused(
        "This link has expired, was already used, or the check did not match. "
        "Ask your case worker for a new link."
    )


def open_link(session: Session, *, token: str, check: str) -> tuple[str, PageSession]:
    """Spend a link: returns the new page session and its secret (for the cookie).

    Raises:
        PageTokenRefused: unknown, used, expired, locked, or the second check failed
            (audited; a failed check counts towards locking the link).
    """
    row = session.scalars(
        select(PageToken).where(PageToken.token_hash == sha256_hex(token.encode()))
    ).first()
    if row is None:
        raise _refuse_open(session, None, "unknown")
    subject = clients.subject_of(row.client_id)
    now = utcnow()
    if row.used_at is not None:
        raise _refuse_open(session, subject, "reused")
    if row.expires_at <= now:
        raise _refuse_open(session, subject, "expired")
    if row.failed_checks >= MAX_CHECK_FAILURES:
        raise _refuse_open(session, subject, "locked")
    if not secrets.compare_digest(row.check_hash, _check_hash(token, check)):
        row.failed_checks += 1
        session.flush()
        raise _refuse_open(session, subject, "check-failed")
    row.used_at = now
    secret = secrets.token_urlsafe(32)
    page = PageSession(
        client_id=row.client_id,
        token_id=row.id,
        session_hash=sha256_hex(secret.encode()),
        csrf_token=secrets.token_urlsafe(24),
        language=row.language,
        expires_at=now + dt.timedelta(minutes=SESSION_MINUTES),
    )
    session.add(page)
    session.flush()
    audit.record(
        session,
        actor=f"client-page:{page.id}",
        action="consent.page.open",
        subject=subject,
    )
    return secret, page


def page_session(session: Session, secret: str | None) -> PageSession:
    """The live page session behind a cookie secret.

    Raises:
        PageSessionMissing: no secret, unknown, ended or expired.
    """
    if not secret:
        raise PageSessionMissing("Open the link your case worker gave you.")
    page = session.scalars(
        select(PageSession).where(PageSession.session_hash == sha256_hex(secret.encode()))
    ).first()
    if page is None or page.ended_at is not None or page.expires_at <= utcnow():
        raise PageSessionMissing("Your session has ended. Open a new link to continue.")
    return page


def end_session(session: Session, page: PageSession) -> None:
    page.ended_at = utcnow()
    session.flush()


def visible_record(session: Session, page: PageSession, record_id: uuid.UUID) -> ConsentRecord:
    """A consent version of the signed-in client (a receipt), else PageAccessRefused."""
    record = session.get(ConsentRecord, record_id)
    if record is None or record.client_id != page.client_id:
        audit.record(
            session,
            actor=f"client-page:{page.id}",
            action="consent.page.receipt",
            outcome=Outcome.DENIED,
            subject=clients.subject_of(page.client_id),
            detail={"refused": "not-yours"},
        )
        raise PageAccessRefused("No such receipt.")
    return record


def revoke_as_client(session: Session, page: PageSession, *, series_id: uuid.UUID) -> ConsentRecord:
    """The client revokes one of their consents (one action).

    Raises:
        PageAccessRefused: the consent is someone else's or does not exist (audited).
        ConsentInvalid: it is no longer in force.
    """
    actor = f"client-page:{page.id}"
    subject = clients.subject_of(page.client_id)
    current = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.series_id == series_id)
        .order_by(ConsentRecord.version.desc())
        .limit(1)
    ).first()
    if current is None or current.client_id != page.client_id:
        audit.record(
            session,
            actor=actor,
            action="consent.revoke",
            outcome=Outcome.DENIED,
            subject=subject,
            detail={"refused": "not-yours", "consent": str(series_id)},
        )
        raise PageAccessRefused("No such consent.")
    if current.status != ConsentStatus.ACTIVE:
        audit.record(
            session,
            actor=actor,
            action="consent.revoke",
            outcome=Outcome.DENIED,
            subject=subject,
            detail={"refused": "not-active", "consent": str(series_id)},
        )
        raise ConsentInvalid("This consent is no longer in force.")
    return service.revoke_record(
        session, current, actor=actor, organisation=None, via=RevokedVia.CLIENT, reason="client"
    )


def disclosures(session: Session, client_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who received what about the client, from the audit trail (newest first)."""
    rows = session.scalars(
        select(AuditRecord)
        .where(
            AuditRecord.subject == clients.subject_of(client_id),
            AuditRecord.action.in_(DISCLOSURE_ACTIONS),
            AuditRecord.outcome == Outcome.SUCCESS.value,
        )
        .order_by(AuditRecord.seq.desc())
        .limit(200)
    )
    return [
        {
            "at": row.recorded_at,
            "recipient": row.detail.get("recipient"),
            "categories": str(row.detail.get("categories") or row.detail.get("permitted") or ""),
            "purpose": row.purpose,
        }
        for row in rows
    ]


def client_consents(session: Session, page: PageSession) -> list[ConsentRecord]:
    """The current version of each of the signed-in client's consents, newest first."""
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.client_id == page.client_id, is_latest())
            .order_by(ConsentRecord.recorded_at.desc())
        )
    )


def link_language(session: Session, token: str) -> str | None:
    """The language a link was issued in (reveals nothing else, spends nothing)."""
    if not token:
        return None
    return session.scalars(
        select(PageToken.language).where(PageToken.token_hash == sha256_hex(token.encode()))
    ).first()
