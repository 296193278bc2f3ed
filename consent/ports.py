"""What the consent package needs from the composition root, as protocols.

Consent may not read other packages' tables; the gateway hands in these lookups when it
builds the routers (see `consent.router.make_router`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy.orm import Session

__all__ = ["Organisations", "ScopeCheck"]

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
