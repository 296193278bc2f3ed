"""Walking packet JSON: entries, references, and checking that every reference resolves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from adapters.errors import PacketInvalid

__all__ = [
    "HUB_TYPES",
    "Path",
    "check_packet",
    "format_path",
    "iter_references",
    "packet_dict",
    "packet_from_dict",
    "reference_problems",
]

# Resources the hub holds itself; packets may point at them as ``Type/id``.
HUB_TYPES = frozenset({"Organization", "HealthcareService", "Consent"})

Path = tuple[str | int, ...]


def packet_dict(packet: Bundle) -> dict[str, Any]:
    """The packet as FHIR JSON (plain dicts and lists)."""
    out: dict[str, Any] = json.loads(packet.model_dump_json())
    return out


def packet_from_dict(data: dict[str, Any]) -> Bundle:
    """Validate FHIR JSON with the R4B models and return the Bundle.

    Raises:
        PacketInvalid: the JSON is not a valid Bundle (names the first failing element).
    """
    try:
        return Bundle.model_validate(data)
    except ValueError as exc:
        raise PacketInvalid(f"not a valid FHIR Bundle: {exc}", location="Bundle") from exc


def format_path(path: Path) -> str:
    """``("entry", 2, "resource", "subject")`` → ``entry[2].resource.subject``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def iter_references(node: Any, path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every Reference (a dict with a string ``reference``) under ``node``, with its path."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield path, node
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield from iter_references(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from iter_references(value, (*path, i))


def _is_hub_reference(ref: str) -> bool:
    kind, _, rest = ref.partition("/")
    return kind in HUB_TYPES and bool(rest) and "/" not in rest


def reference_problems(data: dict[str, Any]) -> list[str]:
    """Why the packet's references do not all resolve; empty when they do.

    Every reference must be the ``fullUrl`` of an entry of the Bundle or ``Type/id`` of a
    hub resource type (Organization, HealthcareService, Consent).
    """
    problems: list[str] = []
    entries = data.get("entry") or []
    full_urls = {e.get("fullUrl") for e in entries}
    for i, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        for path, ref in iter_references(resource, ("entry", i, "resource")):
            target = ref["reference"]
            if target not in full_urls and not _is_hub_reference(target):
                problems.append(f"{format_path(path)}: {target!r} resolves to nothing")
    return problems


def check_packet(packet: Bundle) -> None:
    """Raise PacketInvalid when a reference of the packet does not resolve."""
    problems = reference_problems(packet_dict(packet))
    if problems:
        raise PacketInvalid("; ".join(problems), location="Bundle")
