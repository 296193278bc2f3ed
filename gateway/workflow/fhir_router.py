"""The workflow's FHIR R4 surface, assembled: transaction, Task, ServiceRequest and the
packet's resources, Communication; and what of it the CapabilityStatement lists.

Gravity's "light" mode for receivers without a server: they search their inbox with
`GET /fhir/Task?owner=Organization/{id}&status=requested&_include=Task:focus`, read the
packet's ServiceRequest and the resources it references, and `PUT /fhir/Task/{id}` to
accept, reject or complete it (with an output). Errors are OperationOutcomes. The routes
live in `fhir_transaction`, `fhir_tasks`, `fhir_reads` and `fhir_messages`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.workflow import fhir_messages, fhir_packet, fhir_reads, fhir_tasks, fhir_transaction
from gateway.workflow.casework import fhir_router as casework_fhir

__all__ = ["CAPABILITY", "router"]

router = APIRouter()
for _part in (fhir_transaction, fhir_tasks, fhir_reads, fhir_messages, casework_fhir):
    router.include_router(_part.router)

_READ_VREAD = [{"code": "read"}, {"code": "vread"}]
_SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/"


def _packet_kind(kind: str) -> dict[str, Any]:
    """A packet resource type; CarePlan, Goal and Condition are the service plan's too
    (read by canonical-UUID id, and searched: `casework.fhir_router`)."""
    entry: dict[str, Any] = {"type": kind, "interaction": list(_READ_VREAD)}
    plan = casework_fhir.CAPABILITY.get(kind)
    if plan is not None:
        entry["interaction"].append({"code": "search-type"})
        entry["searchParam"] = plan["search"]
        if "supportedProfile" in plan:
            entry["supportedProfile"] = plan["supportedProfile"]
        entry["documentation"] = plan["documentation"]
    entry["versioning"] = "versioned"
    return entry


CAPABILITY: list[dict[str, Any]] = [
    {
        "type": "Task",
        "profile": _SDOHCC + "SDOHCC-TaskForReferralManagement",
        "documentation": casework_fhir.TASK_DOCUMENTATION,
        "interaction": [*_READ_VREAD, {"code": "search-type"}, {"code": "update"}],
        "versioning": "versioned-update",
        "readHistory": False,
        "conditionalUpdate": False,
        "searchInclude": ["Task:focus"],
        "searchParam": [
            {"name": name, "type": kind}
            for name, kind in (
                ("_id", "token"),
                ("owner", "reference"),
                ("requester", "reference"),
                ("status", "token"),
                ("business-status", "token"),
                ("_lastUpdated", "date"),
                ("patient", "reference"),
                ("subject", "reference"),
                ("focus", "reference"),
            )
        ],
    },
    {
        "type": "Communication",
        "interaction": [*_READ_VREAD, {"code": "create"}, {"code": "search-type"}],
        "versioning": "versioned",
        "searchParam": [{"name": "part-of", "type": "reference"}],
    },
    {
        "type": "ServiceRequest",
        "profile": _SDOHCC + "SDOHCC-ServiceRequest",
        "interaction": list(_READ_VREAD),
        "versioning": "versioned",
    },
    *(_packet_kind(kind) for kind in fhir_packet.SERVED_KINDS),
]
