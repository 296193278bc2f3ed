"""Assessment and plan resources of a packet: needs (Condition), risks, strengths,
barriers, the minor block and household size (Observation), goals and the service plan
(Goal, CarePlan)."""

from __future__ import annotations

from typing import Any

from adapters import codes
from adapters.codes import coding
from adapters.packet.entries import EntryBuilder, Json, cc, domain_cc
from adapters.summary import model as m

__all__ = ["assessment", "plan"]


def _observation(patient: Json, code: Json, category: list[Json], **value: Any) -> Json:
    social = {"coding": [coding(codes.OBSERVATION_CATEGORY, "social-history")]}
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [social, *category],
        "code": code,
        "subject": patient,
        **value,
    }


def assessment(b: EntryBuilder, s: m.CaseSummary, patient: Json) -> tuple[list[Json], list[Json]]:
    """Needs, risks, strengths, barriers, minor block, household; returns reason refs and
    supporting-info refs for the ServiceRequest."""
    reasons: list[Json] = []
    support: list[Json] = []
    for need in s.needs:
        cond: Json = {
            "resourceType": "Condition",
            "clinicalStatus": cc([coding(codes.CONDITION_CLINICAL, "active")]),
            "category": [
                cc([coding(codes.CONDITION_CATEGORY, "problem-list-item")]),
                *domain_cc(need.domain),
            ],
            "subject": patient,
        }
        if need.severity:
            cond["severity"] = cc([codes.SEVERITIES.coding(need.severity)])
        if need.description:
            cond["code"] = {"text": need.description}
        reasons.append(b.add(cond))
    for risk in s.risks:
        value: Json = {}
        if risk.level:
            value["valueCodeableConcept"] = cc([codes.RISK_LEVELS.coding(risk.level)])
        if risk.description:
            value["note"] = [{"text": risk.description}]
        code = cc([codes.ASSESSMENT.coding("risk")])
        reasons.append(b.add(_observation(patient, code, domain_cc(risk.domain), **value)))
    for kind, notes in (("strength", s.strengths), ("barrier", s.barriers)):
        for note in notes:
            code = cc([codes.ASSESSMENT.coding(kind)])
            obs = _observation(patient, code, domain_cc(note.domain), valueString=note.description)
            support.append(b.add(obs))
    if s.minor is not None:
        components: list[Json] = []
        if s.minor.caregiver_informed is not None:
            components.append(
                {
                    "code": cc([codes.ASSESSMENT.coding("caregiver-informed")]),
                    "valueBoolean": s.minor.caregiver_informed,
                }
            )
        if s.minor.caregiver_not_informed_reason:
            components.append(
                {
                    "code": cc([codes.ASSESSMENT.coding("caregiver-not-informed-reason")]),
                    "valueString": s.minor.caregiver_not_informed_reason,
                }
            )
        obs = _observation(
            patient,
            cc([codes.ASSESSMENT.coding("minor-care")]),
            [],
            valueCodeableConcept=cc([codes.SEPARATION.coding(s.minor.separation)]),
            component=components,
        )
        support.append(b.add(obs))
    if s.household_size is not None:
        code = cc([coding(codes.LOINC, codes.HOUSEHOLD_SIZE_LOINC)])
        support.append(b.add(_observation(patient, code, [], valueInteger=s.household_size)))
    return reasons, support


def plan(b: EntryBuilder, s: m.CaseSummary, patient: Json, request: Json) -> None:
    if not s.goals and not s.services_received:
        return
    goals = []
    for g in s.goals:
        goal: Json = {
            "resourceType": "Goal",
            "lifecycleStatus": g.status,
            "category": domain_cc(g.domain),
            "description": {"text": g.description},
            "subject": patient,
        }
        if g.target_date:
            goal["target"] = [{"dueDate": g.target_date}]
        goals.append(b.add(goal))
    activities: list[Json] = [{"reference": request}]
    for svc in s.services_received:
        detail: Json = {"status": "completed", "code": cc(codes.DOMAINS[svc.domain].codings())}
        if svc.details:
            detail["description"] = svc.details
        if svc.provider:
            detail["performer"] = [{"display": svc.provider}]
        if svc.date:
            detail["scheduledPeriod"] = {"start": svc.date}
        activities.append({"detail": detail})
    b.add(
        {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "plan",
            "subject": patient,
            "goal": goals,
            "activity": activities,
        }
    )
