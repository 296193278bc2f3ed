"""What a format module provides: a :class:`Format` with a reader and/or a writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fhir.resources.R4B.bundle import Bundle

from adapters.results import ReadResult, WriteResult

__all__ = ["Format", "Reader", "Writer"]


class Reader(Protocol):
    """``read(data) -> ReadResult``: input bytes (or text) → one result per case."""

    def __call__(self, data: bytes | str, /) -> ReadResult: ...


class Writer(Protocol):
    """``write(packets, language=...) -> WriteResult``: packets → documents."""

    def __call__(self, packets: Sequence[Bundle], /, *, language: str = "en") -> WriteResult: ...


@dataclass(frozen=True)
class Format:
    """A format the hub speaks.

    Attributes:
        name: the registry name (``csv``), used in ``?from=`` / ``--from``.
        title: a human name.
        media_type: what its documents are served as.
        read: the reader, or None if the format cannot be read (HTML).
        write: the writer, or None if the format cannot be written.
    """

    name: str
    title: str
    media_type: str
    read: Reader | None
    write: Writer | None
