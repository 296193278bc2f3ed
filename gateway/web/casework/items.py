"""The assessment's items as the case-work pages list them: flat, each with its domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.workflow.casework.assessments import KINDS, AssessmentOut

__all__ = ["Entry", "entries"]


@dataclass(frozen=True)
class Entry:
    """One strength, need or barrier of an assessment."""

    id: uuid.UUID
    domain: str
    kind: str
    text: str
    severity: str | None


def entries(assessment: AssessmentOut | None, *kinds: str) -> list[Entry]:
    """The items of `kinds` (all by default), domain by domain, in the order typed."""
    if assessment is None:
        return []
    out: list[Entry] = []
    for domain, content in assessment.domains.items():
        for kind in kinds or KINDS:
            for item in getattr(content, kind):
                if item.id is not None:
                    severity = item.severity.value if item.severity else None
                    out.append(Entry(item.id, domain.value, kind, item.text, severity))
    return out
