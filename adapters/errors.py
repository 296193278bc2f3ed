"""Errors raised or reported by the adapters: one root, one subclass per kind of failure.

Every error says *where* (``location``: a row and column, a JSON path or a FHIR element
path) and *what was expected*, so a person fixing a spreadsheet or a developer fixing an
export can act on it without reading our code.
"""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "CaseInvalid",
    "EncodingRefused",
    "FieldInvalid",
    "InputError",
    "InputTooLarge",
    "MalformedInput",
    "PacketInvalid",
    "UnknownFormat",
    "UnsupportedContent",
    "UnsupportedDirection",
]


class AdapterError(Exception):
    """Root of every adapters error.

    Attributes:
        code: stable machine-readable code (``unknown-format``, ``field-invalid``...).
        status: the HTTP status a surface should answer with.
        location: where the problem is (``row 4, column birth_date``, ``client.gender``,
            ``Bundle.entry[2].resource.status``); empty when it concerns the whole input.
        expected: what would have been accepted; empty when not applicable.
    """

    code = "adapter-error"
    status = 400

    def __init__(self, message: str, *, location: str = "", expected: str = "") -> None:
        self.message = message
        self.location = location
        self.expected = expected
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text

    def as_dict(self) -> dict[str, str]:
        """The error as plain data, for problem JSON or an OperationOutcome issue."""
        return {
            "code": self.code,
            "location": self.location,
            "message": self.message,
            "expected": self.expected,
        }


class UnknownFormat(AdapterError):
    """A format name that is not in the registry; the message lists the known ones."""

    code = "unknown-format"


class UnsupportedDirection(AdapterError):
    """The format exists but cannot be read (or written), e.g. reading HTML."""

    code = "unsupported-direction"


class InputError(AdapterError):
    """The input data is wrong; the caller must fix it (never worth a retry)."""

    code = "input-invalid"
    status = 422


class EncodingRefused(InputError):
    """Bytes that are not UTF-8 (or UTF-16 with a byte-order mark)."""

    code = "encoding-refused"


class MalformedInput(InputError):
    """The input cannot be parsed at all (broken JSON, no CSV header row...)."""

    code = "malformed-input"


class FieldInvalid(InputError):
    """One field, cell or element has a wrong value."""

    code = "field-invalid"


class UnsupportedContent(InputError):
    """Content the hub cannot carry and cannot safely drop (two ServiceRequests...)."""

    code = "unsupported-content"


class CaseInvalid(InputError):
    """A case (one referral) failed; ``errors`` holds every reason found."""

    code = "case-invalid"

    def __init__(self, case: str, errors: tuple[AdapterError, ...]) -> None:
        self.case = case
        self.errors = errors
        reasons = "; ".join(str(e) for e in errors)
        super().__init__(f"case {case!r} failed: {reasons}", location=f"case {case}")


class InputTooLarge(InputError):
    """The input holds more rows or cases than one request may carry (documented limits)."""

    code = "input-too-large"
    status = 413


class PacketInvalid(AdapterError):
    """A packet breaks the packet rules (invalid FHIR, dangling reference). A hub bug."""

    code = "packet-invalid"
    status = 500
