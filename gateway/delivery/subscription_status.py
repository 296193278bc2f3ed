"""SubscriptionStatus (R4 backport, as Parameters) and the Bundles that carry it: event
notifications, handshakes, heartbeats and `$status` answers.

Every Bundle is of type `history` with the SubscriptionStatus first (backport profiles
`backport-subscription-notification-r4` and `backport-subscription-status-r4`).
`events-since-subscription-start` is the subscription's stored counter; an event
notification also carries its own `event-number` and `timestamp`, fixed when the event was
first notified (`SubscriptionEvent`), so a retried push repeats them.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from gateway.delivery.models import Subscription
from kernel.db import new_id, utcnow

__all__ = [
    "BACKPORT",
    "NOTIFICATION_PROFILE",
    "STATUS_PROFILE",
    "TOPIC",
    "NoticeType",
    "notice_bundle",
    "status_bundle",
    "status_parameters",
]

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
NOTIFICATION_PROFILE = BACKPORT + "backport-subscription-notification-r4"
STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"
#: The topic refhub's subscriptions stand for (criteria narrow it per receiver).
TOPIC = "https://refhub.org/fhir/SubscriptionTopic/messages-to-organisation"


class NoticeType(enum.StrEnum):
    """SubscriptionStatus.type (the backport's `backport-notification-type` codes)."""

    HANDSHAKE = "handshake"
    HEARTBEAT = "heartbeat"
    EVENT = "event-notification"
    QUERY_STATUS = "query-status"


def status_parameters(
    subscription: Subscription,
    fhir_base: str,
    kind: NoticeType,
    *,
    status: str | None = None,
    event: tuple[int, str] | None = None,
    event_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The SubscriptionStatus as R4 Parameters; `event` is (event number, focus reference)
    for an event notification, `event_at` when it happened (default now); `status`
    overrides the stored one (a handshake says `requested` until the receiver answers)."""
    parameters: list[dict[str, Any]] = [
        {
            "name": "subscription",
            "valueReference": {"reference": f"{fhir_base}/Subscription/{subscription.id}"},
        },
        {"name": "topic", "valueCanonical": TOPIC},
        {"name": "status", "valueCode": status or subscription.status},
        {"name": "type", "valueCode": kind.value},
        {
            "name": "events-since-subscription-start",
            "valueString": str(subscription.events_since_start),
        },
    ]
    if event is not None:
        number, focus = event
        parameters.append(
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(number)},
                    {"name": "timestamp", "valueInstant": (event_at or utcnow()).isoformat()},
                    {"name": "focus", "valueReference": {"reference": f"{fhir_base}/{focus}"}},
                ],
            }
        )
    if subscription.last_error and kind is NoticeType.QUERY_STATUS:
        parameters.append(
            {"name": "error", "valueCodeableConcept": {"text": subscription.last_error}}
        )
    status_id = str(new_id())
    return {
        "resourceType": "Parameters",
        "id": status_id,
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": parameters,
    }


def _bundle(subscription: Subscription, fhir_base: str, status: dict[str, Any]) -> dict[str, Any]:
    subscription_url = f"{fhir_base}/Subscription/{subscription.id}"
    return {
        "resourceType": "Bundle",
        "id": str(new_id()),
        "meta": {"profile": [NOTIFICATION_PROFILE]},
        "type": "history",
        "timestamp": utcnow().isoformat(),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{status['id']}",
                "resource": status,
                "request": {"method": "GET", "url": f"{subscription_url}/$status"},
                "response": {"status": "200"},
            }
        ],
    }


def notice_bundle(
    subscription: Subscription,
    fhir_base: str,
    kind: NoticeType,
    *,
    status: str | None = None,
    event: tuple[int, str] | None = None,
    event_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A notification Bundle: handshake, heartbeat, or (with `event`, see
    `status_parameters`) an id-only event notification whose focus follows by reference."""
    parameters = status_parameters(
        subscription, fhir_base, kind, status=status, event=event, event_at=event_at
    )
    bundle = _bundle(subscription, fhir_base, parameters)
    if event is not None:
        focus = event[1]
        bundle["entry"].append(
            {
                "fullUrl": f"{fhir_base}/{focus}",
                "request": {"method": "PUT", "url": focus},
                "response": {"status": "200"},
            }
        )
    return bundle


def status_bundle(subscription: Subscription, fhir_base: str) -> dict[str, Any]:
    """`$status`: a `history` Bundle whose one entry is the `query-status` SubscriptionStatus."""
    parameters = status_parameters(subscription, fhir_base, NoticeType.QUERY_STATUS)
    bundle = _bundle(subscription, fhir_base, parameters)
    del bundle["meta"]  # not a notification: the Bundle has no backport profile of its own
    return bundle
