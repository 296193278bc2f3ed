"""Reading the CSV layout: file → rows grouped by case → one case summary per case.

A bad cell fails only its case (with every reason found, each naming row and column); the
other cases of the file still convert. Unknown columns are reported once as warnings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.csv import cells
from adapters.csv.layout import SCOPES, header_key, sniff_delimiter
from adapters.encoding import decode_text
from adapters.errors import (
    AdapterError,
    CaseInvalid,
    FieldInvalid,
    InputTooLarge,
    MalformedInput,
)
from adapters.packet.build import build_packet
from adapters.results import AdapterWarning, CaseResult, ReadResult
from adapters.summary.format import parse_summary

__all__ = ["MAX_CSV_ROWS", "read_csv"]

MAX_CSV_ROWS = 5000
"""Rows one CSV may hold below its header (a family is a few rows; 5,000 is hundreds of
cases); beyond it the whole file is refused (413) before any case is converted."""
#: The longest cell (128 KB), checked here: `csv.field_size_limit` is process-wide.
MAX_CELL_CHARS = 128 * 1024

Json = dict[str, Any]


@dataclass
class _Row:
    line: int
    cells: dict[str, str]


@dataclass
class _Case:
    key: str
    rows: list[_Row] = field(default_factory=list)
    errors: list[AdapterError] = field(default_factory=list)
    origin: dict[str, tuple[int, str]] = field(default_factory=dict)

    def error(self, line: int, column: str, message: str, expected: str = "") -> None:
        self.errors.append(
            FieldInvalid(message, location=f"row {line}, column {column}", expected=expected)
        )


def _rows(text: str) -> tuple[list[_Case], list[AdapterWarning]]:
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return _read_rows(reader)
    except csv.Error as exc:  # a cell over 128 KB, an unterminated quote, a stray quote
        raise _unreadable(reader.line_num, str(exc)) from None


def _unreadable(line: int, why: str) -> MalformedInput:
    return MalformedInput(
        f"the CSV cannot be read at row {line}: {why}",
        location=f"row {line}",
        expected="cells of at most 128 KB, each quote closed (download the template)",
    )


def _read_rows(reader: Any) -> tuple[list[_Case], list[AdapterWarning]]:
    header = [header_key(h) for h in next(reader)]
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            raise MalformedInput(f"column {h!r} appears twice", location="row 1")
        seen.add(h)
    warnings = [
        AdapterWarning(
            "unknown-column",
            f"row 1, column {h or '(blank)'}",
            "not part of the refhub CSV layout; its cells are ignored",
        )
        for h in header
        if h not in SCOPES
    ]
    cases: dict[str, _Case] = {}
    for values in reader:
        line = reader.line_num
        if line > MAX_CSV_ROWS + 1:
            raise InputTooLarge(
                f"a CSV may hold at most {MAX_CSV_ROWS} rows below its header",
                location=f"row {line}",
                expected=f"split the file, at most {MAX_CSV_ROWS} rows each",
            )
        if any(len(v) > MAX_CELL_CHARS for v in values):
            raise _unreadable(line, "a cell is longer than 128 KB")
        if not any(v.strip() for v in values):
            continue
        row = {
            h: cells.unescape(v.strip())
            for h, v in zip(header, values, strict=False)
            if h in SCOPES
        }
        key = row.get("case_id", "")
        case = cases.setdefault(key or f"row {line}", _Case(key or f"row {line}"))
        if not key:
            case.error(line, "case_id", "empty case code", "the case code shared by the family")
        if len(values) > len(header):
            case.error(
                line,
                "(extra)",
                f"{len(values)} cells but {len(header)} columns",
                "no more cells than header columns",
            )
        case.rows.append(_Row(line, row))
    return list(cases.values()), warnings


class _Cells:
    """Typed access to one row's cells; problems are recorded on the case, not raised."""

    def __init__(self, case: _Case, row: _Row, prefix: str) -> None:
        self.case, self.row, self.prefix = case, row, prefix
        case.origin[prefix] = (row.line, "")

    def get(self, column: str, target: str = "") -> str | None:
        value = self.row.cells.get(column) or None
        if value is not None and target:
            self.case.origin[target] = (self.row.line, column)
        return value

    def typed(self, column: str, target: str, parse: Callable[[str], Any]) -> Any:
        value = self.get(column, target)
        if value is None:
            return None
        try:
            return parse(value)
        except cells.CellError as exc:
            self.case.error(self.row.line, column, str(exc), exc.expected)
            return None

    def items(self, column: str, target: str) -> list[str]:
        value = self.get(column)
        parts = cells.split(value) if value else []
        for i in range(len(parts)):
            self.case.origin[f"{target}[{i}]"] = (self.row.line, column)
        return parts


def _person(c: _Cells, at: str) -> Json:
    name = {"given": c.get("given_name", f"{at}.name"), "family": c.get("family_name")}
    return {
        "name": name if any(name.values()) else None,
        "birth_date": c.typed(
            "birth_date", f"{at}.birth_date", lambda v: cells.parse_date(v, partial=True)
        ),
        "gender": c.get("gender", f"{at}.gender"),
        "phone": c.get("phone", f"{at}.phone"),
    }


def _client_case(c: _Cells) -> Json:
    langs = []
    if pref := c.get("preferred_language", "client.languages"):
        langs.append({"code": pref, "preferred": True})
    langs += [{"code": x} for x in c.items("other_languages", "client.languages")]
    ids = [
        {"type": t, "value": v}
        for t, col in (("unhcr", "unhcr_id"), ("national-id", "national_id"))
        if (v := c.get(col, "client.identifiers"))
    ]
    address = {
        k: c.get(col, "client.address")
        for k, col in (
            ("line", "address_line"),
            ("city", "city"),
            ("district", "district"),
            ("region", "region"),
            ("postal_code", "postal_code"),
            ("country", "country"),
        )
    }
    prefs = {
        "method": c.get("contact_method", "client.contact_preferences.method"),
        "safe_to_contact": c.typed(
            "safe_to_contact", "client.contact_preferences", cells.parse_bool
        ),
        "instructions": c.get("contact_instructions", "client.contact_preferences"),
    }
    client = _person(c, "client") | {
        "email": c.get("email", "client.email"),
        "identifiers": ids,
        "address": address if any(address.values()) else None,
        "languages": langs,
        "interpreter_needed": c.typed("interpreter_needed", "client", cells.parse_bool),
        "contact_preferences": prefs if any(v is not None for v in prefs.values()) else None,
    }
    minor = {
        "separation": c.get("separation", "minor.separation"),
        "caregiver_informed": c.typed("caregiver_informed", "minor", cells.parse_bool),
        "caregiver_not_informed_reason": c.get("caregiver_not_informed_reason", "minor"),
    }
    return {
        "client": client,
        "minor": minor if any(v is not None for v in minor.values()) else None,
    }


def _org(c: _Cells, name_col: str, ref_col: str, at: str) -> Json:
    return {"name": c.get(name_col, f"{at}.name"), "reference": c.get(ref_col, f"{at}.reference")}


def _worker(c: _Cells, prefix: str, at: str) -> Json | None:
    worker = {
        "name": c.get(prefix + "_worker", at),
        "position": c.get(prefix + "_position", at),
        "phone": c.get(prefix + "_phone", at + ".phone"),
        "email": c.get(prefix + "_email", at + ".email"),
    }
    return worker if any(worker.values()) else None


def _referral(c: _Cells) -> Json:
    service = {
        "name": c.get("referred_to_service", "referral.referred_to.service"),
        "reference": c.get("referred_to_service_ref", "referral.referred_to.service"),
    }
    return {
        "kind": c.get("kind", "referral.kind") or "referral",
        "priority": c.get("priority", "referral.priority"),
        "date": c.typed("referral_date", "referral.date", cells.parse_date),
        "referred_by": {
            "organization": _org(c, "referred_by", "referred_by_ref", "referral.referred_by"),
            "worker": _worker(c, "referred_by", "referral.referred_by.worker"),
        },
        "referred_to": {
            "organization": _org(c, "referred_to", "referred_to_ref", "referral.referred_to"),
            "service": service if any(service.values()) else None,
        },
        "services_requested": [
            {"domain": d} for d in c.items("services_requested", "referral.services_requested")
        ],
        "delivery_channel": c.get("delivery_channel", "referral.delivery_channel"),
        "reason": c.get("reason", "referral.reason"),
        "do_not_contact_client": c.typed("do_not_contact_client", "referral", cells.parse_bool)
        or False,
    }


def _case_fields(c: _Cells) -> Json:
    risks = []
    for item in c.items("risks", "risks"):
        domain, _, level = item.partition(":")
        risks.append({"domain": domain.strip(), "level": level.strip() or None})
    consent = c.get("consent_ref", "consent.reference")
    return {
        "case_id": c.case.key,
        "referral": _referral(c),
        **_client_case(c),
        "household_size": c.typed("household_size", "household_size", cells.parse_int),
        "needs": [{"domain": d} for d in c.items("needs", "needs")],
        "risks": risks,
        "strengths": [{"description": d} for d in c.items("strengths", "strengths")],
        "barriers": [{"description": d} for d in c.items("barriers", "barriers")],
        "goals": [{"description": d} for d in c.items("goals", "goals")],
        "services_received": [
            {"domain": d} for d in c.items("services_received", "services_received")
        ],
        "consent": {"reference": consent} if consent else None,
        "summary": c.get("summary", "summary"),
    }


def _case_summary(case: _Case) -> Json:
    clients = [r for r in case.rows if (r.cells.get("role") or "").lower() == "client"]
    if len(clients) != 1:
        line = (clients[1] if clients else case.rows[0]).line
        case.error(
            line,
            "role",
            f"{len(clients)} rows with role 'client' in this case",
            "exactly one client row per case",
        )
    data: Json = {"family": []}
    for row in case.rows:
        role = (row.cells.get("role") or "").lower()
        if role not in {"client", "member"}:
            case.error(
                row.line, "role", f"{row.cells.get('role')!r} is not a role", "client or member"
            )
            continue
        wrong = "member" if role == "client" else "case"
        for column, value in row.cells.items():
            if value and SCOPES[column] == wrong:
                case.error(
                    row.line,
                    column,
                    f"not used on a {role} row",
                    "empty on this row" + (" (client row only)" if wrong == "case" else ""),
                )
        if role == "client" and row is clients[0]:
            data.update(_case_fields(_Cells(case, row, "")))
        elif role == "member":
            at = f"family[{len(data['family'])}]"
            c = _Cells(case, row, at)
            member = _person(c, at) | {
                "relationship": c.get("relationship", f"{at}.relationship"),
                "caregiver": c.typed("caregiver", f"{at}.caregiver", cells.parse_bool) or False,
            }
            data["family"].append(member)
    return data


# Where a required field that was left empty is written.
_COLUMN_OF = {
    "referral.referred_by.worker": "referred_by_worker",
    "referral.priority": "priority",
    "referral.date": "referral_date",
    "referral.referred_by": "referred_by",
    "referral.referred_to": "referred_to",
    "referral.services_requested": "services_requested",
    "relationship": "relationship",
}


def _locate(case: _Case, loc: str) -> tuple[int, str]:
    """The row and column a summary path came from."""
    best = ""
    for path in case.origin:
        inside = not path or loc == path or loc.startswith((path + ".", path + "["))
        if inside and len(path) > len(best):
            best = path
    line, column = case.origin.get(best, (case.rows[0].line, ""))
    if not column:
        column = next((c for p, c in _COLUMN_OF.items() if p in loc), "(row)")
    return line, column


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def read_csv(data: bytes | str) -> ReadResult:
    """Read a CSV file in the refhub layout.

    Args:
        data: the file (UTF-8 with or without BOM, or UTF-16 with BOM; comma, semicolon or
            tab separated).

    Returns:
        One CaseResult per case (per distinct ``case_id``), in file order, and file-level
        warnings (unknown columns).

    Raises:
        EncodingRefused: the file is not UTF-8 / UTF-16.
        MalformedInput: no header row with ``case_id`` and ``role``, or a duplicated column.
    """
    text = decode_text(data, what="CSV file")
    cases, warnings = _rows(text)
    results: list[CaseResult] = []
    for case in cases:
        summary_data = _prune(_case_summary(case))
        try:
            summary, _ = parse_summary(summary_data)
        except CaseInvalid as exc:
            # Cell errors first; then field errors, except for cells already reported.
            seen = {e.location for e in case.errors}
            for e in exc.errors:
                line, column = _locate(case, e.location)
                where = f"row {line}, column {column}"
                if where not in seen:
                    seen.add(where)
                    case.errors.append(FieldInvalid(e.message, location=where, expected=e.expected))
        if case.errors:
            results.append(CaseResult(case.key, None, tuple(case.errors)))
            continue
        packet = build_packet(summary, source_format="csv")
        results.append(CaseResult(case.key, packet))
    return ReadResult(tuple(results), tuple(warnings))
