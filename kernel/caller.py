"""Who is calling: the one description of an authenticated caller every package accepts.

Services take the caller first; `directory` and `consent` narrow their queries with it
without knowing how the caller signed in (that is `gateway.auth`'s business).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

__all__ = ["Caller", "CallerKind", "Role"]


class Role(enum.StrEnum):
    CASE_WORKER = "case_worker"
    SUPERVISOR = "supervisor"
    ORG_ADMIN = "org_admin"
    HUB_ADMIN = "hub_admin"


class CallerKind(enum.StrEnum):
    USER = "user"
    CLIENT = "client"
    SYSTEM = "system"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller acting for one organisation.

    `scopes` are SMART scopes for system clients (`system/ServiceRequest.cruds`,
    `system/*.read`); staff carry none and are governed by `roles`.
    """

    kind: CallerKind
    id: uuid.UUID
    organisation_id: uuid.UUID
    roles: frozenset[Role] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    team: str | None = None

    @property
    def actor(self) -> str:
        """The pseudonymous actor id written to the audit chain."""
        return f"{self.kind.value}:{self.id}"

    @property
    def is_hub_admin(self) -> bool:
        return Role.HUB_ADMIN in self.roles

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))
