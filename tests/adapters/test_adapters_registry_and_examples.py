"""The format registry, the top-level convert(), HTML output and the docs examples."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from pathlib import Path

import pytest

from adapters import (
    UnknownFormat,
    UnsupportedDirection,
    build_packet,
    convert,
    formats,
    parse_summary,
    readable,
    summary_html,
    writable,
)
from tests import fhir_schema

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def test_registry_lists_formats_and_directions() -> None:
    assert list(formats()) == ["summary", "csv", "fhir", "html"]
    assert readable() == ["summary", "csv", "fhir"]
    assert writable() == ["summary", "csv", "fhir", "html"]


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(UnknownFormat) as err:
        convert("{}", "xml", "fhir")
    assert err.value.expected == "one of summary, csv, fhir, html"


def test_html_cannot_be_read() -> None:
    with pytest.raises(UnsupportedDirection) as err:
        convert("<p>", "html", "fhir")
    assert "summary, csv, fhir" in err.value.expected


@pytest.mark.parametrize(
    ("name", "source"),
    [("summary.json", "summary"), ("referral.csv", "csv"), ("agency-bundle.json", "fhir")],
)
@pytest.mark.parametrize("target", ["summary", "csv", "fhir", "html"])
def test_every_example_converts_to_every_format(name: str, source: str, target: str) -> None:
    result = convert((EXAMPLES / name).read_bytes(), source, target)
    assert result.ok, [c.errors for c in result.failed]
    assert result.outputs
    assert all(o.content for o in result.outputs)
    if target == "fhir":  # HL7's R4 JSON schema, independent of fhir.resources
        for output in result.outputs:
            fhir_schema.assert_valid(json.loads(output.content))


def test_packet_example_is_what_the_builder_makes() -> None:
    summary, _ = parse_summary(json.loads((EXAMPLES / "summary.json").read_text("utf-8")))
    ns = uuid.UUID("6f1c0e7a-0000-4000-8000-000000000000")
    counter = itertools.count(1)
    packet = build_packet(
        summary,
        new_id=lambda: str(uuid.uuid5(ns, str(next(counter)))),
        now=dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC),
    )
    assert packet.model_dump_json(indent=2) + "\n" == (EXAMPLES / "packet.json").read_text()
    assert convert((EXAMPLES / "packet.json").read_bytes(), "fhir", "summary").ok
    fhir_schema.assert_valid(json.loads((EXAMPLES / "packet.json").read_text()))
    fhir_schema.assert_valid(json.loads((EXAMPLES / "agency-bundle.json").read_text()))


def test_html_escapes_values_and_uses_the_receivers_language() -> None:
    data = json.loads((EXAMPLES / "summary.json").read_text("utf-8"))
    data["summary"] = "<script>alert(1)</script> & more"
    ar = convert(json.dumps(data), "summary", "html", language="ar").outputs[0].content
    assert "<script>" not in ar and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in ar
    assert '<html lang="ar" dir="rtl">' in ar and "سبب الإحالة" in ar
    fr = convert(json.dumps(data), "summary", "html", language="fr-CA")
    assert '<html lang="fr" dir="ltr">' in fr.outputs[0].content
    assert "Motif de la référence" in fr.outputs[0].content
    other = convert(json.dumps(data), "summary", "html", language="sw")
    assert "Reason for referral" in other.outputs[0].content
    assert [w.code for w in other.warnings] == ["defaulted"]


def test_the_summary_as_a_fragment_for_another_page() -> None:
    data = json.loads((EXAMPLES / "summary.json").read_text("utf-8"))
    data["summary"] = "<script>alert(1)</script>"
    packet = build_packet(parse_summary(data)[0])
    fragment = summary_html(packet, language="en", top_level=2)
    assert fragment.startswith("<h2>") and "<h3>" in fragment and "<h1>" not in fragment
    assert "<html" not in fragment and "<style>" not in fragment
    assert "&lt;script&gt;" in fragment and "<script>" not in fragment
    whole = convert(json.dumps(data), "summary", "html").outputs[0].content
    assert whole.count("<h2>") == fragment.count("<h3>")  # the same sections, one level down
