"""Minimisation examples, categories and classification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import (
    DataCategory,
    FieldInvalid,
    build_packet,
    categories_present,
    classify,
    data_category_code_system,
    minimise,
    packet_dict,
    parse_summary,
    read_packet,
)
from adapters.packet.refs import reference_problems

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "summary.json"


@pytest.fixture
def packet():  # type: ignore[no-untyped-def]
    summary, _ = parse_summary(json.loads(EXAMPLE.read_text("utf-8")))
    return build_packet(summary)


def test_example_discloses_these_categories(packet) -> None:  # type: ignore[no-untyped-def]
    assert categories_present(packet) == set(DataCategory) - {DataCategory.LEGAL_STATUS}
    locations = {c.location for c in classify(packet)}
    assert {"Patient.name", "Patient.telecom", "ServiceRequest.note", "RelatedPerson"} <= locations


def test_nothing_permitted_leaves_the_bare_referral(packet) -> None:  # type: ignore[no-untyped-def]
    result, report = minimise(packet, [])
    kinds = sorted({e.resource.get_resource_type() for e in result.entry or []})
    assert kinds == [
        "CarePlan",
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Provenance",
        "ServiceRequest",
        "Task",
    ]
    data = packet_dict(result)
    plan = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "CarePlan")
    assert "goal" not in plan and [list(a) for a in plan["activity"]] == [["reference"]]
    patient = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert set(patient) == {"resourceType", "id"}
    request = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    assert "reasonReference" not in request and "note" not in request
    assert [r["reference"] for r in request["supportingInfo"]] == [
        "Consent/7f1c6a52-3a55-4c1e-9a35-0c2b1f0d6a03"
    ]
    assert reference_problems(data) == []
    removed = {(r.resource_type, r.element) for r in report.removed}
    assert ("Patient", "name") in removed
    assert ("ServiceRequest", "reasonReference[0]") in removed
    assert all(r.reason for r in report.removed)
    summary, _ = read_packet(result)
    assert summary.client.name is None and summary.needs == []


def test_protection_removed_keeps_other_needs(packet) -> None:  # type: ignore[no-untyped-def]
    permitted = set(DataCategory) - {DataCategory.PROTECTION}
    result, report = minimise(packet, permitted)
    summary, _ = read_packet(result)
    assert summary.risks == [] and summary.minor is None
    assert [n.domain for n in summary.needs] == ["mhpss", "education", "shelter"]
    assert report.removed_categories == {DataCategory.PROTECTION}


def test_unknown_category_is_refused(packet) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldInvalid) as err:
        minimise(packet, ["identity", "secrets"])
    assert "legal-status" in err.value.expected


def test_code_system_lists_every_category() -> None:
    from fhir.resources.R4B.codesystem import CodeSystem

    cs = CodeSystem.model_validate(data_category_code_system())
    assert [c.code for c in cs.concept or []] == [c.value for c in DataCategory]
