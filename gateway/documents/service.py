"""Document rules: store (size, type, client checks, then sealed), read (access rules).

Services take the session and caller first and flush, never commit. Every store, read and
refusal is audited with ids, sizes, types and digests: never the title or the content.
Who may read is decided by `gateway.documents.access` (injectable); `read` itself decrypts
without asking, for callers that have decided already (the workflow's delivery).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from consent.errors import ClientErased
from gateway.documents import content_types
from gateway.documents.access import ACCESS, DocumentAccess
from gateway.documents.errors import (
    ContentTypeMismatch,
    DocumentInvalid,
    DocumentNotFound,
    DocumentTooLarge,
    UnsupportedContentType,
)
from gateway.documents.models import Document
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller
from kernel.crypto import sha256_hex
from kernel.db import new_id
from kernel.settings import get_settings

__all__ = [
    "DocumentView",
    "describe",
    "documents_of",
    "open_document",
    "read",
    "readable_document",
    "store",
    "title_of",
]

MAX_TITLE = 200


@dataclass(frozen=True)
class DocumentView:
    """A document's metadata with its decrypted title."""

    document: Document
    title: str


def _content_context(document_id: uuid.UUID) -> str:
    return f"document:{document_id}"


def _title_context(document_id: uuid.UUID) -> str:
    return f"document-title:{document_id}"


def _audit(
    session: Session,
    caller: Caller,
    action: str,
    client_id: uuid.UUID,
    outcome: Outcome = Outcome.SUCCESS,
    **detail: str | int | None,
) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        outcome=outcome,
        organisation=str(caller.organisation_id),
        subject=consent_clients.subject_of(client_id),
        detail=detail,
    )


def store(
    session: Session,
    caller: Caller,
    *,
    client_id: uuid.UUID,
    referral_id: uuid.UUID | None,
    title: str,
    content_type: str,
    data: bytes,
    access: DocumentAccess = ACCESS,
) -> Document:
    """Store a document about a client the caller may see, sealed under the client's key.

    Raises:
        ConsentNotPermitted: the caller's role may not work with clients (403).
        ConsentNotFound: the client is not visible to the caller (404).
        ClientErased: the client's data was erased; nothing new is stored (410).
        DocumentTooLarge: over REFHUB_DOCUMENT_MAX_BYTES (413).
        UnsupportedContentType, ContentTypeMismatch: not an allowed type, or the bytes are
            not of the declared type (415).
        DocumentInvalid: empty file, missing title, or a referral the checks refuse (422).
    """
    action = "document.store"
    consent_clients.require_acting(session, caller, action, consent_clients.subject_of(client_id))
    client = consent_clients.get_client(session, caller, client_id=client_id)

    def refused(code: str, **detail: str | int | None) -> None:
        _audit(session, caller, action, client.id, Outcome.DENIED, refused=code, **detail)

    if client.erased_at is not None:
        raise ClientErased("This client's data was erased; nothing new can be stored.")
    limit = get_settings().document_max_bytes
    if len(data) > limit:
        refused("too-large", size=len(data))
        raise DocumentTooLarge(f"A document may be at most {limit} bytes.")
    if not data:
        refused("empty")
        raise DocumentInvalid("The file is empty.")
    clean_title = title.strip()
    if not clean_title or len(clean_title) > MAX_TITLE:
        refused("title")
        raise DocumentInvalid(f"Give the document a title of 1 to {MAX_TITLE} characters.")
    declared = content_types.normalise(content_type)
    if declared not in content_types.ALLOWED:
        refused("unsupported-type", content_type=declared[:100] or None)
        raise UnsupportedContentType(
            f"Documents of type {declared or '(none)'} are not accepted; accepted types: "
            + ", ".join(sorted(content_types.ALLOWED))
        )
    if not content_types.matches(declared, data):
        refused("type-mismatch", content_type=declared, detected=content_types.detect(data))
        raise ContentTypeMismatch(f"The file's content is not of the declared type {declared}.")
    if referral_id is not None:
        access.check_referral(session, caller, referral_id, client.id)
    document_id = new_id()
    document = Document(
        id=document_id,
        client_id=client.id,
        organisation_id=caller.organisation_id,
        referral_id=referral_id,
        uploaded_by=caller.actor,
        title_ciphertext=consent_clients.seal_for_client(
            session, client.id, clean_title.encode(), _title_context(document_id)
        ),
        content_type=declared,
        size=len(data),
        sha256=sha256_hex(data),
        ciphertext=consent_clients.seal_for_client(
            session, client.id, data, _content_context(document_id)
        ),
    )
    session.add(document)
    session.flush()
    _audit(
        session,
        caller,
        action,
        client.id,
        document=str(document.id),
        referral=str(referral_id) if referral_id else None,
        content_type=declared,
        size=len(data),
        sha256=document.sha256,
    )
    return document


def read(session: Session, document_id: uuid.UUID) -> tuple[Document, bytes]:
    """The document and its decrypted content, without an access decision (the caller has
    made it) and without an audit record (the caller writes the one its action needs).

    Raises:
        DocumentNotFound: no such document.
        ClientErased: the client's data was erased (410).
        KeyUnavailable: the content does not open (altered, or the KEK is missing).
    """
    document = session.get(Document, document_id)
    if document is None:
        raise DocumentNotFound("No such document.")
    data = consent_clients.open_for_client(
        session, document.client_id, document.ciphertext, _content_context(document.id)
    )
    return document, data


def title_of(session: Session, document: Document) -> str:
    """The decrypted title (ClientErased once the client's data was erased)."""
    return consent_clients.open_for_client(
        session, document.client_id, document.title_ciphertext, _title_context(document.id)
    ).decode()


def readable_document(
    session: Session,
    caller: Caller,
    *,
    document_id: uuid.UUID,
    action: str = "document.read",
    access: DocumentAccess = ACCESS,
) -> Document:
    """The document if an access rule lets the caller read it.

    Raises:
        DocumentNotFound: missing or not readable by the caller: the same answer (audited).
    """
    document = session.get(Document, document_id)
    if document is None or not access.may_read(session, caller, document):
        audit.record(
            session,
            actor=caller.actor,
            action=action,
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=f"DocumentReference/{document_id}",
        )
        raise DocumentNotFound("No such document.")
    return document


def describe(
    session: Session, caller: Caller, *, document_id: uuid.UUID, access: DocumentAccess = ACCESS
) -> DocumentView:
    """A document's metadata and title, if the caller may read it (audited)."""
    action = "document.view"
    document = readable_document(
        session, caller, document_id=document_id, action=action, access=access
    )
    view = DocumentView(document=document, title=title_of(session, document))
    _audit(session, caller, action, document.client_id, document=str(document.id))
    return view


def open_document(
    session: Session, caller: Caller, *, document_id: uuid.UUID, access: DocumentAccess = ACCESS
) -> tuple[Document, bytes]:
    """A document and its content, if the caller may read it (audited, no content)."""
    action = "document.read"
    readable_document(session, caller, document_id=document_id, action=action, access=access)
    document, data = read(session, document_id)
    _audit(
        session,
        caller,
        action,
        document.client_id,
        document=str(document.id),
        size=document.size,
        sha256=document.sha256,
    )
    return document, data


def documents_of(
    session: Session, caller: Caller, *, client_id: uuid.UUID, access: DocumentAccess = ACCESS
) -> list[DocumentView]:
    """The documents about a client that the caller may read, newest first, with their
    titles (one audit record, with the count).

    Raises:
        ConsentNotFound: the client is not visible to the caller (404, audited).
        ClientErased: the client's data was erased (410): the titles no longer open.
    """
    client = consent_clients.get_client(session, caller, client_id=client_id)
    rows = session.scalars(
        select(Document)
        .where(Document.client_id == client.id)
        .order_by(Document.created_at.desc(), Document.id)
    )
    views = [
        DocumentView(document=d, title=title_of(session, d))
        for d in rows
        if access.may_read(session, caller, d)
    ]
    _audit(session, caller, "document.list", client.id, shown=len(views))
    return views
