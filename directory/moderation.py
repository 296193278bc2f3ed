"""The hub admins' moderation queue: listings nobody has reviewed yet, or changed since
their last review, oldest first; approving one records the review, rejecting one suspends it.

A listing is reviewed at a version (`Service.reviewed_version`): a later create-or-update
by its owner makes `version` greater and puts it back in the queue. Suspending and
restoring go through `directory.service.moderate_service` (the API's rule), which counts as
a review of the version it produces. Hub admins only; every verdict is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.errors import ListingNotFound, NotModerator
from directory.models import DirOrganization, Moderation, Service, ServiceVersion
from directory.schemas import ModerationIn
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow
from kernel.errors import Conflict

__all__ = [
    "QueueItem",
    "approve",
    "queue",
    "queue_size",
    "reject",
    "restore",
    "suspended",
]

#: Parts of a version's snapshot that say nothing about the listing's content.
_BOOKKEEPING = {"id", "version", "last_modified", "metadata", "moderation"}


@dataclass(frozen=True)
class QueueItem:
    """One listing waiting for a hub admin, and what changed since the last review."""

    service: Service
    organisation: str
    last_change: str  # the latest version's change: create, update, moderate-...
    #: Top-level parts of the listing that differ from the reviewed version (empty: new,
    #: or the reviewed version's snapshot is gone).
    changed: list[str] = field(default_factory=list)

    @property
    def new(self) -> bool:
        return self.service.reviewed_version is None


def _moderator(caller: Caller) -> None:
    if not caller.is_hub_admin:
        raise NotModerator("Only hub admins moderate listings.")


def _unreviewed() -> ColumnElement[bool]:
    return or_(Service.reviewed_version.is_(None), Service.version > Service.reviewed_version)


def _named(query_text: str) -> ColumnElement[bool] | None:
    text = query_text.strip().lower()
    return func.lower(Service.name).contains(text, autoescape=True) if text else None


def queue_size(session: Session, caller: Caller) -> int:
    _moderator(caller)
    return int(session.scalar(select(func.count()).where(_unreviewed())) or 0)


def _versions(
    session: Session, wanted: set[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], ServiceVersion]:
    if not wanted:
        return {}
    rows = session.scalars(
        select(ServiceVersion).where(
            ServiceVersion.service_id.in_({service_id for service_id, _ in wanted})
        )
    )
    return {(v.service_id, v.version): v for v in rows if (v.service_id, v.version) in wanted}


def _content(value: Any) -> Any:
    """A snapshot part without its rows' ids (rewritten on every save)."""
    if isinstance(value, dict):
        return {k: _content(v) for k, v in value.items() if k != "id" and not k.endswith("_id")}
    if isinstance(value, list):
        return [_content(v) for v in value]
    return value


def _changed(before: ServiceVersion | None, after: ServiceVersion | None) -> list[str]:
    if before is None or after is None:
        return []
    keys = (set(before.snapshot) | set(after.snapshot)) - _BOOKKEEPING
    return sorted(
        k for k in keys if _content(before.snapshot.get(k)) != _content(after.snapshot.get(k))
    )


def queue(
    session: Session, caller: Caller, *, name: str = "", limit: int = 25, offset: int = 0
) -> tuple[list[QueueItem], int]:
    """Listings waiting for review (optionally whose name contains `name`), the longest
    waiting first, with the number waiting in all."""
    _moderator(caller)
    rule = _unreviewed()
    named = _named(name)
    if named is not None:
        rule = rule & named
    total = int(session.scalar(select(func.count()).where(rule)) or 0)
    rows = session.execute(
        select(Service, DirOrganization.name)
        .join(DirOrganization, DirOrganization.id == Service.organization_id)
        .where(rule)
        .order_by(Service.updated_at, Service.id)
        .limit(limit)
        .offset(offset)
    ).all()
    wanted = {(s.id, s.version) for s, _ in rows}
    wanted |= {(s.id, s.reviewed_version) for s, _ in rows if s.reviewed_version is not None}
    versions = _versions(session, wanted)
    items = []
    for service, org_name in rows:
        current = versions.get((service.id, service.version))
        reviewed = (
            versions.get((service.id, service.reviewed_version))
            if service.reviewed_version is not None
            else None
        )
        items.append(
            QueueItem(
                service=service,
                organisation=org_name,
                last_change=current.change if current else "update",
                changed=_changed(reviewed, current),
            )
        )
    return items, total


def suspended(
    session: Session, caller: Caller, *, limit: int = 50
) -> Sequence[tuple[Service, str]]:
    """Suspended listings (hidden from everyone but their owner), the latest first."""
    _moderator(caller)
    return [
        (service, org_name)
        for service, org_name in session.execute(
            select(Service, DirOrganization.name)
            .join(DirOrganization, DirOrganization.id == Service.organization_id)
            .where(Service.moderation == Moderation.SUSPENDED)
            .order_by(Service.updated_at.desc())
            .limit(limit)
        )
    ]


def _at_version(session: Session, service_id: uuid.UUID, version: int | None) -> Service:
    service = session.get(Service, service_id, with_for_update=True)
    if service is None:
        raise ListingNotFound("No such listing.")
    if version is not None and version != service.version:
        raise Conflict(
            f"The listing changed while you were looking at it (now version {service.version}):"
            " look at it again before you decide."
        )
    return service


def approve(
    session: Session, caller: Caller, *, service_id: uuid.UUID, version: int | None = None
) -> Service:
    """Record that a hub admin reviewed the listing as it is (at `version`, when given: a
    listing changed meanwhile is refused). Its moderation is left as it is."""
    _moderator(caller)
    service = _at_version(session, service_id, version)
    service.reviewed_version, service.reviewed_at = service.version, utcnow()
    service.reviewed_by = caller.actor
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="directory.service.review",
        organisation=str(caller.organisation_id),
        subject=f"HealthcareService/{service.id}",
        detail={"version": service.version, "moderation": service.moderation},
    )
    return service


def reject(
    session: Session,
    caller: Caller,
    *,
    service_id: uuid.UUID,
    reason: str,
    version: int | None = None,
) -> Service:
    """Suspend the listing with `reason` (its owner sees it); hidden from searches."""
    _moderator(caller)
    _at_version(session, service_id, version)
    return directory_service.moderate_service(
        session,
        caller,
        service_id=service_id,
        body=ModerationIn(action="suspend", reason=reason),
    )


def restore(session: Session, caller: Caller, *, service_id: uuid.UUID, reason: str) -> Service:
    """Show a suspended listing again, with a note saying why."""
    _moderator(caller)
    return directory_service.moderate_service(
        session,
        caller,
        service_id=service_id,
        body=ModerationIn(action="restore", reason=reason),
    )
