"""The case summary form ↔ the refhub case summary JSON (adapters' summary format).

The draft keeps a case summary (a dict in the summary format, possibly incomplete or with
values the adapters will refuse: the person's input is kept). The form edits the parts it
has fields for and leaves the rest as it came (from an uploaded file). `complete()` adds
what the hub knows (who sends, to which service, under which consent, the client's
registered identity) and the adapters validate the result; `field_of()` puts each error
they report back at its form field.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from adapters import codes
from gateway.web.i18n import N_

__all__ = [
    "CONTACT_LABELS",
    "DOMAIN_LABELS",
    "LANGUAGES",
    "PRIORITY_LABELS",
    "RELATIONSHIP_LABELS",
    "Attachment",
    "complete",
    "field_of",
    "form_values",
    "message_for",
    "read_form",
]

Json = dict[str, Any]
Attachment = tuple[str, str, str]  # title, content type, base64 data

DOMAIN_LABELS: dict[str, str] = {
    "shelter": N_("Shelter and housing"),
    "food": N_("Food"),
    "cash": N_("Cash and financial assistance"),
    "nfi": N_("Non-food items"),
    "wash": N_("Water, sanitation and hygiene"),
    "education": N_("Education"),
    "livelihoods": N_("Livelihoods and employment"),
    "transport": N_("Transport"),
    "language": N_("Language and interpretation"),
    "social-connection": N_("Social connection"),
    "health": N_("Health"),
    "mhpss": N_("Mental health and psychosocial support"),
    "disability": N_("Disability"),
    "nutrition": N_("Nutrition"),
    "child-protection": N_("Child protection"),
    "gbv": N_("Gender-based violence"),
    "trafficking": N_("Trafficking and exploitation"),
    "safety": N_("Physical safety"),
    "family-tracing": N_("Family tracing and reunification"),
    "legal": N_("Legal assistance"),
    "documentation": N_("Civil documentation"),
    "asylum": N_("Asylum and refugee status"),
    "other": N_("Other"),
}
RELATIONSHIP_LABELS: dict[str, str] = {
    "mother": N_("Mother"),
    "father": N_("Father"),
    "parent": N_("Parent"),
    "spouse": N_("Spouse"),
    "husband": N_("Husband"),
    "wife": N_("Wife"),
    "child": N_("Child"),
    "son": N_("Son"),
    "daughter": N_("Daughter"),
    "sibling": N_("Sibling"),
    "brother": N_("Brother"),
    "sister": N_("Sister"),
    "grandparent": N_("Grandparent"),
    "grandchild": N_("Grandchild"),
    "aunt": N_("Aunt"),
    "uncle": N_("Uncle"),
    "cousin": N_("Cousin"),
    "niece-nephew": N_("Niece or nephew"),
    "relative": N_("Other relative"),
    "guardian": N_("Guardian"),
    "friend": N_("Friend"),
}
CONTACT_LABELS: dict[str, str] = {
    "phone": N_("Phone call"),
    "sms": N_("Text message"),
    "messaging-app": N_("Messaging app"),
    "email": N_("Email"),
    "in-person": N_("In person"),
    "via-referrer": N_("Through the referring case worker"),
}
PRIORITY_LABELS: dict[str, str] = {
    "24h": N_("Urgent: within 24 hours"),
    "72h": N_("Soon: within 72 hours"),
    "2weeks": N_("Routine: within 2 weeks"),
}
#: Languages offered in the form (BCP 47 code → name); a code from an upload is kept too.
LANGUAGES: dict[str, str] = {
    "ar": N_("Arabic"),
    "am": N_("Amharic"),
    "bn": N_("Bengali"),
    "my": N_("Burmese"),
    "zh": N_("Chinese"),
    "prs": N_("Dari"),
    "en": N_("English"),
    "fa": N_("Persian (Farsi)"),
    "fr": N_("French"),
    "ht": N_("Haitian Creole"),
    "hi": N_("Hindi"),
    "rw": N_("Kinyarwanda"),
    "rn": N_("Kirundi"),
    "ckb": N_("Kurdish (Sorani)"),
    "kmr": N_("Kurdish (Kurmanji)"),
    "ln": N_("Lingala"),
    "ne": N_("Nepali"),
    "om": N_("Oromo"),
    "ps": N_("Pashto"),
    "pt": N_("Portuguese"),
    "rhg": N_("Rohingya"),
    "ru": N_("Russian"),
    "so": N_("Somali"),
    "es": N_("Spanish"),
    "sw": N_("Swahili"),
    "ti": N_("Tigrinya"),
    "tr": N_("Turkish"),
    "uk": N_("Ukrainian"),
    "ur": N_("Urdu"),
    "uz": N_("Uzbek"),
    "vi": N_("Vietnamese"),
}
assert set(DOMAIN_LABELS) == set(codes.DOMAINS)
assert set(RELATIONSHIP_LABELS) == set(codes.RELATIONSHIPS.keys)
assert set(CONTACT_LABELS) == set(codes.CONTACT_METHODS.keys)
assert set(PRIORITY_LABELS) == set(codes.PRIORITIES.keys)

MAX_LANGUAGES = 3
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,30}$")


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _notes(text: str, before: Sequence[Json]) -> list[Json]:
    """One note per line; a line unchanged keeps what else it had (its domain)."""
    known = {str(n.get("description", "")): n for n in before if isinstance(n, dict)}
    return [{**known.get(line, {}), "description": line} for line in _lines(text)]


def _rows(form: Mapping[str, Any], prefix: str, names: Sequence[str]) -> list[dict[str, str]]:
    rows = []
    for i in range(int(form.get(f"{prefix}-rows", 0) or 0)):
        row = {n: _text(form, f"{prefix}-{i}-{n}") for n in names}
        if any(row.values()):
            rows.append(row)
    return rows


def _set(target: Json, key: str, value: Any) -> None:
    if value in (None, "", [], {}):
        target.pop(key, None)
    else:
        target[key] = value


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def read_form(form: Mapping[str, Any], summary: Json) -> Json:
    """The case summary with the form's answers written into it (input kept as typed)."""
    out = copy.deepcopy(summary)
    _set(out, "case_id", _text(form, "case_id"))
    referral: Json = out.setdefault("referral", {})
    _set(referral, "priority", _text(form, "priority"))
    _set(referral, "reason", _text(form, "reason"))
    referral["do_not_contact_client"] = bool(form.get("do_not_contact"))
    referral["services_requested"] = [
        {k: v for k, v in r.items() if v} for r in _rows(form, "need", ("domain", "details"))
    ]
    for key in ("strengths", "barriers"):
        _set(out, key, _notes(_text(form, key), out.get(key, [])))
    _set(out, "goals", _notes(_text(form, "goals"), out.get("goals", [])))
    members = out.get("family", [])
    family = []
    for i, row in enumerate(_rows(form, "family", ("given", "family", "relationship", "birth"))):
        member = dict(members[i]) if i < len(members) and isinstance(members[i], dict) else {}
        name = {k: row[k] for k in ("given", "family") if row[k]}
        _set(member, "name", name)
        _set(member, "relationship", row["relationship"])
        _set(member, "birth_date", row["birth"])
        family.append(member)
    _set(out, "family", family)
    client: Json = out.setdefault("client", {})
    spoken = [_text(form, f"language-{i}") for i in range(MAX_LANGUAGES)]
    spoken = [code for i, code in enumerate(spoken) if code and code not in spoken[:i]]
    _set(client, "languages", [{"code": c, "preferred": i == 0} for i, c in enumerate(spoken)])
    _set(client, "interpreter_needed", _yes_no(_text(form, "interpreter")))
    prefs: Json = dict(client.get("contact_preferences") or {})
    _set(prefs, "method", _text(form, "contact_method"))
    _set(prefs, "safe_to_contact", _yes_no(_text(form, "safe_to_contact")))
    _set(prefs, "instructions", _text(form, "contact_instructions"))
    _set(client, "contact_preferences", prefs)
    _set(out, "summary", _text(form, "notes"))
    return out


def _yes_no_value(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else ""


def form_values(summary: Json) -> Json:
    """What the form shows for a case summary (rows plus one empty row to fill)."""
    referral = summary.get("referral") or {}
    client = summary.get("client") or {}
    prefs = client.get("contact_preferences") or {}
    needs = [
        {"domain": r.get("domain", ""), "details": r.get("details", "")}
        for r in referral.get("services_requested", [])
        if isinstance(r, dict)
    ]
    family = [
        {
            "given": (m.get("name") or {}).get("given", ""),
            "family": (m.get("name") or {}).get("family", ""),
            "relationship": m.get("relationship", ""),
            "birth": m.get("birth_date", ""),
        }
        for m in summary.get("family", [])
        if isinstance(m, dict)
    ]
    languages = [lang.get("code", "") for lang in client.get("languages", []) if lang]
    languages += [""] * (MAX_LANGUAGES - len(languages))

    def lines(key: str) -> str:
        return "\n".join(str(n.get("description", "")) for n in summary.get(key, []) if n)

    return {
        "case_id": summary.get("case_id", ""),
        "priority": referral.get("priority", ""),
        "reason": referral.get("reason", ""),
        "do_not_contact": bool(referral.get("do_not_contact_client")),
        "needs": [*needs, {"domain": "", "details": ""}],
        "strengths": lines("strengths"),
        "barriers": lines("barriers"),
        "goals": lines("goals"),
        "family": [*family, {"given": "", "family": "", "relationship": "", "birth": ""}],
        "languages": languages[:MAX_LANGUAGES],
        "interpreter": _yes_no_value(client.get("interpreter_needed")),
        "contact_method": prefs.get("method", ""),
        "safe_to_contact": _yes_no_value(prefs.get("safe_to_contact")),
        "contact_instructions": prefs.get("instructions", ""),
        "notes": summary.get("summary", ""),
    }


def _person_name(full: str) -> Json:
    parts = full.split()
    if len(parts) < 2:
        return {"given": full}
    return {"given": " ".join(parts[:-1]), "family": parts[-1]}


def complete(
    summary: Json,
    *,
    kind: str,
    today: dt.date,
    sender: Json,
    service: Json,
    consent_id: str,
    identity: Json,
    attachments: Sequence[Attachment],
) -> Json:
    """The whole case summary to send: the draft's answers plus what the hub knows.

    `sender` = {organisation, name, email}; `service` = {id, name, organisation};
    `identity` = the client's registered identity (name, birth_date, contact).
    """
    out = copy.deepcopy(summary)
    out["version"] = "1"
    referral: Json = out.setdefault("referral", {})
    referral["kind"] = kind
    referral["date"] = today.isoformat()
    worker = {"name": sender["name"]}
    _set(worker, "email", sender.get("email"))
    referral["referred_by"] = {"organization": {"name": sender["organisation"]}, "worker": worker}
    referral["referred_to"] = {
        "organization": {"name": service["organisation"]},
        "service": {"name": service["name"], "reference": f"HealthcareService/{service['id']}"},
    }
    referral.setdefault("delivery_channel", "hub")
    out["consent"] = {"reference": f"Consent/{consent_id}"}
    client: Json = out.setdefault("client", {})
    if not client.get("name") and identity.get("name"):
        client["name"] = _person_name(str(identity["name"]))
    if not client.get("birth_date") and identity.get("birth_date"):
        client["birth_date"] = str(identity["birth_date"])
    contact = str(identity.get("contact") or "").strip()
    if contact and "@" in contact and not client.get("email") and " " not in contact:
        client["email"] = contact
    elif contact and _PHONE.match(contact) and not client.get("phone"):
        client["phone"] = contact
    out["attachments"] = [
        {"title": title, "content_type": content_type, "data": data}
        for title, content_type, data in attachments
    ]
    if not out["attachments"]:
        del out["attachments"]
    return out


_INDEXED = re.compile(r"^(?P<key>[a-z_.]+)\[(?P<i>\d+)\](?:\.(?P<rest>[a-z_.]+))?")
_FIELDS = {
    "case_id": "case_id",
    "referral.priority": "priority",
    "referral.reason": "reason",
    "referral.services_requested": "need-0-domain",
    "strengths": "strengths",
    "barriers": "barriers",
    "goals": "goals",
    "summary": "notes",
    "client.interpreter_needed": "interpreter",
    "client.contact_preferences": "contact_instructions",
    "client.contact_preferences.method": "contact_method",
    "client.contact_preferences.instructions": "contact_instructions",
    "attachments": "documents",
}


def field_of(location: str) -> str | None:
    """The form field an adapter error location belongs to (None: not on the form)."""
    if location in _FIELDS:
        return _FIELDS[location]
    match = _INDEXED.match(location)
    if match is None:
        return None
    key, i, rest = match["key"], match["i"], match["rest"] or ""
    if key == "referral.services_requested":
        return f"need-{i}-{'details' if rest == 'details' else 'domain'}"
    if key == "family":
        sub = rest.split(".")[0]
        part = {"relationship": "relationship", "birth_date": "birth"}.get(sub)
        if sub == "name":
            part = "family" if rest.endswith("family") else "given"
        return f"family-{i}-{part or 'relationship'}"
    if key == "client.languages":
        return f"language-{i}"
    if key in ("strengths", "barriers", "goals", "attachments"):
        return _FIELDS[key]
    return None


#: What the person reads at a field, by the kind of field (the adapters' own message is
#: for programs: it names paths and patterns).
_MESSAGES = {
    "case_id": N_("Enter your case reference for this client"),
    "priority": N_("Choose how urgent this is"),
    "need-domain": N_("Choose what the client needs help with"),
    "need-details": N_("Shorten the details to at most 20,000 characters"),
    "family-relationship": N_("Choose how this person is related to the client"),
    "family-given": N_("Enter the family member's name (at most 300 characters)"),
    "family-family": N_("Enter the family member's name (at most 300 characters)"),
    "family-birth": N_("Enter the birth date as YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2015-07-30"),
    "language": N_("Choose a language from the list"),
    "contact_method": N_("Choose how the client may be contacted"),
    "contact_instructions": N_(
        "Give a contact method, whether contact is safe, or instructions, or leave all three empty"
    ),
    "documents": N_("This document cannot be attached; remove it from the referral"),
}


def message_for(field: str | None) -> str | None:
    """The message for a field (generic per kind of row field), None: use the adapters'."""
    if field is None:
        return None
    kind = re.sub(r"-\d+(-|$)", r"\1", field).rstrip("-")
    return _MESSAGES.get(field) or _MESSAGES.get(kind)
