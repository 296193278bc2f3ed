"""Round-trip properties: summary → FHIR → summary, CSV → FHIR → CSV, packet validity."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from adapter_strategies import summaries
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import HUB_TYPES, build_packet, convert, packet_dict, read_packet, summary_to_json
from adapters.csv.write import write_csv
from adapters.packet.refs import iter_references, reference_problems
from adapters.summary.model import CaseSummary
from tests import fhir_schema

SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(summaries())
def test_summary_to_fhir_to_summary_keeps_every_field(summary: CaseSummary) -> None:
    back, warnings = read_packet(build_packet(summary))
    assert warnings == []
    assert summary_to_json(back) == summary_to_json(summary)
    assert back == summary


@SETTINGS
@given(summaries())
def test_summary_json_through_convert_is_identical(summary: CaseSummary) -> None:
    text = json.dumps(summary_to_json(summary), ensure_ascii=False)
    result = convert(text, "summary", "summary")
    assert result.ok, result.cases
    assert result.warnings == ()
    assert json.loads(result.outputs[0].content) == summary_to_json(summary)


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@SETTINGS
@given(st.lists(summaries(csv_safe=True), min_size=1, max_size=3, unique_by=lambda s: s.case_id))
def test_csv_to_fhir_to_csv_keeps_every_cell(cases: list[CaseSummary]) -> None:
    written = write_csv([build_packet(s) for s in cases])
    assert written.warnings == ()
    original = written.outputs[0].content
    to_fhir = convert(original, "csv", "fhir")
    assert to_fhir.ok, [c.errors for c in to_fhir.cases]
    assert to_fhir.warnings == ()
    back = write_csv([c.packet for c in to_fhir.cases if c.packet is not None])
    assert _cells(back.outputs[0].content) == _cells(original)
    assert back.outputs[0].content == original


def _check_packet(packet: Bundle) -> None:
    data = packet_dict(packet)
    assert data["type"] == "transaction"
    Bundle.model_validate(data)  # validates with the R4B models
    assert reference_problems(data) == []
    urls = {e["fullUrl"] for e in data["entry"]}
    for entry in data["entry"]:
        resource: dict[str, Any] = entry["resource"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        assert entry["request"] == {"method": "POST", "url": resource["resourceType"]}
        for _, ref in iter_references(resource):
            target = ref["reference"]
            assert target in urls or target.split("/")[0] in HUB_TYPES


@SETTINGS
@given(summaries())
def test_packets_validate_and_reference_only_bundle_or_hub(summary: CaseSummary) -> None:
    packet = build_packet(summary)
    _check_packet(packet)
    kinds = [e.resource.get_resource_type() for e in packet.entry or []]
    assert kinds.count("Patient") == kinds.count("ServiceRequest") == kinds.count("Task") == 1
    assert kinds[-1] == "Provenance"


@SETTINGS
@given(summaries())
def test_packets_from_every_reader_validate(summary: CaseSummary) -> None:
    fhir_text = convert(json.dumps(summary_to_json(summary)), "summary", "fhir").outputs[0].content
    fhir_schema.assert_valid(json.loads(fhir_text))  # HL7's R4 schema, not fhir.resources
    again = convert(fhir_text, "fhir", "fhir")
    assert again.ok, again.cases[0].errors
    packet = again.cases[0].packet
    assert packet is not None
    _check_packet(packet)
    original_ids = {e["resource"]["id"] for e in json.loads(fhir_text)["entry"]}
    assert original_ids.isdisjoint({e.resource.id for e in packet.entry or []})
    back, _ = read_packet(packet)
    assert summary_to_json(back) == summary_to_json(summary)
