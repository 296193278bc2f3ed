"""The ``fhir`` format: FHIR R4 Bundles (JSON) ↔ referral packets."""

from __future__ import annotations

from collections.abc import Sequence

from fhir.resources.R4B.bundle import Bundle

from adapters.encoding import decode_text, load_json
from adapters.errors import MalformedInput
from adapters.fhir.normalise import normalise_bundle
from adapters.format import Format
from adapters.results import Output, ReadResult, WriteResult

__all__ = ["FORMAT", "MEDIA_TYPE", "read_fhir", "write_fhir"]

MEDIA_TYPE = "application/fhir+json"


def read_fhir(data: bytes | str) -> ReadResult:
    """Read one FHIR R4 Bundle (JSON) from an agency; one case.

    Raises:
        EncodingRefused: not UTF-8.
        MalformedInput: not JSON, or not a Bundle.
    """
    text = decode_text(data, what="FHIR JSON")
    parsed = load_json(text, expected="a FHIR R4 Bundle in JSON")
    if not isinstance(parsed, dict) or parsed.get("resourceType") != "Bundle":
        found = parsed.get("resourceType") if isinstance(parsed, dict) else type(parsed).__name__
        raise MalformedInput(
            f"resourceType is {found!r}", location="resourceType", expected="'Bundle'"
        )
    return ReadResult((normalise_bundle(parsed),))


def write_fhir(packets: Sequence[Bundle], *, language: str = "en") -> WriteResult:
    """Each packet as FHIR R4 JSON (``language`` is not used)."""
    outputs = tuple(
        Output(f"{p.id}.fhir.json", MEDIA_TYPE, p.model_dump_json(indent=2) + "\n", p.id)
        for p in packets
    )
    return WriteResult(outputs)


FORMAT = Format("fhir", "FHIR R4 Bundle (JSON)", MEDIA_TYPE, read_fhir, write_fhir)
