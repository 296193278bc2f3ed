"""Receivers' FHIR Subscriptions (R4 Subscriptions Backport: rest-hook, id-only).

A receiver registers `POST /fhir/Subscription` with `criteria` such as
`Task?owner=Organization/<its id>` (or the backport form: `criteria` = the topic canonical,
the query in the `backport-filter-criteria` extension), `channel.type` `rest-hook`,
`channel.endpoint` its https URL and the payload content `id-only` (the backport's
`backport-payload-content` extension on `channel.payload`; the only content offered:
notifications never carry client data). Each message to the organisation whose focus is
of the subscribed resource type then POSTs a notification Bundle (see `targets`), and the
receiver reads the focus through the hub's FHIR API. A `Communication` subscription hears
of the referral threads' messages to the organisation (focus: the Communication).

A new subscription is `requested` until its handshake is answered (`subscription_tasks`):
2xx makes it `active`, anything else `error`. The backport's `backport-heartbeat-period`
extension on `channel` (60 to 86400 seconds) asks for heartbeats when nothing else was sent.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import models as directory_models
from gateway.delivery.errors import InvalidSubscription
from gateway.delivery.models import Subscription, SubscriptionState
from gateway.delivery.subscription_status import BACKPORT, TOPIC, status_bundle
from gateway.delivery.subscription_tasks import HANDSHAKE_TASK
from kernel import audit, outbox
from kernel.caller import Caller
from kernel.errors import NotFound

__all__ = [
    "CAPABILITY",
    "CRITERIA_PATTERN",
    "SUBSCRIPTION_MEMBERS",
    "create_subscription",
    "delete_subscription",
    "get_subscription",
    "list_subscriptions",
    "status_bundle",
    "to_fhir",
]

PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
HEARTBEAT_PERIOD = BACKPORT + "backport-heartbeat-period"
HEARTBEAT_RANGE = (60, 86400)
RESOURCE_TYPES = ("Task", "Communication", "Consent")
_REFERENCE_PARAMS = ("owner", "requester", "recipient", "organization", "actor")
#: CapabilityStatement.rest.resource entry for Subscription.
CAPABILITY: tuple[dict[str, Any], ...] = (
    {
        "type": "Subscription",
        "supportedProfile": [
            "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
            "backport-subscription"
        ],
        "interaction": [
            {"code": "create"},
            {"code": "read"},
            {"code": "delete"},
            {"code": "search-type"},
        ],
        "operation": [
            {
                "name": "status",
                "definition": "http://hl7.org/fhir/uv/subscriptions-backport/"
                "OperationDefinition/backport-subscription-status",
            }
        ],
    },
)
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ORG_REF = re.compile(rf"^(?:.*/)?Organization/({_UUID})$")
_CRITERION = rf"({'|'.join(_REFERENCE_PARAMS)})(:[A-Za-z]+)?=Organization/{_UUID}"
#: The criteria `_parse_criteria` reads, for the OpenAPI document (the topic form aside).
CRITERIA_PATTERN = rf"^({'|'.join(RESOURCE_TYPES)})\?{_CRITERION}(&{_CRITERION})*$"
#: What `create_subscription` checks of a body before the criteria, as a JSON Schema.
SUBSCRIPTION_MEMBERS: dict[str, Any] = {
    "criteria": {"type": "string", "maxLength": 500, "pattern": CRITERIA_PATTERN},
    "channel": {
        "type": "object",
        "required": ["type", "endpoint"],
        "properties": {
            "type": {"const": "rest-hook"},
            "endpoint": {"type": "string", "pattern": "^https://", "maxLength": 500},
            "header": {"type": "array", "maxItems": 0},
        },
    },
}


def _extension(element: Any, url: str) -> dict[str, Any] | None:
    if not isinstance(element, dict):
        return None
    for ext in element.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


def _own_organisation_ids(session: Session, caller: Caller) -> set[uuid.UUID]:
    """The caller's organisation and the directory organisations it owns."""
    listed = session.scalars(
        select(directory_models.DirOrganization.id).where(
            directory_models.DirOrganization.owner_organisation_id == caller.organisation_id
        )
    )
    return {caller.organisation_id, *listed}


def _criteria(body: dict[str, Any]) -> str:
    criteria = body.get("criteria")
    if not isinstance(criteria, str) or not criteria:
        raise InvalidSubscription("criteria is required, e.g. Task?owner=Organization/<id>.")
    if criteria == TOPIC:
        ext = _extension(body.get("_criteria"), FILTER_CRITERIA)
        value = ext.get("valueString") if ext else None
        if not isinstance(value, str) or not value:
            raise InvalidSubscription(f"topic {TOPIC} needs a {FILTER_CRITERIA} extension.")
        return value
    return criteria


def _parse_criteria(session: Session, caller: Caller, criteria: str) -> str:
    """The resource type the criteria select; they must name the caller's organisation."""
    resource_type, _, query = criteria.partition("?")
    if resource_type not in RESOURCE_TYPES:
        raise InvalidSubscription(
            f"criteria must select one of {', '.join(RESOURCE_TYPES)}, not {resource_type!r}."
        )
    params = parse_qsl(query)
    refs = [value for name, value in params if name.split(":")[0] in _REFERENCE_PARAMS]
    if not refs or len(refs) != len(params):
        raise InvalidSubscription(
            f"criteria must be {resource_type}?<{'|'.join(_REFERENCE_PARAMS)}>="
            "Organization/<your organisation id>."
        )
    own = _own_organisation_ids(session, caller)
    for ref in refs:
        match = _ORG_REF.match(ref)
        if match is None or uuid.UUID(match.group(1)) not in own:
            raise InvalidSubscription("criteria may only name your own organisation.")
    return resource_type


def _heartbeat(channel: dict[str, Any]) -> int | None:
    ext = _extension(channel, HEARTBEAT_PERIOD)
    if ext is None:
        return None
    value = ext.get("valueUnsignedInt")
    low, high = HEARTBEAT_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidSubscription(
            f"channel.extension {HEARTBEAT_PERIOD} must be a valueUnsignedInt of "
            f"{low} to {high} seconds."
        )
    return value


def create_subscription(
    session: Session, caller: Caller, *, body: dict[str, Any], allow_http: bool
) -> Subscription:
    """Register a rest-hook, id-only Subscription for the caller's organisation (audited).

    Raises:
        InvalidSubscription: not a Subscription this hub can serve, with the reason.
    """
    if body.get("resourceType") != "Subscription":
        raise InvalidSubscription("resourceType must be Subscription.")
    channel = body.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise InvalidSubscription("channel.type must be rest-hook.")
    endpoint = channel.get("endpoint")
    scheme = urlsplit(endpoint).scheme if isinstance(endpoint, str) else ""
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise InvalidSubscription("channel.endpoint must be an https URL.")
    if channel.get("header"):
        raise InvalidSubscription(
            "channel.header is not supported: verify the hub's X-Refhub-Signature instead."
        )
    content = _extension(channel.get("_payload"), PAYLOAD_CONTENT)
    content_code = content.get("valueCode") if content else "id-only"
    if content_code != "id-only":
        raise InvalidSubscription("only id-only payload content is offered.")
    assert isinstance(endpoint, str)
    heartbeat = _heartbeat(channel)
    if len(endpoint) > 500:
        raise InvalidSubscription("channel.endpoint is too long.")
    criteria = _criteria(body)
    if len(criteria) > 500:
        raise InvalidSubscription("criteria is too long.")
    resource_type = _parse_criteria(session, caller, criteria)
    reason = body.get("reason")
    subscription = Subscription(
        organisation_id=caller.organisation_id,
        resource_type=resource_type,
        criteria=criteria,
        endpoint=endpoint,
        content="id-only",
        heartbeat_seconds=heartbeat,
        reason=reason[:1000] if isinstance(reason, str) else "",
        status=SubscriptionState.REQUESTED,
        created_by=caller.actor,
    )
    session.add(subscription)
    session.flush()
    outbox.enqueue(session, HANDSHAKE_TASK, {"subscription_id": str(subscription.id)})
    audit.record(
        session,
        actor=caller.actor,
        action="delivery.subscription.create",
        organisation=str(caller.organisation_id),
        subject=f"Subscription/{subscription.id}",
        detail={"resource_type": resource_type},
    )
    return subscription


def get_subscription(session: Session, caller: Caller, subscription_id: uuid.UUID) -> Subscription:
    """One of the caller's organisation's subscriptions.

    Raises:
        NotFound: no such subscription of the caller's organisation.
    """
    subscription = session.scalars(
        select(Subscription).where(
            Subscription.id == subscription_id,
            Subscription.organisation_id == caller.organisation_id,
        )
    ).first()
    if subscription is None:
        raise NotFound("No such Subscription.")
    return subscription


def list_subscriptions(session: Session, caller: Caller) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.organisation_id == caller.organisation_id)
            .order_by(Subscription.created_at)
        )
    )


def delete_subscription(session: Session, caller: Caller, subscription_id: uuid.UUID) -> None:
    subscription = get_subscription(session, caller, subscription_id)
    session.delete(subscription)
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="delivery.subscription.delete",
        organisation=str(caller.organisation_id),
        subject=f"Subscription/{subscription_id}",
    )


def to_fhir(subscription: Subscription) -> dict[str, Any]:
    """The Subscription as R4 JSON, in the backport's topic form."""
    return {
        "resourceType": "Subscription",
        "id": str(subscription.id),
        "meta": {"profile": [BACKPORT + "backport-subscription"]},
        "status": subscription.status,
        "reason": subscription.reason or "refhub messages",
        "criteria": TOPIC,
        "_criteria": {
            "extension": [{"url": FILTER_CRITERIA, "valueString": subscription.criteria}]
        },
        "channel": {
            **(
                {"extension": [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": heartbeat}]}
                if (heartbeat := subscription.heartbeat_seconds)
                else {}
            ),
            "type": "rest-hook",
            "endpoint": subscription.endpoint,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": "id-only"}]},
        },
        **({"error": subscription.last_error} if subscription.last_error else {}),
    }
