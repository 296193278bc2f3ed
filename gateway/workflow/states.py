"""The Task state machine of the Gravity SDOH Clinical Care IG, and its vocabularies.

Who may move a referral from one status to another, which moves need a reason, which
statuses end it; the BSeR business-status codes for the finer steps; the hub's reason codes.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Any

from gateway.workflow.models import Status

__all__ = [
    "BUSINESS_STATUS",
    "BUSINESS_STATUS_SYSTEM",
    "OPEN",
    "REASONS",
    "REASON_REQUIRED",
    "REASON_SYSTEM",
    "TERMINAL",
    "Party",
    "allowed_moves",
    "business_status_concept",
    "may_move",
]

REASON_SYSTEM = "https://refhub.org/fhir/CodeSystem/referral-status-reason"
BUSINESS_STATUS_SYSTEM = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS"


class Party(enum.StrEnum):
    """Which side of a referral a caller is on."""

    REQUESTER = "requester"
    OWNER = "owner"


S = Status
_EITHER = frozenset({Party.REQUESTER, Party.OWNER})
_REQ = frozenset({Party.REQUESTER})
_OWN = frozenset({Party.OWNER})

#: from-status → {to-status: parties that may make the move}. `entered-in-error` is added
#: for every status below (requester only).
_MOVES: dict[Status, dict[Status, frozenset[Party]]] = {
    S.DRAFT: {S.REQUESTED: _REQ, S.CANCELLED: _REQ},
    S.REQUESTED: {S.ACCEPTED: _OWN, S.REJECTED: _OWN, S.CANCELLED: _EITHER},
    S.ACCEPTED: {
        S.IN_PROGRESS: _OWN,
        S.ON_HOLD: _OWN,
        S.COMPLETED: _OWN,
        S.FAILED: _OWN,
        S.CANCELLED: _EITHER,
    },
    S.IN_PROGRESS: {S.ON_HOLD: _OWN, S.COMPLETED: _OWN, S.FAILED: _OWN, S.CANCELLED: _EITHER},
    S.ON_HOLD: {S.IN_PROGRESS: _OWN, S.COMPLETED: _OWN, S.FAILED: _OWN, S.CANCELLED: _EITHER},
    S.REJECTED: {},
    S.COMPLETED: {},
    S.FAILED: {},
    S.CANCELLED: {},
    S.ENTERED_IN_ERROR: {},
}
for _status, _targets in _MOVES.items():
    if _status is not S.ENTERED_IN_ERROR:
        _targets[S.ENTERED_IN_ERROR] = _REQ

TERMINAL = frozenset({S.REJECTED, S.COMPLETED, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR})
OPEN = frozenset(set(S) - TERMINAL)
REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED, S.ON_HOLD, S.FAILED})

#: Reason codes for statusReason (refhub code system; text is always allowed beside them).
REASONS = MappingProxyType(
    {
        "no-capacity": "No capacity at present",
        "not-eligible": "Client not eligible for the service",
        "service-not-offered": "Service not offered for this need",
        "client-unreachable": "Client could not be reached",
        "client-declined": "Client declined the service",
        "client-no-show": "Client did not attend",
        "client-moved": "Client moved out of the service area",
        "duplicate": "Duplicate referral",
        "referred-elsewhere": "Referred to another provider",
        "waiting-for-information": "Waiting for information",
        "waiting-for-client": "Waiting for the client",
        "consent-revoked": "The client's consent was revoked",
        "safety-concern": "Safety concern",
        "sent-in-error": "Sent in error",
        "other": "Other (see text)",
    }
)

#: HL7 BSeR Task.businessStatus codes used for the finer steps.
BUSINESS_STATUS = MappingProxyType(
    {
        "2.0": "Received",
        "3.0": "Accepted",
        "4.0": "Declined",
        "5.1.1": "Scheduled",
        "5.1.2": "No-show",
        "5.1.3": "Appointment cancelled",
        "5.1.4": "Event completed (interim note)",
        "5.2": "Cancellation requested",
        "6.0": "Cancelled",
        "7.0": "Completed",
    }
)


def business_status_concept(code: str) -> dict[str, Any]:
    """Task.businessStatus for a BSeR code."""
    return {
        "coding": [
            {"system": BUSINESS_STATUS_SYSTEM, "code": code, "display": BUSINESS_STATUS[code]}
        ]
    }


def allowed_moves(status: Status | str, party: Party) -> list[str]:
    """The statuses `party` may move a referral in `status` to (sorted, for messages)."""
    moves = _MOVES[Status(status)]
    return sorted(to.value for to, who in moves.items() if party in who)


def may_move(status: Status | str, to: Status | str, party: Party) -> bool:
    return party in _MOVES[Status(status)].get(Status(to), frozenset())
