"""Minimisation never leaks a category that was not permitted."""

from __future__ import annotations

from typing import Any

from adapter_strategies import summaries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import (
    DataCategory,
    build_packet,
    categories_present,
    minimise,
    packet_dict,
    read_packet,
)
from adapters.codes import DOMAINS
from adapters.packet.refs import reference_problems
from adapters.summary.model import CaseSummary

C = DataCategory


def _domain(d: str | None, default: C) -> C:
    return DOMAINS[d].category if d else default


def texts_by_category(s: CaseSummary) -> dict[C | None, set[str]]:
    """The spec, written independently of adapters.classify: where each text belongs."""
    out: dict[C | None, set[str]] = {}

    def put(cat: C | None, *values: str | None) -> None:
        out.setdefault(cat, set()).update(v for v in values if v)

    c, r = s.client, s.referral
    if c.name:
        put(C.IDENTITY, c.name.given, c.name.family)
    put(C.IDENTITY, *(i.value for i in c.identifiers), *(i.issuer for i in c.identifiers))
    if c.address:
        put(C.CONTACT, *c.address.model_dump(exclude_none=True).values())
    put(C.CONTACT, c.phone, c.email)
    if c.contact_preferences:
        put(C.CONTACT, c.contact_preferences.instructions)
    if s.minor:
        put(C.PROTECTION, s.minor.caregiver_not_informed_reason)
    for f in s.family:
        put(C.FAMILY, f.phone, *((f.name.given, f.name.family) if f.name else ()))
    for n in s.needs:
        put(_domain(n.domain, C.HEALTH), n.description)
    for x in s.risks:
        put(_domain(x.domain, C.PROTECTION), x.description)
    for n in s.strengths + s.barriers:
        put(_domain(n.domain, C.NEEDS), n.description)
    for g in s.goals:
        put(_domain(g.domain, C.NEEDS), g.description)
    for x in s.services_received:
        put(_domain(x.domain, C.NEEDS), x.details, x.provider)
    for x in r.services_requested:
        put(_domain(x.domain, C.NEEDS), x.details)
    put(C.NEEDS, r.reason)
    put(C.CASE_NOTES, s.summary)
    put(C.DOCUMENTS, *(a.title for a in s.attachments), *(a.data for a in s.attachments))
    # Structural: always travels.
    put(None, s.case_id, r.referred_by.organization.name, r.referred_to.organization.name)
    for w in (r.referred_by.worker, r.referred_to.worker):
        if w:
            put(None, w.name, w.position, w.phone, w.email)
    if r.referred_to.service:
        put(None, r.referred_to.service.name)
    if s.consent:
        put(None, s.consent.description)
    return out


def _leaves(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_leaves(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_leaves(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) else set()


@settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(summaries(), st.sets(st.sampled_from(list(C))))
def test_minimisation_never_leaks_a_removed_category(
    summary: CaseSummary, permitted: set[C]
) -> None:
    packet = build_packet(summary)
    result, report = minimise(packet, permitted)

    assert categories_present(result) <= permitted
    assert report.removed_categories.isdisjoint(permitted)
    data = packet_dict(result)
    assert reference_problems(data) == []

    texts = texts_by_category(summary)
    allowed = set().union(*(texts.get(c, set()) for c in (*permitted, None)))
    forbidden = set().union(*(v for k, v in texts.items() if k is not None and k not in permitted))
    leaked = (forbidden - allowed) & _leaves(data)
    assert leaked == set()

    # What is left still reads as a case summary (the receiver can use it).
    read_packet(result)


@settings(max_examples=30, deadline=None, database=None)
@given(summaries())
def test_minimising_to_every_category_removes_nothing(summary: CaseSummary) -> None:
    packet = build_packet(summary)
    result, report = minimise(packet, list(C))
    assert report.removed == ()
    assert packet_dict(result) == packet_dict(packet)
