"""Consent minimisation: keep only the data categories a consent permits.

This is the only place in the hub that strips data from a packet. Everything else calls it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from adapters.categories import DataCategory, parse_categories
from adapters.classify import classify_resource
from adapters.errors import PacketInvalid
from adapters.packet.refs import (
    Path,
    check_packet,
    format_path,
    iter_references,
    packet_dict,
    packet_from_dict,
    reference_problems,
)

__all__ = ["MinimisationReport", "Removal", "minimise", "minimise_json"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Removal:
    """One thing taken out of a packet.

    Attributes:
        full_url: the entry concerned.
        resource_type: its type.
        element: the element removed (``""`` when the whole resource went).
        category: the category that was not permitted, or None when the element went only
            because it referred to a removed resource.
    """

    full_url: str
    resource_type: str
    element: str
    category: DataCategory | None

    @property
    def reason(self) -> str:
        """Why it was removed, in words."""
        if self.category is None:
            return "referred to a removed resource"
        return f"category {self.category.value!r} not permitted"

    def as_dict(self) -> dict[str, str]:
        """Plain data for audit records and API answers."""
        return {
            "full_url": self.full_url,
            "resource_type": self.resource_type,
            "element": self.element,
            "category": self.category.value if self.category else "",
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MinimisationReport:
    """What :func:`minimise` removed and what it was allowed to keep."""

    permitted: frozenset[DataCategory]
    removed: tuple[Removal, ...]

    @property
    def removed_categories(self) -> frozenset[DataCategory]:
        """Categories of which something was removed."""
        return frozenset(r.category for r in self.removed if r.category is not None)


def _delete(resource: Json, path: Path) -> None:
    node: Any = resource
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]


def _delete_all(resource: Json, paths: Iterable[Path]) -> None:
    # Deepest and highest list index first, so earlier deletions don't shift later paths.
    for path in sorted(
        paths, key=lambda p: [(0, x) if isinstance(x, int) else (1, x) for x in p], reverse=True
    ):
        _delete(resource, path)


def _prune(node: Any) -> Any:
    """Drop containers left empty (FHIR forbids empty elements)."""
    if isinstance(node, dict):
        out = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(node, list):
        return [v for v in (_prune(x) for x in node) if v not in ({}, [])]
    return node


def _drop_references(entries: list[Json], gone: set[str], removed: list[Removal]) -> bool:
    """Remove references to ``gone`` entries; True if a resource must go as a result."""
    cascade = False
    for entry in entries:
        resource = entry["resource"]
        dangling: list[Path] = []
        for path, ref in iter_references(resource):
            if ref["reference"] in gone:
                # The Reference goes: a whole list item, or a single-valued element.
                dangling.append(path)
        if not dangling:
            continue
        _delete_all(resource, dangling)
        for path in dangling:
            removed.append(
                Removal(entry["fullUrl"], resource["resourceType"], format_path(path), None)
            )
        entry["resource"] = _prune(resource)
        if resource["resourceType"] == "Provenance" and not entry["resource"].get("target"):
            cascade = True
    return cascade


def minimise(
    packet: Bundle, permitted: Iterable[DataCategory | str]
) -> tuple[Bundle, MinimisationReport]:
    """Remove everything outside the permitted data categories.

    Whole resources of a category not permitted are removed, as are categorised elements of
    the structural resources (Patient's name under ``identity``, ServiceRequest.note under
    ``case-notes``...). References to removed resources are removed too, so nothing dangles.

    Args:
        packet: a referral packet.
        permitted: the categories the consent decision permits for this recipient
            (enum members or their codes).

    Returns:
        The minimised packet (a new Bundle, validated) and the report of what was removed.

    Raises:
        FieldInvalid: a permitted category code is unknown.
        PacketInvalid: the result would not be a valid packet (a hub bug).
    """
    data, report = _minimise(packet_dict(packet), permitted)
    result = packet_from_dict(data)
    check_packet(result)
    return result, report


def minimise_json(
    data: Json, permitted: Iterable[DataCategory | str]
) -> tuple[Json, MinimisationReport]:
    """`minimise` on a packet's FHIR JSON (as `packet_dict` gives it), for the paths that
    hold the JSON already: the same removals, on a copy; `data` is left as it was.

    When something was removed the result is validated again (R4B models) and its
    references checked; when nothing was, the copy is the packet it was given.

    Raises:
        FieldInvalid: a permitted category code is unknown.
        PacketInvalid: the result would not be a valid packet (a hub bug).
    """
    data, report = _minimise(copy.deepcopy(data), permitted)
    if report.removed:
        packet_from_dict(data)
        problems = reference_problems(data)
        if problems:
            raise PacketInvalid("; ".join(problems), location="Bundle")
    return data, report


def _minimise(
    data: Json, permitted: Iterable[DataCategory | str]
) -> tuple[Json, MinimisationReport]:
    """The removals, in place on `data`."""
    allowed = parse_categories(str(c) for c in permitted)
    removed: list[Removal] = []
    kept: list[Json] = []
    gone: set[str] = set()
    for entry in data.get("entry") or []:
        resource = entry["resource"]
        kind = resource["resourceType"]
        rules = classify_resource(resource)
        if rules and rules[0][0] == ():
            if rules[0][1] not in allowed:
                gone.add(entry["fullUrl"])
                removed.append(Removal(entry["fullUrl"], kind, "", rules[0][1]))
                continue
        else:
            denied = [(p, c) for p, c in rules if c not in allowed]
            if denied:
                _delete_all(resource, [p for p, _ in denied])
                removed.extend(
                    Removal(entry["fullUrl"], kind, format_path(p), c) for p, c in denied
                )
                entry["resource"] = _prune(resource)
        kept.append(entry)
    while _drop_references(kept, gone, removed):
        orphans = [
            e
            for e in kept
            if e["resource"]["resourceType"] == "Provenance" and not e["resource"].get("target")
        ]
        for e in orphans:
            gone.add(e["fullUrl"])
            removed.append(Removal(e["fullUrl"], "Provenance", "", None))
        kept = [e for e in kept if e not in orphans]
    data["entry"] = kept
    return data, MinimisationReport(allowed, tuple(removed))
