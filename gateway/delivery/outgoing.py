"""Outgoing messages: what the workflow calls to send something to another organisation.

`queue()` writes the message row and its `delivery.send` outbox event in the caller's
transaction, so the message exists exactly when the change that caused it commits. At send
time the builder registered for the message's kind turns the row into a FHIR resource
(re-checking consent; `Cancelled` stops it), and `gateway.delivery.tasks` seals and pushes
it. The row's id is the stable message id receivers de-duplicate on.

A status notice announces a moment: its content is built when it is queued (the event)
and kept on the message row (`OutgoingMessage.content`), sealed under the client's data
key, so a receiver that pulls it later, or a retry, still gets the status it announced,
not today's; the send event's payload holds the message id only. The builder still runs
at send and fetch time (an erased client or a withdrawn referral still cancels it), and
an erased client's stored content no longer opens. Other kinds are built when sent: a
packet carries what consent permits at that time.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from consent import clients as consent_clients
from consent.errors import ClientErased, KeyUnavailable
from gateway.delivery.models import MessageState, OutgoingMessage
from kernel import audit, outbox
from kernel.db import new_id, utcnow
from kernel.errors import Conflict

__all__ = [
    "AT_EVENT",
    "SEND_TASK",
    "Builder",
    "Cancelled",
    "MessageKind",
    "OutgoingMessage",
    "Payload",
    "build",
    "builder_for",
    "cancel",
    "queue",
    "receipts",
    "register_builder",
    "undelivered",
]

SEND_TASK = "delivery.send"


class MessageKind(enum.StrEnum):
    REFERRAL = "referral"
    STATUS = "status"
    MESSAGE = "message"
    REVOCATION = "revocation"


@dataclass(frozen=True)
class Payload:
    """What a builder returns at send time: one FHIR R4 resource as JSON.

    `resource_type` is "Bundle" (a new referral or handover, POSTed to a FHIR base),
    "Task" (a status change, PUT to `Task/{resource_id}`), "Communication", or a
    Consent/Parameters revocation notice. `focus` ("Task/<id>") is what subscription
    notifications point to; by default the resource itself.
    """

    resource: dict[str, Any]
    resource_type: str
    resource_id: str
    focus: str | None = None

    @property
    def focus_ref(self) -> str:
        return self.focus or f"{self.resource_type}/{self.resource_id}"


#: Kinds whose content is fixed when they are queued (see the module docstring).
AT_EVENT = frozenset({MessageKind.STATUS})


class Cancelled(Exception):
    """Raised by a builder when the message must not be sent (consent gone, referral
    withdrawn). `reason` is a short code or phrase, never client content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Builder = Callable[[Session, OutgoingMessage], Payload]
_BUILDERS: dict[MessageKind, Builder] = {}


def register_builder(kind: MessageKind, builder: Builder) -> None:
    """Name the function that builds messages of `kind` (the last registration wins)."""
    _BUILDERS[MessageKind(kind)] = builder


def builder_for(kind: str) -> Builder | None:
    return _BUILDERS.get(MessageKind(kind))


class NoBuilder(LookupError):
    """No builder is registered for a message kind (a deployment error, not the receiver's)."""


def build(session: Session, message: OutgoingMessage) -> Payload:
    """The message's payload, from its kind's builder.

    Raises:
        Cancelled: the builder refused (consent gone etc.).
        NoBuilder: nothing registered for the kind.
    """
    builder = builder_for(message.kind)
    if builder is None:
        known = ", ".join(sorted(k.value for k in _BUILDERS)) or "none"
        raise NoBuilder(f"no builder for {message.kind!r} messages; registered: {known}")
    payload = builder(session, message)
    announced = _opened_content(session, message)
    if announced is None:
        return payload
    return Payload(announced, payload.resource_type, payload.resource_id, payload.focus)


def _client_of(resource: dict[str, Any]) -> uuid.UUID | None:
    """The client a Task is for (its `for` identifier or Patient reference), if any."""
    subject = resource.get("for") or {}
    candidates = [(subject.get("identifier") or {}).get("value"), subject.get("reference")]
    for value in candidates:
        if isinstance(value, str):
            try:
                return uuid.UUID(value.rsplit("/", 1)[-1])
            except ValueError:
                continue
    return None


def _context(message_id: uuid.UUID) -> str:
    # the name content sealed before migration 0016 (in the send event) was bound to
    return f"delivery-snapshot:{message_id}"


def _seal_content(session: Session, message: OutgoingMessage) -> None:
    """Build the message now and keep it on the row, sealed under its client's key. Left
    empty when it cannot be (the builder refused or is missing, no client named, the
    client's key is gone): it is then built when sent, as other kinds are."""
    builder = builder_for(message.kind)
    if builder is None:
        return
    try:
        payload = builder(session, message)
    except Cancelled:
        return
    client_id = _client_of(payload.resource)
    if client_id is None:
        return
    data = json.dumps(payload.resource, separators=(",", ":")).encode()
    try:
        sealed = consent_clients.seal_for_client(session, client_id, data, _context(message.id))
    except (ClientErased, KeyUnavailable):
        return
    message.content, message.content_client_id = sealed, client_id


def _opened_content(session: Session, message: OutgoingMessage) -> dict[str, Any] | None:
    """The content stored at the event for this message, or None if none was.

    Raises:
        Cancelled: the client was erased (their key is gone: the content is unreadable).
    """
    if message.content is None or message.content_client_id is None:
        return None
    try:
        plain = consent_clients.open_for_client(
            session, message.content_client_id, message.content, _context(message.id)
        )
    except ClientErased:
        raise Cancelled("client-erased") from None
    resource = json.loads(plain)
    return resource if isinstance(resource, dict) else None


def queue(
    session: Session,
    *,
    kind: MessageKind,
    recipient_org_id: uuid.UUID,
    sender_org_id: uuid.UUID | None,
    referral_id: uuid.UUID | None,
    subject_ref: str,
    service_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
) -> OutgoingMessage:
    """Write a message and its send event in the caller's transaction; return the row.

    With a `dedupe_key` already used, the existing message is returned and nothing new is
    written (safe under concurrent callers: the insert does nothing on conflict).
    """
    kind = MessageKind(kind)
    message_id = new_id()
    values = {
        "id": message_id,
        "kind": kind.value,
        "recipient_org_id": recipient_org_id,
        "sender_org_id": sender_org_id,
        "referral_id": referral_id,
        "subject_ref": subject_ref,
        "service_id": service_id,
        "dedupe_key": dedupe_key,
        "state": MessageState.PENDING.value,
        "channels": "",
        "attempts": 0,
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OutgoingMessage).values(**values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    inserted = session.execute(statement.returning(OutgoingMessage.id)).scalar()
    if inserted is None:  # the dedupe key was used (by an earlier or a concurrent caller)
        existing = _by_dedupe_key(session, dedupe_key or "")
        assert existing is not None
        return existing
    # The row as written, without reading it back: what the INSERT held, as if loaded.
    message = OutgoingMessage(**values)
    make_transient_to_detached(message)
    session.add(message)
    if kind in AT_EVENT:
        _seal_content(session, message)
    outbox.enqueue(session, SEND_TASK, {"message_id": str(message_id)})
    audit.record(
        session,
        actor="system:delivery",
        action="delivery.queue",
        organisation=str(sender_org_id) if sender_org_id else None,
        subject=f"Message/{message_id}",
        detail={"kind": kind.value, "recipient": str(recipient_org_id)},
    )
    return message


def _by_dedupe_key(session: Session, dedupe_key: str) -> OutgoingMessage | None:
    return session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.dedupe_key == dedupe_key)
    ).first()


def receipts(session: Session, *, referral_id: uuid.UUID) -> list[OutgoingMessage]:
    """Every message about a referral, oldest first (the caller narrows to what it may see)."""
    return list(
        session.scalars(
            select(OutgoingMessage)
            .where(OutgoingMessage.referral_id == referral_id)
            .order_by(OutgoingMessage.created_at, OutgoingMessage.id)
        )
    )


_OPEN = (MessageState.PENDING.value, MessageState.FAILED.value)


def undelivered(
    session: Session, *, referral_id: uuid.UUID, kind: MessageKind | None = None
) -> list[OutgoingMessage]:
    """Messages about a referral that no receiver has taken yet (pending or failed)."""
    query = select(OutgoingMessage).where(
        OutgoingMessage.referral_id == referral_id, OutgoingMessage.state.in_(_OPEN)
    )
    if kind is not None:
        query = query.where(OutgoingMessage.kind == MessageKind(kind).value)
    return list(session.scalars(query.order_by(OutgoingMessage.created_at)))


def cancel(session: Session, message: OutgoingMessage, reason: str) -> None:
    """Stop a message that has not reached its receiver; audited. Cancelling a cancelled
    message does nothing.

    Raises:
        Conflict: it was already delivered or acknowledged (a revocation notice follows
        instead).
    """
    if message.state == MessageState.CANCELLED:
        return
    if message.state in (MessageState.DELIVERED, MessageState.ACKNOWLEDGED):
        raise Conflict(f"Message {message.id} was already {message.state}.")
    message.state = MessageState.CANCELLED
    message.cancel_reason = reason[:200]
    session.flush()
    audit.record(
        session,
        actor="system:delivery",
        action="delivery.cancel",
        organisation=str(message.sender_org_id) if message.sender_org_id else None,
        subject=f"Message/{message.id}",
        detail={"kind": message.kind, "reason": reason[:200]},
    )
