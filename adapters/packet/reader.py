"""Reading packet JSON: entry lookup, reference resolution and small extractors."""

from __future__ import annotations

from typing import Any

from adapters import codes
from adapters.errors import FieldInvalid, UnsupportedContent
from adapters.results import AdapterWarning

__all__ = [
    "PacketReader",
    "code_of",
    "domain_of",
    "first",
    "name_of",
    "org_of",
    "telecom_of",
    "worker_fields",
    "worker_role",
]

Json = dict[str, Any]


class PacketReader:
    """A packet's entries by type and fullUrl, and the warnings found reading them."""

    def __init__(self, data: Json) -> None:
        self.entries: list[Json] = data.get("entry") or []
        self.by_url: dict[str, Json] = {
            e.get("fullUrl", ""): e.get("resource") or {} for e in self.entries
        }
        self.warnings: list[AdapterWarning] = []

    def warn(self, where: str, message: str, code: str = "not-carried") -> None:
        self.warnings.append(AdapterWarning(code, where, message))

    def all(self, kind: str) -> list[Json]:
        return [
            r for e in self.entries if (r := e.get("resource") or {}).get("resourceType") == kind
        ]

    def one(self, kind: str, required: bool = True) -> Json:
        found = self.all(kind)
        if len(found) > 1:
            raise UnsupportedContent(
                f"{len(found)} {kind} resources; a packet carries exactly one",
                location=f"Bundle.entry({kind})",
                expected=f"one {kind}",
            )
        if not found and required:
            raise FieldInvalid(
                f"no {kind} in the packet", location="Bundle.entry", expected=f"one {kind}"
            )
        return found[0] if found else {}

    def resolve(self, ref: Any) -> Json:
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return self.by_url.get(ref["reference"], {})
        return {}


def first(items: Any) -> Json:
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def name_of(names: Any) -> Json | None:
    n = first(names)
    given = n.get("given") or []
    out = {"given": " ".join(given) if given else None, "family": n.get("family")}
    if not out["given"] and not out["family"] and n.get("text"):
        out["given"] = n["text"]
    return out if out["given"] or out["family"] else None


def telecom_of(items: Any, system: str) -> str | None:
    for t in items or []:
        if t.get("system") == system and t.get("value"):
            return str(t["value"])
    return None


def org_of(ref: Any, where: str, r: PacketReader) -> Json:
    ref = ref if isinstance(ref, dict) else {}
    out: Json = {"name": ref.get("display")}
    if str(ref.get("reference", "")).startswith("Organization/"):
        out["reference"] = ref["reference"]
    if not out["name"]:
        out["name"] = ref.get("reference") or "unknown organisation"
        r.warn(where, "organisation has no name (display); used its reference", "defaulted")
    return out


def worker_role(role: Json) -> Json | None:
    if role.get("resourceType") != "PractitionerRole":
        return None
    return role


def worker_fields(role: Json, r: PacketReader) -> Json:
    person = r.resolve(role.get("practitioner"))
    name = first(person.get("name"))
    text = name.get("text") or " ".join([*(name.get("given") or []), name.get("family") or ""])
    return {
        "name": text.strip() or "unknown",
        "position": first(role.get("code")).get("text"),
        "phone": telecom_of(role.get("telecom"), "phone"),
        "email": telecom_of(role.get("telecom"), "email"),
    }


def domain_of(concepts: Any, r: PacketReader, where: str, default: str | None) -> str | None:
    """The case domain of CodeableConcept(s): refhub code, else a Gravity SDOH category,
    else ``default`` (with a warning when a default is used)."""
    for cc in concepts if isinstance(concepts, list) else [concepts]:
        if not isinstance(cc, dict):
            continue
        for c in cc.get("coding") or []:
            if c.get("system") == codes.CS + "case-domain" and c.get("code") in codes.DOMAINS:
                return str(c["code"])
        for c in cc.get("coding") or []:
            if c.get("system") == codes.SDOH and c.get("code") in codes.SDOH_TO_DOMAIN:
                return codes.SDOH_TO_DOMAIN[c["code"]]
    if default is not None:
        r.warn(where, f"no refhub or Gravity SDOH domain code; read as {default!r}", "defaulted")
    return default


def code_of(cc: Any) -> tuple[str, str]:
    c = first(cc.get("coding") if isinstance(cc, dict) else None)
    return str(c.get("system", "")), str(c.get("code", ""))
