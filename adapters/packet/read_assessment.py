"""Reading the assessment and plan resources of a packet back into summary fields."""

from __future__ import annotations

from collections.abc import Callable

from adapters import codes
from adapters.packet.reader import (
    Json,
    PacketReader,
    code_of,
    domain_of,
    first,
    name_of,
    telecom_of,
)

__all__ = ["read_family", "read_needs", "read_observations", "read_plan"]


def read_family(r: PacketReader) -> list[Json]:
    out = []
    for i, rp in enumerate(r.all("RelatedPerson")):
        rels = [cc.get("coding") for cc in rp.get("relationship") or []]
        relation = next((k for c in rels if (k := codes.RELATIONSHIPS.key_of(c))), None)
        if relation is None:
            r.warn(f"RelatedPerson[{i}].relationship", "relationship not known; 'relative'")
        caregiver = any(
            (c or [{}])[0].get("code") == "caregiver"
            and (c or [{}])[0].get("system") == codes.FAMILY_ROLE_CAREGIVER["system"]
            for c in rels
        )
        out.append(
            {
                "relationship": relation or "relative",
                "name": name_of(rp.get("name")),
                "birth_date": rp.get("birthDate"),
                "gender": rp.get("gender"),
                "caregiver": caregiver,
                "phone": telecom_of(rp.get("telecom"), "phone"),
            }
        )
    return out


def read_observations(r: PacketReader, out: Json) -> None:
    handlers: dict[tuple[str, str], Callable[[Json, str], None]] = {}

    def note(kind: str) -> Callable[[Json, str], None]:
        def add(obs: Json, where: str) -> None:
            cat = domain_of(obs.get("category"), r, where, None)
            out[kind + "s"].append({"description": obs.get("valueString"), "domain": cat})

        return add

    def risk(obs: Json, where: str) -> None:
        out["risks"].append(
            {
                "domain": domain_of(obs.get("category"), r, where, "safety"),
                "level": codes.RISK_LEVELS.key_of(
                    (obs.get("valueCodeableConcept") or {}).get("coding")
                ),
                "description": first(obs.get("note")).get("text"),
            }
        )

    def minor(obs: Json, where: str) -> None:
        comp = {code_of(c.get("code"))[1]: c for c in obs.get("component") or []}
        sep = codes.SEPARATION.key_of((obs.get("valueCodeableConcept") or {}).get("coding"))
        out["minor"] = {
            "separation": sep,
            "caregiver_informed": comp.get("caregiver-informed", {}).get("valueBoolean"),
            "caregiver_not_informed_reason": comp.get("caregiver-not-informed-reason", {}).get(
                "valueString"
            ),
        }

    def household(obs: Json, where: str) -> None:
        out["household_size"] = obs.get("valueInteger")

    assess = codes.CS + "assessment"
    handlers[(assess, "strength")] = note("strength")
    handlers[(assess, "barrier")] = note("barrier")
    handlers[(assess, "risk")] = risk
    handlers[(assess, "minor-care")] = minor
    handlers[(codes.LOINC, codes.HOUSEHOLD_SIZE_LOINC)] = household
    for i, obs in enumerate(r.all("Observation")):
        handler = handlers.get(code_of(obs.get("code")))
        where = f"Observation[{i}]"
        if handler is None:
            r.warn(where, "observation code has no place in the case summary")
        else:
            handler(obs, where)


def read_plan(r: PacketReader, request_url: str, out: Json) -> None:
    for i, goal in enumerate(r.all("Goal")):
        out["goals"].append(
            {
                "description": (goal.get("description") or {}).get("text"),
                "domain": domain_of(goal.get("category"), r, f"Goal[{i}]", None),
                "status": goal.get("lifecycleStatus"),
                "target_date": first(goal.get("target")).get("dueDate"),
            }
        )
    for plan in r.all("CarePlan"):
        for j, act in enumerate(plan.get("activity") or []):
            detail = act.get("detail")
            if detail is None:
                if (act.get("reference") or {}).get("reference") != request_url:
                    r.warn(f"CarePlan.activity[{j}]", "planned activity not carried")
                continue
            where = f"CarePlan.activity[{j}]"
            if detail.get("status") != "completed":
                r.warn(where, "only completed activities (services received) are carried")
                continue
            out["services_received"].append(
                {
                    "domain": domain_of(detail.get("code"), r, where, "other"),
                    "details": detail.get("description"),
                    "provider": first(detail.get("performer")).get("display"),
                    "date": (detail.get("scheduledPeriod") or {}).get("start"),
                }
            )


def read_needs(r: PacketReader, out: Json) -> None:
    """Conditions → ``needs`` (no domain code: read as health, as classified)."""
    for i, cond in enumerate(r.all("Condition")):
        out["needs"].append(
            {
                "domain": domain_of(cond.get("category"), r, f"Condition[{i}]", "health"),
                "description": (cond.get("code") or {}).get("text"),
                "severity": codes.SEVERITIES.key_of((cond.get("severity") or {}).get("coding")),
            }
        )
