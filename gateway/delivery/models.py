"""Delivery tables: outgoing messages with their receipts, push attempts, FHIR Subscriptions
and the event numbers their notifications carried.

A message row is the stable identity of one disclosure to one organisation (its id is the
`refhub-msg` receivers de-duplicate on). It holds ids and delivery facts in clear; content
is built, consent-checked and sealed at send time (and at inbox fetch). The one exception,
a status notice's content fixed at its event (`content`), is stored only sealed under the
client's data key (`consent.clients.seal_for_client`), so erasing the client makes it
unreadable like the rest of their data.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = [
    "DeliveryAttempt",
    "MessageState",
    "OutgoingMessage",
    "Subscription",
    "SubscriptionEvent",
    "SubscriptionState",
]


class MessageState(enum.StrEnum):
    PENDING = "pending"  # queued, being pushed, or waiting in the inbox
    DELIVERED = "delivered"  # a push channel answered 2xx
    ACKNOWLEDGED = "acknowledged"  # the receiver acknowledged it (inbox ack)
    CANCELLED = "cancelled"  # not sent: consent gone, or cancelled by the workflow
    FAILED = "failed"  # a receiver refused it for good, or retries ran out


class OutgoingMessage(Base):
    """One message to one receiving organisation and what became of it."""

    __tablename__ = "delivery_message"
    __table_args__ = (
        Index("ix_delivery_message_recipient_org_id_state", "recipient_org_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    recipient_org_id: Mapped[uuid.UUID]
    sender_org_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    subject_ref: Mapped[str] = mapped_column(String(200))
    service_id: Mapped[uuid.UUID | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.PENDING)
    #: channels that accepted it, space-separated (`webhook fhir-rest subscription inbox`)
    channels: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_attempt_at: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    #: an error code such as `http-503`, `timeout`, `connect-error`: never response content
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    #: a status notice's FHIR content as built at its event, sealed under the data key of
    #: `content_client_id` (None: built when sent, as other kinds are; see `outgoing`)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_client_id: Mapped[uuid.UUID | None]

    @property
    def channel_list(self) -> list[str]:
        return self.channels.split()


class DeliveryAttempt(Base):
    """One push of a message to one target, as the receiver answered it."""

    __tablename__ = "delivery_attempt"
    #: the heartbeat check reads a subscription's latest push (`subscription_tasks`)
    __table_args__ = (Index("ix_delivery_attempt_target_started_at", "target", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("delivery_message.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    #: the directory endpoint or subscription pushed to (`Endpoint/<id>`, `Subscription/<id>`)
    target: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))  # delivered | retry | refused


class SubscriptionState(enum.StrEnum):
    REQUESTED = "requested"  # created; waiting for the handshake's answer
    ACTIVE = "active"
    ERROR = "error"
    OFF = "off"


class Subscription(Base):
    """A receiver's FHIR Subscription (R4 backport, rest-hook, id-only notifications)."""

    __tablename__ = "delivery_subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    criteria: Mapped[str] = mapped_column(String(500))
    endpoint: Mapped[str] = mapped_column(String(500))
    #: the payload content code (only `id-only` is offered)
    content: Mapped[str] = mapped_column(String(20), default="id-only")
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionState.ACTIVE)
    events_since_start: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    end_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    #: the heartbeat period the subscriber asked for (`backport-heartbeat-period`), or None
    heartbeat_seconds: Mapped[int | None] = mapped_column(Integer)


class SubscriptionEvent(Base):
    """The event number a message was given for a subscription, kept so that a retried
    notification carries the same number (and timestamp) as its first try."""

    __tablename__ = "delivery_subscription_event"
    __table_args__ = (UniqueConstraint("subscription_id", "message_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("delivery_subscription.id", ondelete="CASCADE")
    )
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("delivery_message.id", ondelete="CASCADE"), index=True
    )
    event_number: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
