"""Who may use the delivery routes: staff of the organisation, or its system clients with
a SMART scope for the resource (the organisation itself is narrowed in the services)."""

from __future__ import annotations

from gateway.auth.clients.scopes import scope_allows
from gateway.delivery.errors import NotPermitted
from kernel.caller import Caller, CallerKind, Role

__all__ = ["require_access"]

_STAFF = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN, Role.HUB_ADMIN)


def require_access(caller: Caller, resource_type: str, interaction: str) -> None:
    """Raise NotPermitted unless the caller may do `interaction` on `resource_type`."""
    if caller.kind is CallerKind.CLIENT:
        if not scope_allows(caller.scopes, resource_type, interaction):
            raise NotPermitted(f"Your access token has no {resource_type} scope for this.")
        return
    if not caller.has_role(*_STAFF):
        raise NotPermitted("Your role does not allow this.")
