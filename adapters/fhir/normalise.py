"""Normalising an agency's FHIR R4 Bundle into a referral packet.

Validated with the R4B models; unsupported resources and elements dropped and reported;
every id re-issued by the hub; references resolved to the new ``urn:uuid:`` fullUrls;
a Task created when the agency sent only a ServiceRequest; the hub's Provenance added.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from adapters import codes
from adapters.errors import AdapterError, FieldInvalid, UnsupportedContent
from adapters.fhir.elements import CARRIED, HUB_RESOURCE_TYPES, PATIENT_EXTENSIONS
from adapters.packet.build import assemble
from adapters.packet.refs import HUB_TYPES, format_path, iter_references
from adapters.results import AdapterWarning, CaseResult

__all__ = ["normalise_bundle"]

Json = dict[str, Any]


class _Run:
    def __init__(self, new_id: Callable[[], str]) -> None:
        self.new_id = new_id
        self.warnings: list[AdapterWarning] = []
        self.errors: list[AdapterError] = []

    def warn(self, code: str, where: str, message: str) -> None:
        self.warnings.append(AdapterWarning(code, where, message))


def _keys(entry: Json) -> set[str]:
    """Every way a reference may point at this entry."""
    resource = entry.get("resource") or {}
    keys = {str(entry.get("fullUrl") or "")}
    kind, rid = resource.get("resourceType"), resource.get("id")
    if kind and rid:
        keys.add(f"{kind}/{rid}")
    full = str(entry.get("fullUrl") or "")
    if kind and "/" in full and not full.startswith("urn:"):
        parts = full.rstrip("/").split("/")
        keys.add("/".join(parts[-2:]))
    keys.discard("")
    return keys


def _validation_errors(exc: ValidationError) -> list[AdapterError]:
    return [
        FieldInvalid(
            e["msg"],
            location="Bundle." + format_path(tuple(e["loc"])),
            expected="valid FHIR R4 (unknown elements are not allowed)",
        )
        for e in exc.errors()
    ]


def _trim(run: _Run, where: str, resource: Json) -> None:
    """Drop elements a packet does not carry; refuse modifier extensions."""
    kind = resource["resourceType"]
    allowed = CARRIED[kind]
    for key in list(resource):
        if key == "modifierExtension" or key.startswith("_"):
            if key == "modifierExtension":
                run.errors.append(
                    UnsupportedContent(
                        "modifier extensions change the meaning of a resource and cannot be "
                        "dropped safely",
                        location=f"{where}.modifierExtension",
                        expected="no modifierExtension",
                    )
                )
            else:
                run.warn("unsupported-element", f"{where}.{key}", "primitive extensions dropped")
                del resource[key]
        elif key not in allowed:
            why = {"text": "narrative dropped (receivers render their own)"}.get(
                key, "element not carried in refhub packets; dropped"
            )
            run.warn("unsupported-element", f"{where}.{key}", why)
            del resource[key]
    if kind == "Patient" and "extension" in resource:
        keep = []
        for i, ext in enumerate(resource["extension"]):
            if ext.get("url") in PATIENT_EXTENSIONS:
                keep.append(ext)
            else:
                run.warn(
                    "unsupported-element",
                    f"{where}.extension[{i}]",
                    f"extension {ext.get('url')!r} not carried; dropped",
                )
        resource["extension"] = keep
        if not keep:
            del resource["extension"]


def _logical(ref: Json, target: Json) -> None:
    """Turn a reference to an inline hub resource into a logical reference."""
    del ref["reference"]
    ident = (target.get("identifier") or [None])[0]
    if ident:
        ref["identifier"] = {k: v for k, v in ident.items() if k in {"system", "value"}}
    ref.setdefault("display", target.get("name") or target["resourceType"])
    ref["type"] = target["resourceType"]


def _resolve(run: _Run, kept: list[Json], index: dict[str, Json], hub: dict[str, Json]) -> None:
    for e in kept:
        resource = e["resource"]
        where = resource["resourceType"]
        doomed = []
        for path, ref in iter_references(resource):
            target = ref["reference"]
            at = f"{where}.{format_path(path)}"
            if target in index:
                ref["reference"] = index[target]["fullUrl"]
            elif target in hub:
                _logical(ref, hub[target])
                run.warn(
                    "logical-reference",
                    at,
                    f"{target!r} is supplied inline; referenced "
                    "by identifier/name, the resource is handed to the hub",
                )
            elif target.partition("/")[0] in HUB_TYPES and target.count("/") == 1:
                pass  # a hub Organization / HealthcareService / Consent
            else:
                run.warn(
                    "unresolved-reference",
                    at,
                    f"{target!r} resolves to nothing in the Bundle; removed",
                )
                doomed.append(path)
        for path in sorted(doomed, key=lambda p: [str(x).zfill(6) for x in p], reverse=True):
            node: Any = resource
            for p in path[:-1]:
                node = node[p]
            if "display" in node[path[-1]] and not isinstance(path[-1], int):
                del node[path[-1]]["reference"]
            else:
                del node[path[-1]]


def _structure(run: _Run, kept: list[Json]) -> None:
    """One Patient, one ServiceRequest, at most one Task (created when missing)."""
    by_type: dict[str, list[Json]] = {}
    for e in kept:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e)
    for kind, limit in (("Patient", 1), ("ServiceRequest", 1), ("Task", 1)):
        found = len(by_type.get(kind, []))
        if found > limit:
            run.errors.append(
                UnsupportedContent(
                    f"{found} {kind} resources; a referral packet carries one",
                    location=f"Bundle.entry({kind})",
                    expected=f"one {kind} (family members as "
                    "RelatedPerson, one referral per Bundle)",
                )
            )
    for kind in ("Patient", "ServiceRequest"):
        if not by_type.get(kind):
            run.errors.append(
                FieldInvalid(f"no {kind}", location="Bundle.entry", expected=f"one {kind}")
            )
    if run.errors or by_type.get("Task"):
        return
    request = by_type["ServiceRequest"][0]
    sr = request["resource"]
    rid = run.new_id()
    task: Json = {
        "resourceType": "Task",
        "id": rid,
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": codes.TASK_CODE, "code": "fulfill"}]},
        "focus": {"reference": request["fullUrl"]},
        "for": {"reference": by_type["Patient"][0]["fullUrl"]},
        "authoredOn": sr.get("authoredOn"),
        "priority": sr.get("priority"),
        "requester": sr.get("requester"),
        "owner": (sr.get("performer") or [None])[0],
    }
    kept.append(
        {
            "fullUrl": f"urn:uuid:{rid}",
            "resource": {k: v for k, v in task.items() if v is not None},
            "request": {"method": "POST", "url": "Task"},
        }
    )
    run.warn(
        "created-task",
        "Bundle",
        "no Task: the hub created one (status requested, "
        "focus the ServiceRequest) as the Gravity SDOH referral workflow requires",
    )


def normalise_bundle(data: Json, *, new_id: Callable[[], str] | None = None) -> CaseResult:
    """Normalise one FHIR R4 Bundle (parsed JSON) from an agency into a referral packet.

    Args:
        data: the Bundle as JSON (any Bundle type: transaction, batch, collection, message).
        new_id: issues resource ids (default: random UUIDs).

    Returns:
        A CaseResult keyed by the Bundle id: the packet, or every error found (invalid FHIR
        elements by path, missing Patient/ServiceRequest, modifier extensions...); warnings
        for what was dropped or rewritten; inline hub resources in ``hub_resources``.
    """
    run = _Run(new_id or (lambda: str(uuid.uuid4())))
    key = str(data.get("id") or "bundle")
    raw = data.get("entry")
    entries: list[Any] = raw if isinstance(raw, list) else []
    supported: list[Json] = []
    hub_entries: list[Json] = []
    for i, entry in enumerate(entries):
        kind = (
            (entry.get("resource") or {}).get("resourceType") if isinstance(entry, dict) else None
        )
        if kind in CARRIED:
            supported.append(entry)
        elif kind in HUB_RESOURCE_TYPES:
            hub_entries.append(entry)
        else:
            run.warn(
                "unsupported-resource",
                f"Bundle.entry[{i}]",
                f"{kind or 'entry without resource'} is not carried in referral packets; dropped",
            )
    checked = {k: v for k, v in data.items() if k != "entry"} | {"entry": supported + hub_entries}
    try:
        Bundle.model_validate(checked)
    except ValidationError as exc:
        return CaseResult(key, None, tuple(_validation_errors(exc)), tuple(run.warnings))
    index: dict[str, Json] = {}
    kept: list[Json] = []
    for entry in supported:
        resource = dict(entry["resource"])
        rid = run.new_id()
        new = {
            "fullUrl": f"urn:uuid:{rid}",
            "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]},
        }
        for k in _keys(entry):
            index[k] = new
        resource["id"] = rid
        _trim(run, resource["resourceType"], resource)
        kept.append(new)
    hub = {k: e["resource"] for e in hub_entries for k in _keys(e)}
    _resolve(run, kept, index, hub)
    _structure(run, kept)
    if run.errors:
        return CaseResult(key, None, tuple(run.errors), tuple(run.warnings))
    task = next(e["resource"] for e in kept if e["resource"]["resourceType"] == "Task")
    author = task.get("requester") or {"display": "unknown"}
    try:
        packet = assemble(kept, new_id=run.new_id, source_format="fhir", author=author)
    except AdapterError as exc:
        return CaseResult(key, None, (exc,), tuple(run.warnings))
    hub_resources = tuple(e["resource"] for e in hub_entries)
    return CaseResult(key, packet, (), tuple(run.warnings), hub_resources)
