"""Who may see which listings: the one place directory reads are narrowed.

- The public (no credentials) sees services marked public, of organisations marked public,
  not suspended by a moderator; never endpoints or keys.
- Network members (signed-in staff; system clients whose scopes allow reading the
  resource type) see every listing not suspended, with endpoints and keys.
- The owning organisation sees all of its own listings; hub admins see everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, or_, select

from directory.models import DirOrganization, Moderation, Service, Visibility
from kernel.caller import Caller, CallerKind, Role

__all__ = ["EDITOR_ROLES", "Viewer", "visible_services"]

#: Staff roles that edit their organisation's listings.
EDITOR_ROLES = (Role.ORG_ADMIN, Role.SUPERVISOR)


@dataclass(frozen=True)
class Viewer:
    """What a caller may see of the directory."""

    organisation_id: uuid.UUID | None = None
    member: bool = False
    hub_admin: bool = False

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @classmethod
    def of(cls, caller: Caller | None, *, scope_ok: bool = True) -> Viewer:
        """The view of `caller`; a system client counts as a member only with a read scope
        for the resource type asked for (`scope_ok`), otherwise it sees the public view."""
        if caller is None:
            return cls()
        member = caller.kind != CallerKind.CLIENT or scope_ok
        return cls(
            organisation_id=caller.organisation_id,
            member=member,
            hub_admin=Role.HUB_ADMIN in caller.roles,
        )


def visible_services(viewer: Viewer) -> Select[Service]:
    """`SELECT service` narrowed to what `viewer` may read."""
    query = select(Service)
    if viewer.hub_admin:
        return query
    if viewer.member:
        rule = Service.moderation == Moderation.OK
    else:
        # EXISTS, not `organization_id IN (public organisations)`: SQLite would probe the
        # listing index once per public organisation for every candidate row.
        public_org = exists().where(
            DirOrganization.id == Service.organization_id,
            DirOrganization.visibility == Visibility.PUBLIC,
        )
        rule = and_(
            Service.moderation == Moderation.OK,
            Service.visibility == Visibility.PUBLIC,
            public_org,
        )
    if viewer.organisation_id is not None:
        rule = or_(rule, Service.owner_organisation_id == viewer.organisation_id)
    return query.where(rule)
