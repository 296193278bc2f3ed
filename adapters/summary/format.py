"""The ``summary`` format: refhub case summary JSON ↔ referral packets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import BaseModel, ValidationError

from adapters.encoding import decode_text, load_json
from adapters.errors import AdapterError, CaseInvalid, FieldInvalid, MalformedInput
from adapters.format import Format
from adapters.packet.build import build_packet
from adapters.packet.read import read_packets
from adapters.packet.refs import format_path
from adapters.results import AdapterWarning, CaseResult, Output, ReadResult, WriteResult
from adapters.summary.model import CaseSummary

__all__ = [
    "FORMAT",
    "SCHEMA_ID",
    "generate_schema",
    "parse_summary",
    "read",
    "summary_schema",
    "summary_to_json",
    "write",
]

SCHEMA_ID = "https://refhub.org/schemas/case-summary/1.json"
MEDIA_TYPE = "application/json"


def generate_schema() -> dict[str, Any]:
    """The JSON Schema of the format, generated from the model (the file is a copy of it)."""
    schema = CaseSummary.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "refhub case summary",
    }


def summary_schema() -> dict[str, Any]:
    """The published JSON Schema (``adapters/summary/schema.json``)."""
    text = resources.files("adapters.summary").joinpath("schema.json").read_text("utf-8")
    out: dict[str, Any] = json.loads(text)
    return out


def _location(loc: tuple[int | str, ...], prefix: str) -> str:
    path = format_path(loc)
    return f"{prefix}{'.' if prefix and path and not path.startswith('[') else ''}{path}"


def _errors(exc: ValidationError, prefix: str) -> tuple[AdapterError, ...]:
    out: list[AdapterError] = []
    for e in exc.errors():
        ctx = e.get("ctx") or {}
        expected = str(ctx.get("expected") or ctx.get("pattern") or "")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg, expected = "required field is missing", "a value"
        elif expected:
            msg = f"{e['input']!r} is not accepted"
        out.append(FieldInvalid(msg, location=_location(e["loc"], prefix), expected=expected))
    return tuple(out)


def _extras(model: BaseModel, loc: tuple[int | str, ...], out: list[AdapterWarning]) -> None:
    """Report unknown fields, then drop them so they are never written back out."""
    extra = model.__pydantic_extra__ or {}
    for key in extra:
        out.append(
            AdapterWarning(
                "extra-field",
                format_path((*loc, key)),
                "not a field of the refhub case summary; ignored",
            )
        )
    extra.clear()
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _extras(value, (*loc, name), out)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _extras(item, (*loc, name, i), out)


def parse_summary(data: Any, *, location: str = "") -> tuple[CaseSummary, list[AdapterWarning]]:
    """Validate one case summary given as parsed JSON.

    Args:
        data: the JSON object.
        location: prefix for error locations (``[2]`` for the third item of a list).

    Returns:
        The summary and warnings for unknown fields (which are dropped).

    Raises:
        CaseInvalid: the object is not a valid summary; ``errors`` has one FieldInvalid per
            field, each naming its path and what was expected.
    """
    try:
        summary = CaseSummary.model_validate(data)
    except ValidationError as exc:
        key = data.get("case_id") if isinstance(data, dict) else None
        raise CaseInvalid(str(key or location or "summary"), _errors(exc, location)) from None
    warnings: list[AdapterWarning] = []
    _extras(summary, (location,) if location else (), warnings)
    return summary, warnings


def read(data: bytes | str) -> ReadResult:
    """Read summary JSON (one object, or a list of objects for several cases).

    Raises:
        EncodingRefused: not UTF-8.
        MalformedInput: not JSON, or not an object / list of objects.
    """
    text = decode_text(data, what="summary JSON")
    parsed = load_json(text, expected="a JSON object (one case summary) or a list of them")
    items = parsed if isinstance(parsed, list) else [parsed]
    many = isinstance(parsed, list)
    cases: list[CaseResult] = []
    for i, item in enumerate(items):
        where = f"[{i}]" if many else ""
        if not isinstance(item, dict):
            raise MalformedInput(
                "not a JSON object", location=where or "$", expected="a case summary object"
            )
        try:
            summary, warnings = parse_summary(item, location=where)
        except CaseInvalid as exc:
            cases.append(CaseResult(exc.case, None, exc.errors))
            continue
        packet = build_packet(summary, source_format="summary")
        cases.append(CaseResult(summary.case_id, packet, (), tuple(warnings)))
    return ReadResult(tuple(cases))


def summary_to_json(summary: CaseSummary) -> dict[str, Any]:
    """A summary as canonical JSON data: unset optional fields and empty lists left out."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None and v != []}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out: dict[str, Any] = clean(summary.model_dump(mode="json"))
    return out


def write(packets: Sequence[Bundle], *, language: str = "en") -> WriteResult:
    """One summary JSON document per packet (``language`` is not used: keys are English)."""
    summaries, warnings, failures = read_packets(packets)
    outputs = [
        Output(
            f"{s.case_id}.summary.json",
            MEDIA_TYPE,
            json.dumps(summary_to_json(s), ensure_ascii=False, indent=2) + "\n",
            s.case_id,
        )
        for s in summaries
    ]
    return WriteResult(tuple(outputs), tuple(warnings), tuple(failures))


FORMAT = Format("summary", "refhub case summary JSON", MEDIA_TYPE, read, write)
