"""What the consent package needs from the composition root, as protocols.

Consent may not read other packages' tables; the gateway hands in these lookups when it
builds the routers (see `consent.router.make_router`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from kernel.caller import Caller

__all__ = ["Disclosures", "Organisations", "ScopeCheck"]

#: `scope_allows(granted_scopes, resource_type, interaction)` for system clients.
ScopeCheck = Callable[[frozenset[str], str, str], bool]


class Organisations(Protocol):
    """Read-only facts about member organisations."""

    def type_of(self, session: Session, organisation_id: uuid.UUID) -> str | None:
        """The organisation's type (`kernel.organisations.OrgType` value), None if unknown."""
        ...

    def names(self, session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Display names of the organisations that exist among `ids`."""
        ...


class Disclosures(Protocol):
    """What a referral or handover the caller's organisation received discloses now."""

    def patient(
        self, session: Session, caller: Caller, patient_id: uuid.UUID
    ) -> dict[str, Any] | None:
        """The Patient of a referral or handover addressed to the caller's organisation,
        as its packet is read (the same consent decision, narrowed to what it permits
        now), under `patient_id`: the client's id or the packet's Patient id. None when
        no such referral is visible to the caller."""
        ...
