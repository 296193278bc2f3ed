"""The summary JSON format: schema, validation errors, extra fields."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from adapters import MalformedInput, convert, read, summary_schema
from adapters.summary.format import generate_schema

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "summary.json"


def _example() -> dict:  # type: ignore[type-arg]
    return json.loads(EXAMPLE.read_text("utf-8"))


def test_published_schema_is_generated_from_the_model() -> None:
    assert summary_schema() == generate_schema()
    jsonschema.Draft202012Validator.check_schema(summary_schema())


def test_example_validates_against_the_schema_and_round_trips() -> None:
    jsonschema.validate(_example(), summary_schema())
    result = convert(EXAMPLE.read_bytes(), "summary", "summary")
    assert result.ok and result.warnings == ()
    assert json.loads(result.outputs[0].content) == _example()


def test_broken_json_names_line_and_column() -> None:
    with pytest.raises(MalformedInput) as err:
        read('{"case_id": "x",\n  oops}', "summary")
    assert err.value.location == "line 2, column 3"


def test_field_errors_name_path_and_expectation() -> None:
    data = _example()
    data["client"]["gender"] = "x"
    data["needs"][1]["domain"] = "bad"
    del data["referral"]["date"]
    data["attachments"][0]["url"] = "https://example.org/a.pdf"
    [case] = read(json.dumps(data), "summary").cases
    errors = {e.location: e for e in case.errors}
    assert set(errors) == {
        "client.gender",
        "needs[1].domain",
        "referral.date",
        "attachments[0]",
    }
    assert "female" in errors["client.gender"].expected
    assert "shelter" in errors["needs[1].domain"].message
    assert "exactly one of data or url" in errors["attachments[0]"].message


def test_extra_fields_are_reported_and_not_written_back() -> None:
    data = _example()
    data["favourite"] = 1
    data["client"]["nickname"] = "Azi"
    result = convert(json.dumps(data), "summary", "summary")
    assert result.ok
    assert {(w.code, w.location) for w in result.warnings} == {
        ("extra-field", "favourite"),
        ("extra-field", "client.nickname"),
    }
    assert json.loads(result.outputs[0].content) == _example()


def test_a_list_converts_each_case_and_fails_only_the_bad_one() -> None:
    good = _example()
    bad = _example() | {"case_id": "BAD", "household_size": 0}
    result = convert(json.dumps([good, bad]), "summary", "fhir")
    assert [c.ok for c in result.cases] == [True, False]
    [error] = result.cases[1].errors
    assert error.location == "[1].household_size"
    assert len(result.outputs) == 1
