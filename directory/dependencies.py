"""Request dependencies the composition root wires in: the session and the caller.

The directory never imports the gateway; `Wiring` holds the gateway's dependencies so
routers can ask for a session, a required caller, or an optional one (public reads), and
the network organisations that have no listing (`NetworkMembers`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request
from sqlalchemy.orm import Session

from directory.access import Viewer
from kernel.caller import Caller
from kernel.errors import RefhubError

__all__ = ["Member", "NetworkMembers", "Wiring"]


@dataclass(frozen=True)
class Member:
    """A network organisation as `/fhir/Organization` shows it when it has no listing."""

    id: uuid.UUID
    name: str
    org_type: str
    active: bool
    updated_at: dt.datetime


class NetworkMembers(Protocol):
    """The network organisations the gateway knows (one id each: a listing it owns has
    the same id)."""

    def unlisted(self, session: Session, ids: Collection[uuid.UUID]) -> list[Member]:
        """The network organisations among `ids` that have no directory listing, by id."""
        ...


@dataclass(frozen=True)
class Wiring:
    """`session`: the request transaction dependency; `caller`: the authenticated-caller
    dependency `(request, session, csrf_sent) -> Caller`; `scope_allows(scopes, type, i)`
    answers whether a system client's SMART scopes allow an interaction; `base_url`: the
    hub's public URL, which every link starts with (never the request's Host); `members`:
    network organisations without a listing, which `/fhir/Organization` also resolves."""

    session: Callable[..., Iterator[Session]]
    caller: Callable[[Request, Session, str], Caller]
    scope_allows: Callable[[frozenset[str], str, str], bool]
    base_url: str
    members: NetworkMembers | None = None

    def optional_caller(self, request: Request, session: Session) -> Caller | None:
        """The caller when the request carries credentials, None when it carries none.

        Only for reads (GET): no CSRF token is needed. Bad credentials still fail (401)."""
        try:
            return self.caller(request, session, "")
        except RefhubError as exc:
            if exc.code == "not-authenticated":
                return None
            raise

    def viewer(self, caller: Caller | None, resource_type: str) -> Viewer:
        """What `caller` may see of `resource_type`: a system client sees the members' view
        only when its scopes allow reading that type, else the public one."""
        scope_ok = caller is not None and self.scope_allows(caller.scopes, resource_type, "r")
        return Viewer.of(caller, scope_ok=scope_ok)
