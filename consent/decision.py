"""The consent decision point: may these categories go to this recipient for this purpose?

`decide()` is the only function the rest of the hub asks. It reads the consents in force
at that moment (no cache, so a revocation counts for the very next call), answers deny
unless a permit applies, and audits every answer. Precedence, per data category:

1. Only provisions that match the recipient, the purpose, the moment and the category count.
2. The most specific of those wins. Specificity is compared as a tuple, left first:
   recipient (the organisation itself > its organisation type > everyone),
   purpose (named > any), category (named > all).
3. On a tie at the top, deny beats permit.
4. No matching provision: deny.
5. An erased client has no consents in force, and every decision about them denies
   (`client-erased`), an emergency override included: there is nothing left to disclose.

See docs/consent.md for why this is preferred to "the most recent consent wins".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent.errors import ConsentInvalid, ConsentNotPermitted
from consent.models import (
    Client,
    ConsentRecord,
    Provision,
    ProvisionKind,
    ProvisionRecipient,
    Purpose,
)
from consent.scope import in_force
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role
from kernel.crypto import sha256_hex
from kernel.db import held, utcnow

__all__ = ["OVERRIDE_REASONS", "Decision", "Rule", "codes", "decide"]

#: Grounds on which a supervisor may disclose without consent (each audited as such).
OVERRIDE_REASONS = frozenset({"risk-to-life", "child-at-imminent-risk", "legal-obligation"})
_OVERRIDE_ROLES = (Role.SUPERVISOR, Role.ORG_ADMIN)
_MIN_REASON_TEXT = 10


@dataclass(frozen=True)
class Decision:
    """The answer: `permit` is true when at least one asked-for category may go.

    `consent_version` is the id of the consent version that permitted (the most recent one
    if several did), or that denied when nothing was permitted; `consent_versions` lists
    every version that decided a category. `reasons` are codes per category, no content.
    """

    permit: bool
    permitted_categories: frozenset[DataCategory]
    consent_version: uuid.UUID | None
    consent_versions: tuple[uuid.UUID, ...]
    reasons: tuple[str, ...]
    override: bool = False


@dataclass(frozen=True)
class Rule:
    """One provision of a consent in force, flattened for matching."""

    record_id: uuid.UUID
    recorded_at: dt.datetime
    kind: ProvisionKind
    organisation_ids: frozenset[uuid.UUID]
    organisation_types: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    period_start: dt.datetime | None
    period_end: dt.datetime | None

    def specificity(
        self, org_id: uuid.UUID | None, org_type: str | None, purpose: str, now: dt.datetime
    ) -> tuple[int, int] | None:
        """(recipient, purpose) specificity if this rule applies, else None."""
        if self.period_start is not None and now < self.period_start:
            return None
        if self.period_end is not None and now >= self.period_end:
            return None
        if org_id is not None and org_id in self.organisation_ids:
            recipient = 2
        elif org_type is not None and org_type in self.organisation_types:
            recipient = 1
        elif not self.organisation_ids and not self.organisation_types:
            recipient = 0
        else:
            return None
        if not self.purposes:
            return (recipient, 0)
        return (recipient, 1) if purpose in self.purposes else None


def codes(text: str) -> frozenset[str]:
    """The codes of a space-separated column value."""
    return frozenset(text.split())


def _rules(session: Session, client_id: uuid.UUID, now: dt.datetime) -> list[Rule]:
    # One query: each provision in force with its named recipients (one row per recipient).
    found = session.execute(
        select(Provision, ConsentRecord.id, ConsentRecord.recorded_at, ProvisionRecipient)
        .join(ConsentRecord, ConsentRecord.id == Provision.record_id)
        .outerjoin(ProvisionRecipient, ProvisionRecipient.provision_id == Provision.id)
        .where(ConsentRecord.client_id == client_id, in_force(now))
        .order_by(ConsentRecord.recorded_at, Provision.position)
    ).all()
    rows: list[tuple[Provision, uuid.UUID, dt.datetime]] = []
    recipients: dict[uuid.UUID, list[ProvisionRecipient]] = {}
    for provision, record_id, recorded_at, recipient in found:
        if provision.id not in recipients:
            recipients[provision.id] = []
            rows.append((provision, record_id, recorded_at))
        if recipient is not None:
            recipients[provision.id].append(recipient)
    rules = []
    for provision, record_id, recorded_at in rows:
        named = recipients.get(provision.id, [])
        rules.append(
            Rule(
                record_id=record_id,
                recorded_at=recorded_at,
                kind=ProvisionKind(provision.kind),
                organisation_ids=frozenset(r.organisation_id for r in named if r.organisation_id),
                organisation_types=frozenset(
                    r.organisation_type for r in named if r.organisation_type
                ),
                purposes=codes(provision.purposes),
                categories=codes(provision.categories),
                period_start=provision.period_start,
                period_end=provision.period_end,
            )
        )
    return rules


def evaluate(
    rules: Iterable[Rule],
    *,
    recipient_org_id: uuid.UUID | None,
    recipient_org_type: str | None,
    purpose: str,
    categories: frozenset[DataCategory],
    now: dt.datetime,
) -> Decision:
    """Apply the precedence rules to `rules` (pure; `decide` feeds it the rules in force)."""
    scored = []
    for rule in rules:
        level = rule.specificity(recipient_org_id, recipient_org_type, purpose, now)
        if level is not None:
            scored.append((level, rule))
    permitted: set[DataCategory] = set()
    reasons: list[str] = []
    deciding: dict[uuid.UUID, dt.datetime] = {}
    permitting: dict[uuid.UUID, dt.datetime] = {}
    for category in sorted(categories):
        candidates = [
            ((*level, 1 if rule.categories else 0), rule)
            for level, rule in scored
            if not rule.categories or category.value in rule.categories
        ]
        if not candidates:
            reasons.append(f"{category.value}:no-consent")
            continue
        top = max(score for score, _ in candidates)
        winners = [rule for score, rule in candidates if score == top]
        denies = [rule for rule in winners if rule.kind is ProvisionKind.DENY]
        chosen = denies or winners
        for rule in chosen:
            deciding[rule.record_id] = rule.recorded_at
        if denies:
            reasons.append(f"{category.value}:denied")
        else:
            permitted.add(category)
            reasons.append(f"{category.value}:permitted")
            for rule in winners:
                permitting[rule.record_id] = rule.recorded_at
    versions = tuple(sorted(deciding, key=lambda rid: (deciding[rid], str(rid))))
    source = permitting or deciding
    version = max(source, key=lambda rid: (source[rid], str(rid))) if source else None
    return Decision(
        permit=bool(permitted),
        permitted_categories=frozenset(permitted),
        consent_version=version,
        consent_versions=versions,
        reasons=tuple(reasons),
    )


def _check_override(
    session: Session, caller: Caller, subject: str, code: str | None, text: str | None
) -> None:
    allowed = caller.kind is CallerKind.USER and caller.has_role(*_OVERRIDE_ROLES)
    problem = None
    if not allowed:
        problem = "role"
    elif code not in OVERRIDE_REASONS:
        problem = "reason-code"
    elif not text or len(text.strip()) < _MIN_REASON_TEXT:
        problem = "reason-text"
    if problem is None:
        return
    audit.record(
        session,
        actor=caller.actor,
        action="consent.override",
        outcome=Outcome.DENIED,
        organisation=str(caller.organisation_id),
        subject=subject,
        detail={"refused": problem},
    )
    if problem == "role":
        raise ConsentNotPermitted("An emergency override needs a supervisor or org admin.")
    raise ConsentInvalid(
        "An emergency override needs a reason code ("
        + ", ".join(sorted(OVERRIDE_REASONS))
        + f") and a stated reason of at least {_MIN_REASON_TEXT} characters."
    )


def _erased(session: Session, client_id: uuid.UUID) -> bool:
    client = held(session, Client, client_id)  # the row sealing reads next, in one query
    return client is not None and client.erased_at is not None


def decide(
    session: Session,
    caller: Caller,
    *,
    client_id: uuid.UUID,
    recipient_org_id: uuid.UUID | None,
    recipient_org_type: str | None,
    purpose: Purpose | str,
    categories: Iterable[DataCategory],
    override_code: str | None = None,
    override_reason: str | None = None,
) -> Decision:
    """Decide, from the consents in force now, which `categories` may go to the recipient.

    Deny by default; no cache; every decision is audited (`consent.decide`, or
    `consent.override` when an emergency override is used: it needs a supervisor or org
    admin, a reason code from `OVERRIDE_REASONS` and a stated reason, of which only a
    digest is audited).

    Raises:
        ConsentInvalid: unknown purpose, or an override without a proper reason.
        ConsentNotPermitted: an override by a caller without the permission.
    """
    subject = f"Patient/{client_id}"
    try:
        purpose_code = Purpose(purpose).value
    except ValueError:
        raise ConsentInvalid(
            f"unknown purpose {purpose!r}; use one of " + ", ".join(p.value for p in Purpose)
        ) from None
    asked = frozenset(categories)
    now = utcnow()
    extra: dict[str, str | None] = {}
    if _erased(session, client_id):
        decision = Decision(
            permit=False,
            permitted_categories=frozenset(),
            consent_version=None,
            consent_versions=(),
            reasons=tuple(f"{c.value}:client-erased" for c in sorted(asked)),
        )
        action, outcome = "consent.decide", Outcome.DENIED
        extra = {"refused": "client-erased"}
    elif override_code is not None or override_reason is not None:
        _check_override(session, caller, subject, override_code, override_reason)
        decision = Decision(
            permit=bool(asked),
            permitted_categories=asked,
            consent_version=None,
            consent_versions=(),
            reasons=(f"override:{override_code}",),
            override=True,
        )
        action, outcome = "consent.override", Outcome.SUCCESS
        extra = {
            "reason_code": override_code,
            "reason_digest": sha256_hex((override_reason or "").encode()),
        }
    else:
        decision = evaluate(
            _rules(session, client_id, now),
            recipient_org_id=recipient_org_id,
            recipient_org_type=recipient_org_type,
            purpose=purpose_code,
            categories=asked,
            now=now,
        )
        action = "consent.decide"
        outcome = Outcome.SUCCESS if decision.permit else Outcome.DENIED
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        outcome=outcome,
        organisation=str(caller.organisation_id),
        subject=subject,
        purpose=purpose_code,
        detail={
            "recipient": str(recipient_org_id) if recipient_org_id else None,
            "recipient_type": recipient_org_type,
            "asked": " ".join(sorted(c.value for c in asked)),
            "permitted": " ".join(sorted(c.value for c in decision.permitted_categories)),
            "consent_version": str(decision.consent_version) if decision.consent_version else None,
            **extra,
        },
    )
    return decision
