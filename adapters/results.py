"""What conversions return: per-case results, outputs and warnings (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from adapters.errors import AdapterError, CaseInvalid

__all__ = [
    "AdapterWarning",
    "CaseResult",
    "ConversionResult",
    "Output",
    "ReadResult",
    "WriteResult",
]


@dataclass(frozen=True)
class AdapterWarning:
    """Something accepted but not carried as given (unknown column, extra field...).

    Attributes:
        code: stable code (``unknown-column``, ``extra-field``, ``unsupported-resource``,
            ``unsupported-element``, ``unresolved-reference``, ``not-carried``, ``defaulted``).
        location: where (row/column, JSON path or FHIR element).
        message: what happened to it.
    """

    code: str
    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The warning as plain data."""
        return {"code": self.code, "location": self.location, "message": self.message}


@dataclass(frozen=True)
class CaseResult:
    """One case (one referral) read from the input: a packet, or the reasons it failed.

    Attributes:
        key: the case's key in the input (CSV case_id, summary case_id, Bundle id).
        packet: the referral packet, or None when the case failed.
        errors: every reason the case failed (each names its location).
        warnings: what was accepted but not carried as given.
        hub_resources: Organization / HealthcareService / Consent resources an agency's FHIR
            Bundle supplied inline; they are not carried in the packet (references to them
            became logical references) and are left to the hub to match or record.
    """

    key: str
    packet: Bundle | None
    errors: tuple[AdapterError, ...] = ()
    warnings: tuple[AdapterWarning, ...] = ()
    hub_resources: tuple[dict[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        """True when the case produced a packet."""
        return self.packet is not None and not self.errors


@dataclass(frozen=True)
class ReadResult:
    """Everything a format reader found in one input."""

    cases: tuple[CaseResult, ...]
    warnings: tuple[AdapterWarning, ...] = ()


@dataclass(frozen=True)
class Output:
    """One produced document.

    Attributes:
        filename: a suggested file name (``SRS-2026-0123.summary.json``).
        media_type: e.g. ``application/fhir+json``, ``text/csv``, ``text/html``.
        content: the document text.
        case: the case key it comes from, or None when it holds several cases (CSV).
    """

    filename: str
    media_type: str
    content: str
    case: str | None = None


@dataclass(frozen=True)
class WriteResult:
    """Everything a format writer produced from a list of packets.

    Attributes:
        outputs: the documents.
        warnings: packet content the format cannot carry.
        failures: ``(index of the packet, error)`` for packets that could not be written.
    """

    outputs: tuple[Output, ...]
    warnings: tuple[AdapterWarning, ...] = ()
    failures: tuple[tuple[int, AdapterError], ...] = ()


@dataclass(frozen=True)
class ConversionResult:
    """The result of :func:`adapters.convert`.

    Attributes:
        source, target: the format names.
        cases: one result per case in the input, in input order.
        outputs: the produced documents (for the cases that succeeded).
        warnings: input-level warnings and every case's and writer's warnings.
    """

    source: str
    target: str
    cases: tuple[CaseResult, ...]
    outputs: tuple[Output, ...]
    warnings: tuple[AdapterWarning, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every case converted."""
        return all(c.ok for c in self.cases)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        """The cases that failed."""
        return tuple(c for c in self.cases if not c.ok)

    def raise_for_errors(self) -> None:
        """Raise the first failed case as :class:`CaseInvalid` (with all its reasons)."""
        for case in self.failed:
            raise CaseInvalid(case.key, case.errors)
