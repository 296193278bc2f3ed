"""Writing the CSV layout: packets → one file, one row per person, canonical cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from fhir.resources.R4B.bundle import Bundle

from adapters.csv.cells import escape
from adapters.csv.layout import COLUMN_NAMES
from adapters.packet.read import read_packets
from adapters.results import AdapterWarning, Output, WriteResult
from adapters.summary.model import CaseSummary, Name

__all__ = ["MEDIA_TYPE", "summary_rows", "write_csv"]

MEDIA_TYPE = "text/csv"
Row = dict[str, str]


def _yes(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _names(name: Name | None) -> Row:
    return {"given_name": name.given or "", "family_name": name.family or ""} if name else {}


def _lost(s: CaseSummary, warn: list[AdapterWarning]) -> None:
    """Warn about summary content the CSV layout has no column for."""
    key = s.case_id
    checks = {
        "client.identifiers (other than unhcr, national-id; issuers)": any(
            i.type not in {"unhcr", "national-id"} or i.issuer for i in s.client.identifiers
        ),
        "referral.services_requested details": any(
            x.details for x in s.referral.services_requested
        ),
        "referral.referred_to.worker": s.referral.referred_to.worker is not None,
        "needs descriptions and severities": any(n.description or n.severity for n in s.needs),
        "risks descriptions": any(r.description for r in s.risks),
        "strength and barrier domains": any(n.domain for n in s.strengths + s.barriers),
        "goal domains, statuses and target dates": any(
            g.domain or g.target_date or g.status != "active" for g in s.goals
        ),
        "services_received details, providers and dates": any(
            x.details or x.provider or x.date for x in s.services_received
        ),
        "consent.description": bool(s.consent and s.consent.description),
        "attachments": bool(s.attachments),
        "more than one preferred language": sum(x.preferred for x in s.client.languages) > 1,
    }
    for what, lost in checks.items():
        if lost:
            warn.append(AdapterWarning("not-carried", f"case {key}: {what}", "no CSV column"))


def summary_rows(s: CaseSummary) -> list[Row]:
    """The rows of one case: the client first, then each family member."""
    c, r = s.client, s.referral
    by, to = r.referred_by, r.referred_to
    preferred = [x.code for x in c.languages if x.preferred][:1]
    others = [x.code for x in c.languages if x.code not in preferred or not x.preferred]
    ids = {i.type: i.value for i in reversed(c.identifiers)}
    addr = c.address
    prefs = c.contact_preferences
    minor = s.minor
    client: Row = {
        "case_id": s.case_id,
        "role": "client",
        **_names(c.name),
        "birth_date": c.birth_date or "",
        "gender": c.gender or "",
        "phone": c.phone or "",
        "email": c.email or "",
        "unhcr_id": ids.get("unhcr", ""),
        "national_id": ids.get("national-id", ""),
        "address_line": (addr.line if addr else None) or "",
        "city": (addr.city if addr else None) or "",
        "district": (addr.district if addr else None) or "",
        "region": (addr.region if addr else None) or "",
        "postal_code": (addr.postal_code if addr else None) or "",
        "country": (addr.country if addr else None) or "",
        "preferred_language": "|".join(preferred),
        "other_languages": "|".join(others),
        "interpreter_needed": _yes(c.interpreter_needed),
        "contact_method": (prefs.method if prefs else None) or "",
        "safe_to_contact": _yes(prefs.safe_to_contact if prefs else None),
        "contact_instructions": (prefs.instructions if prefs else None) or "",
        "separation": minor.separation if minor else "",
        "caregiver_informed": _yes(minor.caregiver_informed if minor else None),
        "caregiver_not_informed_reason": (minor.caregiver_not_informed_reason if minor else None)
        or "",
        "household_size": "" if s.household_size is None else str(s.household_size),
        "kind": r.kind,
        "priority": r.priority,
        "referral_date": r.date,
        "referred_by": by.organization.name,
        "referred_by_ref": by.organization.reference or "",
        "referred_by_worker": by.worker.name if by.worker else "",
        "referred_by_position": (by.worker.position if by.worker else None) or "",
        "referred_by_phone": (by.worker.phone if by.worker else None) or "",
        "referred_by_email": (by.worker.email if by.worker else None) or "",
        "referred_to": to.organization.name,
        "referred_to_ref": to.organization.reference or "",
        "referred_to_service": (to.service.name if to.service else None) or "",
        "referred_to_service_ref": (to.service.reference if to.service else None) or "",
        "delivery_channel": r.delivery_channel or "",
        "services_requested": "|".join(x.domain for x in r.services_requested),
        "reason": r.reason or "",
        "do_not_contact_client": "yes" if r.do_not_contact_client else "",
        "needs": "|".join(n.domain for n in s.needs),
        "risks": "|".join(x.domain + (f":{x.level}" if x.level else "") for x in s.risks),
        "strengths": "|".join(n.description for n in s.strengths),
        "barriers": "|".join(n.description for n in s.barriers),
        "goals": "|".join(g.description for g in s.goals),
        "services_received": "|".join(x.domain for x in s.services_received),
        "consent_ref": s.consent.reference if s.consent else "",
        "summary": s.summary or "",
    }
    rows = [client]
    for m in s.family:
        rows.append(
            {
                "case_id": s.case_id,
                "role": "member",
                **_names(m.name),
                "birth_date": m.birth_date or "",
                "gender": m.gender or "",
                "phone": m.phone or "",
                "relationship": m.relationship,
                "caregiver": "yes" if m.caregiver else "",
            }
        )
    return rows


def write_csv(packets: Sequence[Bundle], *, language: str = "en") -> WriteResult:
    """All packets as one CSV file in the refhub layout (UTF-8, comma separated).

    Cells are canonical (ISO dates, yes/no) and escaped against spreadsheet formulas, so a
    file this writes reads back cell for cell. ``language`` is not used.
    """
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=COLUMN_NAMES, restval="", lineterminator="\r\n")
    out.writeheader()
    summaries, warnings, failures = read_packets(packets)
    for summary in summaries:
        _lost(summary, warnings)
        for row in summary_rows(summary):
            out.writerow({k: escape(v) for k, v in row.items()})
    output = Output("cases.csv", MEDIA_TYPE, buffer.getvalue())
    return WriteResult((output,), tuple(warnings), tuple(failures))
