"""People by name: who an actor id (`user:<id>`, `client:<id>`) is, and the staff of an
organisation a referral can be assigned to. Names and organisations only, never emails."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.clients.models import SystemClient
from gateway.auth.models import Organisation, User
from kernel.caller import Caller, Role

__all__ = ["Person", "assignable", "names_of"]

_CASE_ROLES = {Role.CASE_WORKER.value, Role.SUPERVISOR.value, Role.ORG_ADMIN.value}


@dataclass(frozen=True)
class Person:
    """Who acted: a display name and their organisation's name (`system` for the hub)."""

    name: str
    organisation: str | None
    kind: str  # user | client | system


def _ids(actors: Iterable[str], prefix: str) -> set[uuid.UUID]:
    found = set()
    for actor in actors:
        if actor.startswith(prefix):
            try:
                found.add(uuid.UUID(actor[len(prefix) :]))
            except ValueError:
                continue
    return found


def names_of(session: Session, actors: Iterable[str]) -> dict[str, Person]:
    """The people behind actor ids, in two queries; unknown ids and the hub's own tasks
    (`system:...`) are left out (the caller words them)."""
    wanted = set(actors)
    out: dict[str, Person] = {}
    users = _ids(wanted, "user:")
    if users:
        rows = session.execute(
            select(User.id, User.display_name, Organisation.name)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(User.id.in_(users))
        )
        for user_id, name, org in rows:
            out[f"user:{user_id}"] = Person(name, org, "user")
    systems = _ids(wanted, "client:")
    if systems:
        rows = session.execute(
            select(SystemClient.id, SystemClient.name, Organisation.name)
            .join(Organisation, Organisation.id == SystemClient.organisation_id)
            .where(SystemClient.id.in_(systems))
        )
        for client_id, name, org in rows:
            out[f"client:{client_id}"] = Person(name, org, "client")
    return out


def assignable(session: Session, caller: Caller) -> list[tuple[uuid.UUID, str]]:
    """The active case workers, supervisors and admins of the caller's organisation
    (id, display name), by name: whom a referral of its side can be assigned to."""
    rows = session.execute(
        select(User.id, User.display_name, User.roles)
        .where(User.organisation_id == caller.organisation_id, User.active.is_(True))
        .order_by(User.display_name, User.id)
    )
    return [(uid, name) for uid, name, roles in rows if _CASE_ROLES & set(roles or [])]
