"""The one table of formats: name → reader and writer. Nothing unlisted is accepted.

To add a format, write one module exposing ``FORMAT = Format(...)`` (see
:mod:`adapters.format`) and add it to :data:`_REGISTERED` below; docs/adapters.md explains.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.csv import format as csv_format
from adapters.errors import UnknownFormat, UnsupportedDirection
from adapters.fhir import format as fhir_format
from adapters.format import Format, Reader, Writer
from adapters.html import format as html_format
from adapters.summary import format as summary_format

__all__ = ["formats", "get_format", "get_reader", "get_writer", "readable", "writable"]

_REGISTERED: tuple[Format, ...] = (
    summary_format.FORMAT,
    csv_format.FORMAT,
    fhir_format.FORMAT,
    html_format.FORMAT,
)
_FORMATS: dict[str, Format] = {f.name: f for f in _REGISTERED}


def formats() -> dict[str, Format]:
    """Every registered format by name, in registration order."""
    return dict(_FORMATS)


def _choices(names: Sequence[str]) -> str:
    return "one of " + ", ".join(names)


def readable() -> list[str]:
    """Names of the formats that can be read."""
    return [n for n, f in _FORMATS.items() if f.read is not None]


def writable() -> list[str]:
    """Names of the formats that can be written."""
    return [n for n, f in _FORMATS.items() if f.write is not None]


def get_format(name: str) -> Format:
    """The format registered under ``name``.

    Raises:
        UnknownFormat: no such format; the error lists the known ones.
    """
    found = _FORMATS.get(name)
    if found is None:
        raise UnknownFormat(
            f"unknown format {name!r}", location="format", expected=_choices(list(_FORMATS))
        )
    return found


def get_reader(name: str) -> Reader:
    """The reader of a format.

    Raises:
        UnknownFormat: no such format.
        UnsupportedDirection: the format cannot be read; lists those that can.
    """
    fmt = get_format(name)
    if fmt.read is None:
        raise UnsupportedDirection(
            f"format {name!r} cannot be read", location="from", expected=_choices(readable())
        )
    return fmt.read


def get_writer(name: str) -> Writer:
    """The writer of a format.

    Raises:
        UnknownFormat: no such format.
        UnsupportedDirection: the format cannot be written; lists those that can.
    """
    fmt = get_format(name)
    if fmt.write is None:
        raise UnsupportedDirection(
            f"format {name!r} cannot be written", location="to", expected=_choices(writable())
        )
    return fmt.write
