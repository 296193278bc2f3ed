"""Who may read a document, and which referrals a document may be attached to: injectable.

The documents package decides nothing about referrals. By default a document is readable by
the organisation that uploaded it, and a document can be attached to no referral. The
referral workflow extends both, at import time, with `register_read_rule` (e.g. "the
receiving organisation of the document's referral, while the referral is open") and
`register_referral_check` (e.g. "the referral is the caller's own and is about this
client"). A read rule must check everything it relies on: the document's `client_id`
and `organisation_id` against the referral, since `referral_id` is only as good as the
check that admitted it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from gateway.documents.errors import DocumentInvalid
from gateway.documents.models import Document
from kernel.caller import Caller

__all__ = [
    "ACCESS",
    "DocumentAccess",
    "ReadRule",
    "ReferralCheck",
    "register_read_rule",
    "register_referral_check",
    "uploaded_by_callers_organisation",
]

#: May `caller` read `document`? True grants; every rule is asked until one grants.
ReadRule = Callable[[Session, Caller, Document], bool]
#: May `caller` attach a document about `client_id` to `referral_id`? Raise to refuse
#: (a `DocumentInvalid` or `DocumentNotFound`), return to accept.
ReferralCheck = Callable[[Session, Caller, uuid.UUID, uuid.UUID], None]


def uploaded_by_callers_organisation(session: Session, caller: Caller, document: Document) -> bool:
    """The uploading organisation reads its own documents."""
    return document.organisation_id == caller.organisation_id


@dataclass
class DocumentAccess:
    """The rules in force; services take one (default `ACCESS`), tests may pass their own."""

    read_rules: list[ReadRule] = field(default_factory=lambda: [uploaded_by_callers_organisation])
    referral_checks: list[ReferralCheck] = field(default_factory=list)

    def may_read(self, session: Session, caller: Caller, document: Document) -> bool:
        return any(rule(session, caller, document) for rule in self.read_rules)

    def check_referral(
        self, session: Session, caller: Caller, referral_id: uuid.UUID, client_id: uuid.UUID
    ) -> None:
        """Accept `referral_id` only if at least one check is registered and all pass."""
        if not self.referral_checks:
            raise DocumentInvalid("Documents cannot be attached to referrals on this hub yet.")
        for check in self.referral_checks:
            check(session, caller, referral_id, client_id)


#: The hub's rules.
ACCESS = DocumentAccess()


def register_read_rule(rule: ReadRule) -> None:
    """Let `rule` grant reading (idempotent)."""
    if rule not in ACCESS.read_rules:
        ACCESS.read_rules.append(rule)


def register_referral_check(check: ReferralCheck) -> None:
    """Require `check` to pass before a document is attached to a referral (idempotent)."""
    if check not in ACCESS.referral_checks:
        ACCESS.referral_checks.append(check)
