"""Where a message goes: the receiver's endpoints from the directory and its Subscriptions.

Reads `directory.models` (the directory owns those tables; nothing here writes them).
A referral to a service goes to that service's endpoint; everything else to the active
endpoints of the directory organisations the recipient owns. Subscriptions of the
recipient whose resource type is the payload's focus type get an id-only notification.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc.jwk import ECKey, OKPKey, import_key
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import models as directory_models
from gateway.delivery.channels import (
    CONNECTION_TYPES,
    FHIR_JSON,
    JOSE,
    KIND_HEADER,
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    Channel,
    Push,
    detached_signature,
)
from gateway.delivery.envelope import seal_message
from gateway.delivery.models import OutgoingMessage, Subscription, SubscriptionState
from gateway.delivery.outgoing import MessageKind, Payload
from kernel.db import new_id, transaction_memo, utcnow

__all__ = ["Skipped", "content_pushes", "endpoints_for", "notification_pushes", "receiver_key"]

PublicKey = ECKey | OKPKey
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
NOTIFICATION_PROFILE = BACKPORT + "backport-subscription-notification-r4"
STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"
#: The topic refhub's subscriptions stand for (criteria narrow it per receiver).
TOPIC = "https://refhub.org/fhir/SubscriptionTopic/messages-to-organisation"


@dataclass(frozen=True)
class Skipped:
    """A target that was not pushed to, and why (a code, for the audit detail)."""

    target: str
    reason: str


def endpoints_for(session: Session, message: OutgoingMessage) -> list[directory_models.DirEndpoint]:
    """The active directory endpoints a message is pushed to (possibly none); looked up
    once per recipient (and service) in a transaction, however many messages it sends."""
    key = (message.recipient_org_id, message.kind == MessageKind.REFERRAL and message.service_id)
    memo = transaction_memo(session, "delivery.endpoints")
    if key not in memo:
        memo[key] = _lookup_endpoints(session, message)
    return list(memo[key])


def _lookup_endpoints(
    session: Session, message: OutgoingMessage
) -> list[directory_models.DirEndpoint]:
    if message.kind == MessageKind.REFERRAL and message.service_id is not None:
        service = session.get(directory_models.Service, message.service_id)
        if (
            service is not None
            and service.owner_organisation_id == message.recipient_org_id
            and service.endpoint_id is not None
        ):
            endpoint = session.get(directory_models.DirEndpoint, service.endpoint_id)
            if endpoint is not None and endpoint.active:
                return [endpoint]
    query = (
        select(directory_models.DirEndpoint)
        .join(
            directory_models.DirOrganization,
            directory_models.DirOrganization.id == directory_models.DirEndpoint.organization_id,
        )
        .where(
            directory_models.DirOrganization.owner_organisation_id == message.recipient_org_id,
            directory_models.DirEndpoint.active.is_(True),
        )
        .order_by(directory_models.DirEndpoint.id)
    )
    return list(session.scalars(query))


def receiver_key(jwk: dict[str, Any] | None) -> PublicKey | None:
    """The endpoint's public key if it is one refhub can encrypt to (EC or X25519)."""
    if not jwk:
        return None
    try:
        key = import_key(jwk)
    except Exception:  # noqa: BLE001 - a malformed key in the directory is just unusable
        return None
    return key if isinstance(key, ECKey | OKPKey) else None


def _url_allowed(url: str, allow_http: bool) -> bool:
    scheme = urlsplit(url).scheme
    return scheme == "https" or (allow_http and scheme == "http")


def content_pushes(
    session: Session,
    message: OutgoingMessage,
    payload: Payload,
    *,
    signing_key: ECKey,
    allow_http: bool,
    done: set[str],
) -> tuple[list[Push], list[Skipped]]:
    """Sealed requests to the receiver's endpoints, except targets in `done`."""
    pushes: list[Push] = []
    skipped: list[Skipped] = []
    body = json.dumps(payload.resource, separators=(",", ":")).encode()
    sealed_for: dict[str, bytes] = {}
    for endpoint in endpoints_for(session, message):
        target = f"Endpoint/{endpoint.id}"
        if target in done:
            continue
        channel = CONNECTION_TYPES.get(endpoint.connection_type)
        if channel is None:
            skipped.append(Skipped(target, f"unknown-connection-type:{endpoint.connection_type}"))
            continue
        if not _url_allowed(endpoint.address, allow_http):
            skipped.append(Skipped(target, "insecure-address"))
            continue
        key = receiver_key(endpoint.public_jwk)
        if key is None:
            skipped.append(Skipped(target, "no-usable-key"))
            continue
        thumb = key.thumbprint()
        if thumb not in sealed_for:
            sealed_for[thumb] = seal_message(
                body,
                message_id=str(message.id),
                content_type=FHIR_JSON,
                signing_key=signing_key,
                receiver_key=key,
            ).encode()
        method, url = "POST", endpoint.address
        if channel is Channel.FHIR_REST and payload.resource_type not in ("Bundle", "Parameters"):
            method = "PUT"
            url = f"{endpoint.address.rstrip('/')}/{payload.resource_type}/{payload.resource_id}"
        headers = {
            "Content-Type": JOSE,
            MESSAGE_ID_HEADER: str(message.id),
            KIND_HEADER: message.kind,
        }
        pushes.append(Push(channel, target, method, url, headers, sealed_for[thumb]))
    return pushes, skipped


def _matching_subscriptions(
    session: Session, message: OutgoingMessage, payload: Payload
) -> list[Subscription]:
    """The recipient's active Subscriptions for the focus type, locked (their event counter
    is incremented). Only "none" is remembered for the transaction: a lock taken in a
    savepoint that rolls back is released, so found rows are locked afresh each time."""
    focus_type = payload.focus_ref.split("/", 1)[0]
    key = (message.recipient_org_id, focus_type)
    none_for = transaction_memo(session, "delivery.no-subscriptions")
    if key in none_for:
        return []
    found = list(
        session.scalars(
            select(Subscription)
            .where(
                Subscription.organisation_id == message.recipient_org_id,
                Subscription.status == SubscriptionState.ACTIVE,
                Subscription.resource_type == focus_type,
            )
            .order_by(Subscription.id)
            .with_for_update()
        )
    )
    if not found:
        none_for[key] = True
    return found


def notification_bundle(
    subscription: Subscription, *, event_number: int, focus: str, fhir_base: str
) -> dict[str, Any]:
    """An R4 backport `history` Bundle with id-only content: SubscriptionStatus
    (Parameters) first, then the focus by reference only."""
    status_id = str(new_id())
    now = utcnow().isoformat()
    subscription_url = f"{fhir_base}/Subscription/{subscription.id}"
    focus_url = f"{fhir_base}/{focus}"
    return {
        "resourceType": "Bundle",
        "id": str(new_id()),
        "meta": {"profile": [NOTIFICATION_PROFILE]},
        "type": "history",
        "timestamp": now,
        "entry": [
            {
                "fullUrl": f"urn:uuid:{status_id}",
                "resource": {
                    "resourceType": "Parameters",
                    "id": status_id,
                    "meta": {"profile": [STATUS_PROFILE]},
                    "parameter": [
                        {"name": "subscription", "valueReference": {"reference": subscription_url}},
                        {"name": "topic", "valueCanonical": TOPIC},
                        {"name": "status", "valueCode": "active"},
                        {"name": "type", "valueCode": "event-notification"},
                        {
                            "name": "events-since-subscription-start",
                            "valueString": str(event_number),
                        },
                        {
                            "name": "notification-event",
                            "part": [
                                {"name": "event-number", "valueString": str(event_number)},
                                {"name": "timestamp", "valueInstant": now},
                                {"name": "focus", "valueReference": {"reference": focus_url}},
                            ],
                        },
                    ],
                },
                "request": {"method": "GET", "url": f"{subscription_url}/$status"},
                "response": {"status": "200"},
            },
            {
                "fullUrl": focus_url,
                "request": {"method": "PUT", "url": focus},
                "response": {"status": "200"},
            },
        ],
    }


def notification_pushes(
    session: Session,
    message: OutgoingMessage,
    payload: Payload,
    *,
    signing_key: ECKey,
    allow_http: bool,
    fhir_base: str,
    done: set[str],
) -> tuple[list[Push], list[Skipped]]:
    """Signed id-only notifications to the receiver's matching Subscriptions."""
    pushes: list[Push] = []
    skipped: list[Skipped] = []
    for subscription in _matching_subscriptions(session, message, payload):
        target = f"Subscription/{subscription.id}"
        if target in done:
            continue
        if not _url_allowed(subscription.endpoint, allow_http):
            skipped.append(Skipped(target, "insecure-address"))
            continue
        subscription.events_since_start += 1
        bundle = notification_bundle(
            subscription,
            event_number=subscription.events_since_start,
            focus=payload.focus_ref,
            fhir_base=fhir_base,
        )
        body = json.dumps(bundle, separators=(",", ":")).encode()
        headers = {
            "Content-Type": FHIR_JSON,
            MESSAGE_ID_HEADER: str(message.id),
            KIND_HEADER: message.kind,
            SIGNATURE_HEADER: detached_signature(
                body, message_id=str(message.id), content_type=FHIR_JSON, signing_key=signing_key
            ),
        }
        pushes.append(
            Push(Channel.SUBSCRIPTION, target, "POST", subscription.endpoint, headers, body)
        )
    return pushes, skipped


def subscription_id(target: str) -> uuid.UUID | None:
    kind, _, value = target.partition("/")
    return uuid.UUID(value) if kind == "Subscription" else None
