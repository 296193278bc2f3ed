"""The shared service plan as FHIR R4: CarePlan, Goal (SDOHCC-Goal), Condition
(after SDOHCC-Condition) and Task, from content already opened and narrowed by `fhir_access`.

Ids are the case-work row ids (canonical UUIDs, with dashes): `CarePlan/{plan id}`,
`Goal/{goal id}`, `Task/{plan task id}`, and `Condition/{assessment item id}` for a need or
barrier of the plan's latest assessment (item ids stay the same across reassessments).
Packet resources served from referrals have 64-character hex ids, so both live under the
same `/fhir/{type}/{id}` routes without clashing.

Life domains map to Gravity's SDOH categories where one fits (`SDOH_CATEGORIES`); the
refhub domain is always given too (`LIFE_DOMAIN_SYSTEM`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from adapters import codes
from gateway.workflow import gravity
from gateway.workflow.casework.assessments import Item
from gateway.workflow.casework.models import Domain
from gateway.workflow.casework.schemas import Disengagement, GoalOut, Strategy, TaskOut

__all__ = [
    "GOAL_PROFILE",
    "LIFE_DOMAIN_SYSTEM",
    "SDOH_CATEGORIES",
    "care_plan",
    "condition",
    "goal",
    "task",
]

_SD = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/"
GOAL_PROFILE = _SD + "SDOHCC-Goal"
LIFE_DOMAIN_SYSTEM = codes.CS + "life-domain"
ITEM_KIND_SYSTEM = codes.CS + "assessment-item-kind"
PLAN_LINK_SYSTEM = codes.CS + "plan-task-link"
_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
_CLINICAL = codes.CONDITION_CLINICAL
_US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

#: refhub life domain → Gravity SDOH category codes (SDOHCC-CodeSystemTemporaryCodes).
#: Domains without a fitting Gravity category get `sdoh-category-unspecified`.
SDOH_CATEGORIES: dict[Domain, tuple[str, ...]] = {
    Domain.HOUSING: ("housing-instability",),
    Domain.INCOME_EMPLOYMENT: ("employment-status", "financial-insecurity"),
    Domain.EDUCATION_LANGUAGE: ("educational-attainment",),
    Domain.FAMILY_SOCIAL: ("social-connection",),
}
_DISPLAY = {
    Domain.SAFETY: "Safety",
    Domain.HOUSING: "Housing",
    Domain.INCOME_EMPLOYMENT: "Income and employment",
    Domain.HEALTH: "Health",
    Domain.EDUCATION_LANGUAGE: "Education and language",
    Domain.LEGAL_DOCUMENTATION: "Legal status and documentation",
    Domain.FAMILY_SOCIAL: "Family and social",
    Domain.CHILD_DEVELOPMENT: "Child development",
}
#: Needs' and barriers' severity → SNOMED CT (Condition.severity's preferred value set).
_SEVERITY = {
    "low": ("255604002", "Mild"),
    "medium": ("6736007", "Moderate"),
    "high": ("24484000", "Severe"),
}


def _ref(kind: str, value: uuid.UUID | str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{kind}/{value}"}
    if display:
        out["display"] = display
    return out


def _stamp(value: dt.datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def categories(domain: Domain | str | None) -> list[dict[str, Any]]:
    """Goal and Condition categories: the refhub life domain with its SDOH codes, or
    `sdoh-category-unspecified`."""
    try:
        known = Domain(domain) if domain else None
    except ValueError:
        known = None
    sdoh = SDOH_CATEGORIES.get(known, ()) if known else ()
    if not sdoh:
        sdoh = ("sdoh-category-unspecified",)
    out: list[dict[str, Any]] = [{"coding": [{"system": gravity.SDOHCC, "code": c}]} for c in sdoh]
    if known is not None:
        local = {"system": LIFE_DOMAIN_SYSTEM, "code": known.value, "display": _DISPLAY[known]}
        out[0]["coding"].insert(0, local)
    return out


def goal(
    item: GoalOut, client_id: uuid.UUID, created: dt.datetime, updated: dt.datetime
) -> dict[str, Any]:
    """A plan goal as an SDOHCC-Goal. The worker's words are the description; the family's
    words are a note by the Patient (or the description, with expressedBy the Patient, when
    the goal has only the family's words)."""
    patient = _ref("Patient", client_id)
    out: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(item.id),
        "meta": {"profile": [GOAL_PROFILE], "lastUpdated": _stamp(updated)},
        "lifecycleStatus": item.lifecycle_status.value,
        "category": categories(item.domain),
        "description": {"text": item.worker_words or item.family_words},
        "subject": patient,
        "startDate": created.date().isoformat(),
    }
    if item.achievement_status is not None:
        status = item.achievement_status.value
        out["achievementStatus"] = {"coding": [{"system": _ACHIEVEMENT, "code": status}]}
    target: dict[str, Any] = {}
    if item.measure:
        target["measure"] = {"text": item.measure}
    if item.target_on is not None:
        target["dueDate"] = item.target_on.isoformat()
    if target:
        out["target"] = [target]
    if not item.worker_words:
        out["expressedBy"] = patient
    elif item.family_words:
        out["note"] = [{"authorReference": patient, "text": item.family_words}]
    if item.addresses:
        out["addresses"] = [_ref("Condition", a) for a in item.addresses]
    return out


def condition(
    item: Item,
    kind: str,
    domain: Domain,
    client_id: uuid.UUID,
    recorded_on: dt.date,
) -> dict[str, Any]:
    """A need or barrier of the assessment as a Condition shaped after SDOHCC-Condition
    (health concern, US Core `sdoh`, the SDOH category). It does not claim the profile:
    its code is the worker's text, and the profile requires a US Core condition code."""
    health_concern = {
        "system": codes.CONDITION_CATEGORY,
        "code": "health-concern",
        "display": "Health Concern",
    }
    kind_code = "need" if kind == "needs" else "barrier"
    out: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(item.id),
        "clinicalStatus": {"coding": [{"system": _CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": _VERIFICATION, "code": "confirmed"}]},
        "category": [
            {"coding": [health_concern]},
            {"coding": [{"system": _US_CORE_CATEGORY, "code": "sdoh", "display": "SDOH"}]},
            *categories(domain),
            {"coding": [{"system": ITEM_KIND_SYSTEM, "code": kind_code}]},
        ],
        "code": {"text": item.text},
        "subject": _ref("Patient", client_id),
        "recordedDate": recorded_on.isoformat(),
    }
    if item.severity is not None:
        snomed, display = _SEVERITY[item.severity.value]
        out["severity"] = {
            "coding": [{"system": codes.SNOMED, "code": snomed, "display": display}],
            "text": item.severity.value,
        }
    return out


def task(
    item: TaskOut,
    *,
    plan_id: uuid.UUID,
    client_id: uuid.UUID,
    owner: dict[str, Any],
    partner: dict[str, Any] | None,
    authored: dt.datetime,
) -> dict[str, Any]:
    """A plan task as a FHIR Task (intent plan), focused on its goal. `owner` is the
    organisation holding the plan (the requester); the Task's owner is who carries it out.
    A referral fulfilling the task is its output (the referral's own Task)."""
    patient = _ref("Patient", client_id)
    out: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(item.id),
        "meta": {"lastUpdated": _stamp(item.updated_at)},
        "basedOn": [_ref("CarePlan", plan_id)],
        "status": item.status.value,
        "intent": "plan",
        "description": item.description,
        "focus": _ref("Goal", item.goal_id),
        "for": patient,
        "authoredOn": _stamp(authored),
        "lastModified": _stamp(item.updated_at),
        "requester": owner,
        "owner": partner if partner is not None else owner,
    }
    if item.responsible.value == "family":
        out["owner"] = patient
    if item.due_on is not None:
        out["restriction"] = {"period": {"end": item.due_on.isoformat()}}
    if item.status_note:
        out["note"] = [{"text": item.status_note}]
    if item.referral_id is not None:
        out["output"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": PLAN_LINK_SYSTEM,
                            "code": "fulfilling-referral",
                            "display": "Referral fulfilling this task",
                        }
                    ]
                },
                "valueReference": _ref("Task", item.referral_id),
            }
        ]
    return out


def _disengagement_note(plan: Disengagement) -> str:
    parts = (
        ("Case management ends when", plan.ends_when),
        ("How it ends", plan.how),
        ("What keeps the family going", plan.keep_going),
    )
    return "\n".join(f"{label}: {text}" for label, text in parts if text)


def care_plan(
    *,
    plan_id: uuid.UUID,
    status: str,
    client_id: uuid.UUID,
    created: dt.datetime,
    updated: dt.datetime,
    author: dict[str, Any],
    goal_ids: list[uuid.UUID],
    task_ids: list[uuid.UUID],
    condition_ids: list[uuid.UUID],
    strategies: list[Strategy] | None = None,
    disengagement: Disengagement | None = None,
) -> dict[str, Any]:
    """The service plan as a CarePlan. `strategies` and `disengagement` are the owner's
    only (each barrier's strategy is an activity detail giving the barrier as its reason)."""
    out: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan_id),
        "meta": {"lastUpdated": _stamp(updated)},
        "status": "active" if status == "active" else "completed",
        "intent": "plan",
        "title": "Service plan",
        "subject": _ref("Patient", client_id),
        "period": {"start": created.date().isoformat()},
        "created": _stamp(created),
        "author": author,
    }
    if condition_ids:
        out["addresses"] = [_ref("Condition", c) for c in condition_ids]
    if goal_ids:
        out["goal"] = [_ref("Goal", g) for g in goal_ids]
    activity: list[dict[str, Any]] = [{"reference": _ref("Task", t)} for t in task_ids]
    for strategy in strategies or []:
        activity.append(
            {
                "detail": {
                    "reasonReference": [_ref("Condition", strategy.item_id)],
                    "status": "unknown",
                    "description": strategy.text,
                }
            }
        )
    if activity:
        out["activity"] = activity
    note = _disengagement_note(disengagement) if disengagement is not None else ""
    if note:
        out["note"] = [{"text": note}]
    return out
