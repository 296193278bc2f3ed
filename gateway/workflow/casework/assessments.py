"""The assessment of a client (and the family taking part): strengths, needs and barriers per
life domain, risk and crisis flags, who took part and the family's own view. Versioned.

- Only the organisation holding the case assesses (`access.owned_case`); a reassessment is a
  new version (the case row is locked while it is numbered), earlier versions stay readable.
- Every item has an id the plan refers to (a barrier's strategy, a strength's use, what a goal
  addresses). An item sent with the id of an item of the previous version keeps it (the
  same need, reworded); an item without one gets a new id.
- Severity (low, medium, high) is said of needs and barriers only. A risk flag makes the
  case's intensity `intensive`.
- Refused with the field named, nothing stored, the attempt audited: nothing assessed (no
  item and no flag), an assessment in the future (later than today anywhere on Earth), a
  reassessment date not after the assessment, an id no earlier version has, a repeated id.
- The content is sealed under the client's key (context `assessment:<id>`).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.auth import people
from gateway.workflow.casework import access
from gateway.workflow.casework.errors import CaseClosed, CaseworkInvalid
from gateway.workflow.casework.models import Assessment, Domain, OrgPlanSettings, RiskFlag
from gateway.workflow.models import Case, CaseStatus
from kernel import audit
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = [
    "KINDS",
    "AssessmentIn",
    "AssessmentOut",
    "DomainIn",
    "Item",
    "Severity",
    "item_ids",
    "latest",
    "list_assessments",
    "record_assessment",
    "today_anywhere",
]

KINDS = ("strengths", "needs", "barriers")
ITEM_MAX = 30
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Item(BaseModel):
    """One strength, need or barrier, in the worker's words agreed with the family."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(
        None, description="Keep the id of the same item in the previous version; else omit."
    )
    text: Text
    severity: Severity | None = Field(None, description="Needs and barriers only.")


class DomainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strengths: list[Item] = Field(default_factory=list, max_length=ITEM_MAX)
    needs: list[Item] = Field(default_factory=list, max_length=ITEM_MAX)
    barriers: list[Item] = Field(default_factory=list, max_length=ITEM_MAX)


class AssessmentIn(BaseModel):
    """An assessment (or reassessment) as recorded with the family."""

    model_config = ConfigDict(extra="forbid")

    assessed_on: dt.date = Field(description="The day it was done; not in the future.")
    reassess_on: dt.date | None = Field(
        None,
        description="When to assess again; after assessed_on. Default: assessed_on plus the "
        "organisation's review period (90 days unless set).",
    )
    domains: dict[Domain, DomainIn] = Field(default_factory=dict)
    risk_flags: list[RiskFlag] = Field(default_factory=list, max_length=len(RiskFlag))
    participants: Long | None = Field(None, description="Who took part (family members, roles).")
    family_view: Long | None = Field(None, description="The family's own view, in their words.")


class AssessmentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID
    version: int
    supersedes: uuid.UUID | None
    assessed_on: dt.date
    reassess_on: dt.date | None
    intensity: str
    risk_flags: list[RiskFlag]
    domains: dict[Domain, DomainIn]
    participants: str | None
    family_view: str | None
    review_state: str
    author_name: str
    written_at: dt.datetime


def today_anywhere() -> dt.date:
    """The latest date it is anywhere on Earth now (UTC+14): 'not in the future' for a day
    typed by a person in any time zone."""
    return (utcnow() + dt.timedelta(hours=14)).date()


def item_ids(domains: dict[Domain, DomainIn] | dict[str, Any], kind: str) -> set[uuid.UUID]:
    """The ids of the items of `kind` (strengths, needs, barriers) in opened `domains`."""
    out: set[uuid.UUID] = set()
    for domain in domains.values():
        items = getattr(domain, kind) if isinstance(domain, DomainIn) else domain.get(kind, [])
        for item in items:
            value = item.id if isinstance(item, Item) else item.get("id")
            if value:
                out.add(uuid.UUID(str(value)))
    return out


def _invalid(
    session: Session, caller: Caller, case: Case, detail: str, location: str
) -> CaseworkInvalid:
    access.refused(session, caller, "assessment.write", f"EpisodeOfCare/{case.id}", location)
    return CaseworkInvalid(detail, location=location)


def _check_items(
    session: Session, caller: Caller, case: Case, body: AssessmentIn, known: set[uuid.UUID]
) -> None:
    seen: set[uuid.UUID] = set()
    for domain, content in body.domains.items():
        for kind in KINDS:
            for index, item in enumerate(getattr(content, kind)):
                where = f"body.domains.{domain.value}.{kind}.{index}"
                if kind == "strengths" and item.severity is not None:
                    raise _invalid(
                        session, caller, case, "A strength has no severity.", f"{where}.severity"
                    )
                if item.id is None:
                    continue
                if item.id not in known:
                    raise _invalid(
                        session,
                        caller,
                        case,
                        "This id is not an item of the previous assessment: omit it for a "
                        "new item.",
                        f"{where}.id",
                    )
                if item.id in seen:
                    raise _invalid(
                        session, caller, case, "Two items have the same id.", f"{where}.id"
                    )
                seen.add(item.id)


def _check_dates(
    session: Session, caller: Caller, case: Case, body: AssessmentIn
) -> dt.date | None:
    if body.assessed_on > today_anywhere():
        raise _invalid(
            session, caller, case, "The assessment cannot be in the future.", "body.assessed_on"
        )
    if body.reassess_on is not None and body.reassess_on <= body.assessed_on:
        raise _invalid(
            session,
            caller,
            case,
            "The reassessment date must be after the assessment.",
            "body.reassess_on",
        )
    if body.reassess_on is not None:
        return body.reassess_on
    settings = session.get(OrgPlanSettings, case.owner_org_id)
    days = settings.review_every_days if settings else 90
    return body.assessed_on + dt.timedelta(days=days)


def _previous(session: Session, case_id: uuid.UUID) -> Assessment | None:
    return session.scalars(
        select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.version.desc())
    ).first()


def _out(session: Session, row: Assessment) -> AssessmentOut:
    data = access.open_sealed(session, row.client_id, "assessment", row.id, row.sealed)
    return AssessmentOut(
        id=row.id,
        case_id=row.case_id,
        client_id=row.client_id,
        version=row.version,
        supersedes=row.supersedes_id,
        assessed_on=row.assessed_on,
        reassess_on=row.reassess_on,
        intensity=row.intensity,
        risk_flags=[RiskFlag(f) for f in data.get("risk_flags", [])],
        domains={Domain(k): DomainIn.model_validate(v) for k, v in data["domains"].items()},
        participants=data.get("participants"),
        family_view=data.get("family_view"),
        review_state=row.review_state,
        author_name=row.author_name,
        written_at=row.written_at,
    )


def record_assessment(
    session: Session, caller: Caller, case_id: uuid.UUID, body: AssessmentIn
) -> AssessmentOut:
    """Record the case's assessment, or a reassessment (the next version).

    Raises:
        Forbidden, CaseNotFound (`access.owned_case`), CaseClosed, CaseworkInvalid (the
        field named; audited; nothing stored), ClientErased.
    """
    case = access.owned_case(session, caller, case_id, action="assessment.write", for_update=True)
    if case.status != CaseStatus.OPEN:
        access.refused(session, caller, "assessment.write", f"EpisodeOfCare/{case.id}", "closed")
        raise CaseClosed("The case is closed: its assessment is kept as it was.")
    if not body.risk_flags and not any(
        getattr(d, kind) for d in body.domains.values() for kind in KINDS
    ):
        raise _invalid(
            session,
            caller,
            case,
            "Record at least one strength, need or barrier, or a risk flag.",
            "body.domains",
        )
    previous = _previous(session, case.id)
    known: set[uuid.UUID] = set()
    if previous is not None:
        opened = access.open_sealed(
            session, previous.client_id, "assessment", previous.id, previous.sealed
        )
        for kind in KINDS:
            known |= item_ids(opened["domains"], kind)
    _check_items(session, caller, case, body, known)
    reassess_on = _check_dates(session, caller, case, body)
    domains: dict[str, Any] = {}
    for domain, content in body.domains.items():
        if not any(getattr(content, kind) for kind in KINDS):
            continue
        domains[domain.value] = {
            kind: [
                {"id": str(i.id or new_id()), "text": i.text, "severity": i.severity}
                for i in getattr(content, kind)
            ]
            for kind in KINDS
        }
    flags = sorted({f.value for f in body.risk_flags})
    row_id = new_id()
    author = people.names_of(session, [caller.actor]).get(caller.actor)
    version = (
        session.scalar(
            select(func.coalesce(func.max(Assessment.version), 0)).where(
                Assessment.case_id == case.id
            )
        )
        or 0
    ) + 1
    row = Assessment(
        id=row_id,
        case_id=case.id,
        client_id=case.client_id,
        organisation_id=case.owner_org_id,
        version=version,
        supersedes_id=previous.id if previous else None,
        assessed_on=body.assessed_on,
        reassess_on=reassess_on,
        intensity="intensive" if flags else "standard",
        risk_flags=len(flags),
        author_id=caller.id,
        author_name=author.name if author else caller.actor,
        written_at=utcnow(),
        sealed=access.seal(
            session,
            case.client_id,
            "assessment",
            row_id,
            {
                "domains": domains,
                "risk_flags": flags,
                "participants": body.participants or None,
                "family_view": body.family_view or None,
            },
        ),
    )
    session.add(row)
    if case.stage == "engagement":
        case.stage = "planning"  # assessed: goals and the plan come next
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="assessment.write",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{case.client_id}",
        detail={"case": str(case.id), "assessment": str(row.id), "version": version},
    )
    return _out(session, row)


def list_assessments(session: Session, caller: Caller, case_id: uuid.UUID) -> list[AssessmentOut]:
    """The case's assessments, newest version first (audited).

    Raises:
        Forbidden, CaseNotFound, ClientErased.
    """
    case = access.owned_case(session, caller, case_id, action="assessment.read")
    rows = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.case_id == case.id)
            .order_by(Assessment.version.desc())
        )
    )
    audit.record(
        session,
        actor=caller.actor,
        action="assessment.read",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{case.client_id}",
        detail={"case": str(case.id), "versions": len(rows)},
    )
    return [_out(session, r) for r in rows]


def latest(session: Session, case_id: uuid.UUID) -> AssessmentOut | None:
    """The case's latest assessment, opened (the caller checked access already)."""
    row = _previous(session, case_id)
    return _out(session, row) if row is not None else None
