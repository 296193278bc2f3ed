"""One call for ``POST /convert`` and ``refhub convert``: read a format, write another."""

from __future__ import annotations

from dataclasses import replace

from adapters.errors import InputTooLarge
from adapters.registry import get_reader, get_writer
from adapters.results import CaseResult, ConversionResult

__all__ = ["MAX_CASES", "convert"]

MAX_CASES = 500
"""Cases one conversion may hold (``InputTooLarge``, 413, beyond it)."""


def convert(
    data: bytes | str, source: str, target: str, *, language: str = "en"
) -> ConversionResult:
    """Convert an input in one registered format into another, through referral packets.

    Args:
        data: the input document (bytes as uploaded, or text).
        source: registry name of the input format (``summary``, ``csv``, ``fhir``).
        target: registry name of the output format (``fhir``, ``summary``, ``csv``, ``html``).
        language: language of the output labels where the format has any (``html``).

    Returns:
        Per-case results (packet or errors), the outputs for the cases that converted, and
        every warning. A failed case never stops the others; check ``result.ok`` or call
        ``result.raise_for_errors()``.

    Raises:
        UnknownFormat: ``source`` or ``target`` is not registered (lists the known ones).
        UnsupportedDirection: the source cannot be read or the target cannot be written.
        EncodingRefused: the input is not UTF-8 (or UTF-16 with a BOM).
        MalformedInput: the input as a whole cannot be parsed (no CSV header, broken JSON).
        InputTooLarge: more than ``MAX_CASES`` cases, or a CSV over its row limit.
    """
    read = get_reader(source)
    write = get_writer(target)
    got = read(data)
    if len(got.cases) > MAX_CASES:
        raise InputTooLarge(
            f"one conversion takes at most {MAX_CASES} cases; this input holds {len(got.cases)}",
            expected=f"split the input, at most {MAX_CASES} cases each",
        )
    good = [c for c in got.cases if c.packet is not None and not c.errors]
    written = write([c.packet for c in good if c.packet is not None], language=language)
    failed_keys: dict[str, CaseResult] = {}
    for index, error in written.failures:
        case = good[index]
        failed_keys[case.key] = replace(case, packet=None, errors=(*case.errors, error))
    cases = tuple(failed_keys.get(c.key, c) for c in got.cases)
    warnings = (
        *got.warnings,
        *(w for c in got.cases for w in c.warnings),
        *written.warnings,
    )
    return ConversionResult(source, target, cases, written.outputs, tuple(warnings))
