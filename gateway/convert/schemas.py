"""API shapes for conversions."""

from __future__ import annotations

from pydantic import BaseModel

from adapters import ConversionResult

__all__ = ["ConversionOut", "FormatsOut", "conversion_out"]


class IssueOut(BaseModel):
    code: str
    location: str
    message: str
    expected: str = ""


class CaseOut(BaseModel):
    key: str
    ok: bool
    errors: list[IssueOut]
    warnings: list[IssueOut]


class OutputOut(BaseModel):
    filename: str
    media_type: str
    case: str | None
    content: str


class ConversionOut(BaseModel):
    source: str
    target: str
    ok: bool
    cases: list[CaseOut]
    outputs: list[OutputOut]
    warnings: list[IssueOut]


class FormatsOut(BaseModel):
    readable: list[str]
    writable: list[str]


def conversion_out(result: ConversionResult) -> ConversionOut:
    return ConversionOut(
        source=result.source,
        target=result.target,
        ok=result.ok,
        cases=[
            CaseOut(
                key=case.key,
                ok=case.ok,
                errors=[IssueOut(**e.as_dict()) for e in case.errors],
                warnings=[IssueOut(**w.as_dict()) for w in case.warnings],
            )
            for case in result.cases
        ],
        outputs=[
            OutputOut(filename=o.filename, media_type=o.media_type, case=o.case, content=o.content)
            for o in result.outputs
        ],
        warnings=[IssueOut(**w.as_dict()) for w in result.warnings],
    )
