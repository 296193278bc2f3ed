"""The referral as FHIR R4: the Task (Gravity SDOH referral Task), outputs, validation.

Task.owner names the receiving organisation from the start (as Gravity requires); for a
handover the transfer of responsibility is the case record's and the handover record's.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.task import Task, TaskOutput
from pydantic import ValidationError
from sqlalchemy.orm import Session

from gateway.workflow import content, gravity
from gateway.workflow.addressing import org_reference
from gateway.workflow.errors import NotAllowedChange
from gateway.workflow.models import Referral
from gateway.workflow.states import REASON_SYSTEM, REASONS, business_status_concept
from kernel.db import utcnow

__all__ = [
    "KIND_SYSTEM",
    "OUTPUT_SYSTEM",
    "check_outputs",
    "outputs_from_simple",
    "task_resource",
]

KIND_SYSTEM = "https://refhub.org/fhir/CodeSystem/referral-kind"
OUTPUT_SYSTEM = "https://refhub.org/fhir/CodeSystem/task-output-type"
CLIENT_SID = "https://refhub.org/fhir/sid/client"
_TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"


def task_resource(
    session: Session, referral: Referral, *, with_outputs: bool = True
) -> dict[str, Any]:
    """The referral's Task as FHIR JSON (outputs decrypted only when asked for)."""
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.id),
        "meta": {
            "versionId": str(referral.version),
            "lastUpdated": referral.updated_at.isoformat(),
            "tag": [{"system": KIND_SYSTEM, "code": referral.kind}],
        },
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{referral.id}"}],
        "status": referral.status,
        "intent": "order",
        "priority": referral.priority,
        "code": {"coding": [{"system": _TASK_CODE, "code": "fulfill"}]},
        "focus": {"reference": f"ServiceRequest/{referral.service_request_id}"},
        "for": {
            "reference": f"Patient/{referral.client_id}",
            "identifier": {"system": CLIENT_SID, "value": str(referral.client_id)},
        },
        "authoredOn": referral.authored_on.isoformat(),
        "lastModified": referral.updated_at.isoformat(),
        "requester": org_reference(session, referral.requester_org_id),
        "owner": org_reference(session, referral.owner_org_id),
    }
    if referral.business_status:
        task["businessStatus"] = business_status_concept(referral.business_status)
    if referral.status_reason or referral.status_reason_text:
        reason: dict[str, Any] = {}
        if referral.status_reason:
            reason["coding"] = [
                {
                    "system": REASON_SYSTEM,
                    "code": referral.status_reason,
                    "display": REASONS[referral.status_reason],
                }
            ]
        # the Gravity profile requires statusReason.text whenever statusReason is given
        reason["text"] = referral.status_reason_text or REASONS.get(
            referral.status_reason or "", referral.status_reason or ""
        )
        task["statusReason"] = reason
    if with_outputs and referral.outputs is not None:
        stored = content.open_outputs(session, referral)
        if stored.get("contained"):
            task["contained"] = stored["contained"]
        if stored.get("output"):
            task["output"] = stored["output"]
    Task.model_validate(task)
    return task


def outputs_from_simple(items: list[dict[str, Any]], referral: Referral) -> dict[str, Any]:
    """JSON API and web UI outputs (what was done) → Gravity Task.output + contained
    SDOHCC Procedures.

    Each item: ``description`` (required), optional ``code`` (a Coding, e.g. SNOMED CT;
    default SNOMED 410606002 "Social service procedure"), ``performed`` (date or
    dateTime; default now), ``outcome`` (text). Each output has the type
    `SDOHCC-CodeSystemTemporaryCodes#resulting-activity` and references its Procedure
    (status completed, `basedOn` the referral's ServiceRequest, subject the client).
    """
    contained: list[dict[str, Any]] = []
    output: list[dict[str, Any]] = []
    now = utcnow().isoformat()
    for i, item in enumerate(items, start=1):
        local = f"procedure-{i}"
        procedure: dict[str, Any] = {
            "resourceType": "Procedure",
            "id": local,
            "meta": {"profile": [gravity.PROCEDURE_PROFILE]},
            "basedOn": [{"reference": f"ServiceRequest/{referral.service_request_id}"}],
            "status": "completed",
            "category": gravity.sdoh_category(list(referral.service_codes or [])),
            "code": {
                "coding": [item.get("code") or dict(gravity.SOCIAL_SERVICE_PROCEDURE)],
                "text": item["description"],
            },
            "subject": {"reference": f"Patient/{referral.client_id}"},
            "performedDateTime": item.get("performed") or now,
        }
        if item.get("outcome"):
            procedure["outcome"] = {"text": item["outcome"]}
        contained.append(procedure)
        output.append(
            {
                "type": gravity.RESULTING_ACTIVITY,
                "valueReference": {"reference": f"#{local}", "display": item["description"]},
            }
        )
    return check_outputs({"output": output, "contained": contained})


def check_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Validate outputs with the R4B models; contained resources must be Procedures."""
    try:
        for item in outputs.get("output", []):
            TaskOutput.model_validate(item)
        for resource in outputs.get("contained", []):
            if resource.get("resourceType") != "Procedure":
                raise NotAllowedChange("Task outputs may contain Procedures only.")
            Procedure.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise NotAllowedChange(f"Invalid output at {where}: {first.get('msg')}") from None
    return outputs
