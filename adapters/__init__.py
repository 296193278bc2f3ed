"""refhub adapters: agencies' formats ↔ FHIR R4 referral packets, minimised by consent.

Pure functions: no database, no HTTP, no settings. The surface other packages use:

- :func:`convert` — one format to another (``/convert``, ``refhub convert``).
- :func:`read` / :func:`write` — one format to packets, packets to one format.
- :func:`build_packet`, :func:`read_packet` — case summary ↔ packet.
- :func:`summary_html` — a packet as a readable HTML fragment (the staff pages).
- :func:`normalise_bundle` — an agency's FHIR Bundle → packet.
- :func:`minimise`, :func:`classify`, :func:`categories_present`, :class:`DataCategory` —
  the consent vocabulary and the one place data is stripped.
- :func:`formats`, :func:`get_format` — the format registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from fhir.resources.R4B.bundle import Bundle

from adapters.categories import (
    DATA_CATEGORY_SYSTEM,
    DataCategory,
    data_category_code_system,
    parse_categories,
)
from adapters.classify import Classified, categories_present, classify
from adapters.convert import convert
from adapters.csv.layout import template as csv_template
from adapters.errors import (
    AdapterError,
    CaseInvalid,
    EncodingRefused,
    FieldInvalid,
    InputError,
    InputTooLarge,
    MalformedInput,
    PacketInvalid,
    UnknownFormat,
    UnsupportedContent,
    UnsupportedDirection,
)
from adapters.fhir.normalise import normalise_bundle
from adapters.format import Format
from adapters.html.render import render_fragment
from adapters.minimise import MinimisationReport, Removal, minimise, minimise_json
from adapters.packet.build import build_packet
from adapters.packet.read import read_packet
from adapters.packet.refs import HUB_TYPES, check_packet, packet_dict, packet_from_dict
from adapters.registry import formats, get_format, get_reader, get_writer, readable, writable
from adapters.results import (
    AdapterWarning,
    CaseResult,
    ConversionResult,
    Output,
    ReadResult,
    WriteResult,
)
from adapters.summary.format import parse_summary, summary_schema, summary_to_json
from adapters.summary.model import CaseSummary

__all__ = [
    "DATA_CATEGORY_SYSTEM",
    "HUB_TYPES",
    "AdapterError",
    "AdapterWarning",
    "CaseInvalid",
    "CaseResult",
    "CaseSummary",
    "Classified",
    "ConversionResult",
    "DataCategory",
    "EncodingRefused",
    "FieldInvalid",
    "Format",
    "InputError",
    "InputTooLarge",
    "MalformedInput",
    "MinimisationReport",
    "Output",
    "PacketInvalid",
    "ReadResult",
    "Removal",
    "UnknownFormat",
    "UnsupportedContent",
    "UnsupportedDirection",
    "WriteResult",
    "build_packet",
    "categories_present",
    "check_packet",
    "classify",
    "convert",
    "csv_template",
    "data_category_code_system",
    "formats",
    "get_format",
    "get_reader",
    "get_writer",
    "minimise",
    "minimise_json",
    "normalise_bundle",
    "packet_dict",
    "packet_from_dict",
    "parse_categories",
    "parse_summary",
    "read",
    "read_packet",
    "readable",
    "summary_html",
    "summary_schema",
    "summary_to_json",
    "writable",
    "write",
]


def read(data: bytes | str, source: str) -> ReadResult:
    """Read an input in a registered format into referral packets, one per case.

    Raises:
        UnknownFormat, UnsupportedDirection, EncodingRefused, MalformedInput: as
        :func:`convert`.
    """
    return get_reader(source)(data)


def write(packets: Sequence[Bundle], target: str, *, language: str = "en") -> WriteResult:
    """Write packets in a registered format (e.g. what a receiver asked for).

    Raises:
        UnknownFormat, UnsupportedDirection: as :func:`convert`.
    """
    return get_writer(target)(packets, language=language)


def summary_html(packet: Bundle, *, language: str = "en", top_level: int = 2) -> str:
    """A packet as the printable summary's HTML, as a fragment for another page.

    Args:
        packet: a referral packet (already minimised for its reader).
        language: label language; others fall back to English.
        top_level: the heading level of the summary's title.

    Raises:
        CaseInvalid: the packet lacks what a summary needs.
    """
    summary, _ = read_packet(packet)
    return render_fragment(summary, language.split("-")[0].lower(), top_level=top_level)
