"""Hypothesis strategies for case summaries (shared by the adapters property tests)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from hypothesis import strategies as st

from adapters import codes
from adapters.summary.model import CaseSummary

_ALPHABET = st.characters(categories=("L", "N", "P", "S"), exclude_characters="|\u2028\u2029\x85")
_WORD = st.text(_ALPHABET, min_size=1, max_size=12)
# Two words: free text never equals a code or a fixed value of the packet structure.
TEXT = st.builds(lambda a, b: f"{a} {b}", _WORD, _WORD)
LONG = st.builds(lambda a, b, c: f"{a} {b}\n{c}", _WORD, _WORD, _WORD)
DOMAIN = st.sampled_from(sorted(codes.DOMAINS))
DATE = st.dates(min_value=dt.date(1900, 1, 1)).map(lambda d: d.isoformat())
PARTIAL = st.one_of(DATE, DATE.map(lambda d: d[:7]), DATE.map(lambda d: d[:4]))
PHONE = st.from_regex(r"\+?[1-9][0-9 ]{2,10}[0-9]", fullmatch=True)
EMAIL = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.org", fullmatch=True)
GENDER = st.sampled_from(["male", "female", "other", "unknown"])
HUB_ID = st.uuids().map(str)


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _name() -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.fixed_dictionaries({"given": _opt(TEXT), "family": _opt(TEXT)})
        .filter(lambda n: n["given"] or n["family"])
        .map(_drop_none)
    )


def _not_empty(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.fixed_dictionaries({k: _opt(v) for k, v in fields.items()}).map(_drop_none).filter(bool)
    )


def _worker() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": TEXT},
        optional={"position": TEXT, "phone": PHONE, "email": EMAIL},
    )


@st.composite
def summaries(draw: st.DrawFn, csv_safe: bool = False) -> CaseSummary:
    """A valid case summary; ``csv_safe`` keeps to what the CSV layout has columns for."""
    full = not csv_safe
    lang_codes = draw(
        st.lists(
            st.sampled_from(["ar", "fa", "prs", "ps", "en", "fr", "ti"]), max_size=3, unique=True
        )
    )
    preferred = draw(st.booleans()) if lang_codes else False
    languages = [
        {"code": c, "preferred": (i == 0 and preferred) or (full and draw(st.booleans()))}
        for i, c in enumerate(lang_codes)
    ]
    if full:
        identifiers = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(codes.IDENTIFIER_TYPES.keys), "value": TEXT},
                    optional={"issuer": TEXT},
                ),
                max_size=3,
            )
        )
    else:
        identifiers = [
            {"type": t, "value": draw(TEXT)}
            for t in ("unhcr", "national-id")
            if draw(st.booleans())
        ]
    client = {
        "name": draw(_opt(_name())),
        "birth_date": draw(_opt(PARTIAL)),
        "gender": draw(_opt(GENDER)),
        "identifiers": identifiers,
        "address": draw(
            _opt(
                _not_empty(
                    {
                        k: TEXT
                        for k in ("line", "city", "district", "region", "postal_code", "country")
                    }
                )
            )
        ),
        "phone": draw(_opt(PHONE)),
        "email": draw(_opt(EMAIL)),
        "languages": languages,
        "interpreter_needed": draw(_opt(st.booleans())),
        "contact_preferences": draw(
            _opt(
                _not_empty(
                    {
                        "method": st.sampled_from(codes.CONTACT_METHODS.keys),
                        "safe_to_contact": st.booleans(),
                        "instructions": TEXT,
                    }
                )
            )
        ),
    }
    details = _opt(TEXT) if full else st.none()
    org = st.fixed_dictionaries(
        {"name": TEXT}, optional={"reference": HUB_ID.map(lambda i: f"Organization/{i}")}
    )
    referral = {
        "kind": draw(st.sampled_from(["referral", "handover"])),
        "priority": draw(st.sampled_from(["24h", "72h", "2weeks"])),
        "date": draw(DATE),
        "referred_by": {"organization": draw(org), "worker": draw(_opt(_worker()))},
        "referred_to": {
            "organization": draw(org),
            "service": draw(
                _opt(
                    _not_empty(
                        {"name": TEXT, "reference": HUB_ID.map(lambda i: f"HealthcareService/{i}")}
                    )
                )
            ),
            "worker": draw(_opt(_worker())) if full else None,
        },
        "services_requested": draw(
            st.lists(
                st.fixed_dictionaries({"domain": DOMAIN, "details": details}).map(_drop_none),
                min_size=1,
                max_size=3,
            )
        ),
        "delivery_channel": draw(_opt(st.sampled_from(codes.DELIVERY_CHANNELS.keys))),
        "reason": draw(_opt(TEXT)),
        "do_not_contact_client": draw(st.booleans()),
    }
    minor = draw(
        _opt(
            st.fixed_dictionaries(
                {
                    "separation": st.sampled_from(["accompanied", "separated", "unaccompanied"]),
                    "caregiver_informed": _opt(st.booleans()),
                    "caregiver_not_informed_reason": _opt(TEXT),
                }
            ).map(_drop_none)
        )
    )
    family = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "relationship": st.sampled_from(codes.RELATIONSHIPS.keys),
                    "name": _opt(_name()),
                    "birth_date": _opt(PARTIAL),
                    "gender": _opt(GENDER),
                    "caregiver": st.booleans(),
                    "phone": _opt(PHONE),
                }
            ).map(_drop_none),
            max_size=3,
        )
    )
    opt_text = _opt(TEXT) if full else st.none()
    opt_domain = _opt(DOMAIN) if full else st.none()
    data = {
        "case_id": draw(TEXT),
        "referral": referral,
        "client": client,
        "minor": minor,
        "household_size": draw(_opt(st.integers(1, 100))),
        "family": family,
        "needs": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "domain": DOMAIN,
                        "description": opt_text,
                        "severity": _opt(st.sampled_from(["mild", "moderate", "severe"]))
                        if full
                        else st.none(),
                    }
                ).map(_drop_none),
                max_size=3,
            )
        ),
        "risks": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "domain": DOMAIN,
                        "level": _opt(st.sampled_from(["low", "moderate", "high"])),
                        "description": opt_text,
                    }
                ).map(_drop_none),
                max_size=3,
            )
        ),
        "strengths": draw(
            st.lists(
                st.fixed_dictionaries({"description": TEXT, "domain": opt_domain}).map(_drop_none),
                max_size=3,
            )
        ),
        "barriers": draw(
            st.lists(
                st.fixed_dictionaries({"description": TEXT, "domain": opt_domain}).map(_drop_none),
                max_size=3,
            )
        ),
        "goals": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "description": TEXT,
                        "domain": opt_domain,
                        "status": st.sampled_from(["proposed", "active", "completed"])
                        if full
                        else st.just("active"),
                        "target_date": _opt(DATE) if full else st.none(),
                    }
                ).map(_drop_none),
                max_size=3,
            )
        ),
        "services_received": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "domain": DOMAIN,
                        "details": opt_text,
                        "provider": opt_text,
                        "date": _opt(DATE) if full else st.none(),
                    }
                ).map(_drop_none),
                max_size=2,
            )
        ),
        "consent": draw(
            _opt(
                st.fixed_dictionaries(
                    {"reference": HUB_ID.map(lambda i: f"Consent/{i}"), "description": opt_text}
                ).map(_drop_none)
            )
        ),
        "summary": draw(_opt(LONG)),
        "attachments": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "title": TEXT,
                        "content_type": st.just("text/plain"),
                        "data": st.binary(min_size=1, max_size=30).map(
                            lambda b: base64.b64encode(b).decode()
                        ),
                    },
                    optional={"language": st.just("en")},
                ),
                max_size=2,
            )
        )
        if full
        else [],
    }
    return CaseSummary.model_validate(_drop_none(data))
