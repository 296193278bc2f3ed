"""The FHIR format: validation, normalisation, re-issued ids, unsupported content."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from adapters import MalformedInput, packet_dict, read, read_packet
from adapters.packet.refs import reference_problems

AGENCY = Path(__file__).parents[2] / "docs" / "examples" / "agency-bundle.json"


def _bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(AGENCY.read_text("utf-8"))
    return data


def _entry(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in data["entry"] if e["resource"]["resourceType"] == kind)


def _case(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    [case] = read(json.dumps(data), "fhir").cases
    return case


def test_agency_bundle_is_normalised() -> None:
    case = _case(_bundle())
    assert case.ok, case.errors
    packet = packet_dict(case.packet)
    assert reference_problems(packet) == []
    old_ids = {e["fullUrl"] for e in _bundle()["entry"]}
    assert old_ids.isdisjoint({e["fullUrl"] for e in packet["entry"]})
    kinds = [e["resource"]["resourceType"] for e in packet["entry"]]
    assert "Organization" not in kinds and "Consent" not in kinds
    assert {r["resourceType"] for r in case.hub_resources} == {"Organization", "Consent"}
    task = _entry(packet, "Task")["resource"]
    assert task["requester"]["identifier"]["value"] == "ORG-SENDER-1"
    assert task["focus"]["reference"] == _entry(packet, "ServiceRequest")["fullUrl"]
    provenance = _entry(packet, "Provenance")["resource"]
    assert provenance["entity"][0]["what"]["identifier"]["value"] == "fhir"
    codes = {w.code for w in case.warnings}
    assert {"logical-reference", "unsupported-element"} <= codes


def test_unsupported_resources_and_elements_are_reported() -> None:
    data = _bundle()
    data["entry"].append(
        {
            "resource": {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": {"text": "x"},
                "patient": {"reference": "urn:uuid:x"},
                "occurrenceString": "2020",
            }
        }
    )
    patient = _entry(data, "Patient")["resource"]
    patient["maritalStatus"] = {"text": "married"}
    patient["text"] = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">Aziz</div>',
    }
    case = _case(data)
    assert case.ok
    found = {(w.code, w.location) for w in case.warnings}
    assert ("unsupported-resource", "Bundle.entry[6]") in found
    assert ("unsupported-element", "Patient.maritalStatus") in found
    assert ("unsupported-element", "Patient.text") in found
    out = _entry(packet_dict(case.packet), "Patient")["resource"]
    assert "maritalStatus" not in out and "text" not in out


def test_invalid_fhir_names_the_element() -> None:
    data = _bundle()
    _entry(data, "Patient")["resource"]["birthdate"] = "1986-04-02"
    case = _case(data)
    assert not case.ok
    [error] = case.errors
    assert error.location == "Bundle.entry[0].resource.birthdate"


def test_modifier_extensions_are_refused() -> None:
    data = _bundle()
    _entry(data, "ServiceRequest")["resource"]["modifierExtension"] = [
        {"url": "https://example.org/negated", "valueBoolean": True}
    ]
    case = _case(data)
    assert not case.ok
    assert case.errors[0].location == "ServiceRequest.modifierExtension"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["entry"].append(copy.deepcopy(d["entry"][0])), "2 Patient"),
        (lambda d: d["entry"].remove(_entry(d, "ServiceRequest")), "no ServiceRequest"),
    ],
)
def test_packet_structure_is_checked(change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _bundle()
    change(data)
    case = _case(data)
    assert not case.ok
    assert any(message in str(e) for e in case.errors)


def test_missing_task_is_created_by_the_hub() -> None:
    data = _bundle()
    data["entry"].remove(_entry(data, "Task"))
    case = _case(data)
    assert case.ok
    assert "created-task" in {w.code for w in case.warnings}
    task = _entry(packet_dict(case.packet), "Task")["resource"]
    assert (task["intent"], task["status"], task["code"]["coding"][0]["code"]) == (
        "order",
        "requested",
        "fulfill",
    )


def test_unresolved_references_are_removed_with_a_warning() -> None:
    data = _bundle()
    _entry(data, "ServiceRequest")["resource"]["reasonReference"] = [
        {"reference": "Condition/elsewhere"}
    ]
    case = _case(data)
    assert case.ok
    assert ("unresolved-reference", "ServiceRequest.reasonReference[0]") in {
        (w.code, w.location) for w in case.warnings
    }
    assert "reasonReference" not in _entry(packet_dict(case.packet), "ServiceRequest")["resource"]


def test_relative_references_resolve_to_new_ids() -> None:
    data = _bundle()
    patient = _entry(data, "Patient")
    patient["fullUrl"] = "https://sender.example.org/fhir/Patient/p1"
    patient["resource"]["id"] = "p1"
    for e in data["entry"]:
        text = json.dumps(e["resource"]).replace(
            "urn:uuid:7f1c6a52-3a55-4c1e-9a35-0c2b1f0d6a01", "Patient/p1"
        )
        e["resource"] = json.loads(text)
    case = _case(data)
    assert case.ok, case.errors
    summary, _ = read_packet(case.packet)
    assert summary.client.name is not None and summary.client.name.family == "Rahimi"


@pytest.mark.parametrize("text", ['{"resourceType": "Patient"}', "[]", "{nope"])
def test_non_bundles_are_malformed(text: str) -> None:
    with pytest.raises(MalformedInput):
        read(text, "fhir")
