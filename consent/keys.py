"""KEK rotation: which KEK wraps how many data keys, re-wrapping them, retiring old KEKs.

Re-wrapping changes only the wrapping of each client's data key, never the data key itself,
so everything sealed for the client opens before, during and after a rotation. Each batch
is a compare-and-set per client (`kek_id` and a non-NULL key as read), so it never
resurrects a key erased meanwhile and never undoes a concurrent re-wrap; the caller commits
each batch, which makes a rotation resumable at any point.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from consent.errors import KeyUnavailable
from consent.models import Client
from consent.vault import Keyring, install_new_kek, load_keyring, retire_keks

__all__ = [
    "RewrapBatch",
    "Rotation",
    "keys_in_use",
    "pending",
    "retirable",
    "retire_old",
    "rewrap_batch",
    "rotate",
]


@dataclass(frozen=True)
class RewrapBatch:
    """What one batch did. `raced`: a concurrent change (erasure, another re-wrap) got to
    the client first; `failed`: the wrapped key does not open (damaged). `last_id` is where
    the next batch starts (None when there was nothing left)."""

    rewrapped: int
    raced: int
    failed: int
    last_id: uuid.UUID | None


def keys_in_use(session: Session) -> dict[str, int]:
    """Live (not erased) data keys per KEK id."""
    rows = session.execute(
        select(Client.kek_id, func.count())
        .where(Client.wrapped_key.is_not(None))
        .group_by(Client.kek_id)
    )
    return {kek_id: count for kek_id, count in rows}


def rewrap_batch(
    session: Session, keyring: Keyring, *, limit: int, after: uuid.UUID | None = None
) -> RewrapBatch:
    """Re-wrap up to `limit` data keys held by an earlier KEK of `keyring` under the current
    one, in id order after `after`. Keys wrapped by a KEK missing from the keyring are left
    alone (see `keys_in_use`). Flushes; the caller commits. Returns counts only."""
    current = keyring.current
    readable = sorted(keyring.ids - {current.id})
    if not readable:
        return RewrapBatch(0, 0, 0, None)
    query = (
        select(Client.id, Client.kek_id, Client.wrapped_key)
        .where(Client.kek_id.in_(readable), Client.wrapped_key.is_not(None))
        .order_by(Client.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Client.id > after)
    rows = session.execute(query).all()
    rewrapped = raced = failed = 0
    for client_id, kek_id, wrapped in rows:
        assert wrapped is not None
        try:
            data_key = keyring.get(kek_id).unwrap(wrapped, client_id)
        except KeyUnavailable:
            failed += 1
            continue
        new_wrapped = current.wrap(data_key, client_id)
        if _swap(session, client_id, kek_id, wrapped, current.id, new_wrapped):
            rewrapped += 1
        else:
            raced += 1
    return RewrapBatch(rewrapped, raced, failed, rows[-1][0] if rows else None)


def _swap(
    session: Session,
    client_id: uuid.UUID,
    old_kek: str,
    old_wrapped: bytes,
    new_kek: str,
    new_wrapped: bytes,
) -> bool:
    result = session.execute(
        update(Client)
        .where(
            Client.id == client_id,
            Client.kek_id == old_kek,
            Client.wrapped_key == old_wrapped,
        )
        .values(kek_id=new_kek, wrapped_key=new_wrapped)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class Rotation:
    """One run of `rotate` (counts and key ids only: what the audit record holds)."""

    from_kek: str | None
    to_kek: str
    resumed: bool
    rewrapped: int = 0
    raced: int = 0
    failed: int = 0
    batches: int = 0
    completed: bool = False
    remaining: dict[str, int] = field(default_factory=dict)

    def audit_detail(self) -> dict[str, str | int | bool | None]:
        return {
            "from_kek": self.from_kek,
            "to_kek": self.to_kek,
            "resumed": self.resumed,
            "rewrapped": self.rewrapped,
            "raced": self.raced,
            "failed": self.failed,
            "batches": self.batches,
            "completed": self.completed,
            "remaining": sum(self.remaining.values()),
        }


Unit = Callable[[], AbstractContextManager[Session]]


def pending(in_use: dict[str, int], keyring: Keyring) -> int:
    """Live keys still wrapped by an earlier KEK of the keyring (an unfinished rotation)."""
    return sum(n for kek_id, n in in_use.items() if kek_id in keyring.ids - {keyring.current.id})


def rotate(
    unit: Unit,
    current: Path,
    previous_dir: Path,
    *,
    batch_size: int = 200,
    progress: Callable[[Rotation], None] | None = None,
    rotation: Rotation | None = None,
) -> Rotation:
    """Rotate the KEK and re-wrap every live data key under the new one.

    If an earlier rotation was interrupted (keys still wrapped by an earlier KEK), it is
    resumed instead and no new KEK is made. Otherwise a new KEK becomes current (the old
    one kept in `previous_dir`). Then data keys are re-wrapped in batches of `batch_size`,
    each batch its own transaction (`unit()` opens and commits one), so the API keeps
    serving and an interruption loses at most one uncommitted batch. Passes repeat until
    one re-wraps nothing (clients registered meanwhile by a process that had not yet seen
    the new KEK are caught by the next pass). `rotation` (if given) is filled in as it
    goes, so a caller can audit an interrupted run.
    """
    ring = load_keyring(current, previous_dir)
    with unit() as session:
        in_use = keys_in_use(session)
    resumed = pending(in_use, ring) > 0
    if resumed:
        from_kek = None
    else:
        from_kek, _ = install_new_kek(current, previous_dir)
        ring = load_keyring(current, previous_dir)
    run = rotation or Rotation(from_kek=from_kek, to_kek=ring.current.id, resumed=resumed)
    run.from_kek, run.to_kek, run.resumed = from_kek, ring.current.id, resumed
    while True:
        pass_rewrapped = 0
        after: uuid.UUID | None = None
        while True:
            with unit() as session:
                batch = rewrap_batch(session, ring, limit=batch_size, after=after)
            if batch.last_id is None:
                break
            after = batch.last_id
            run.batches += 1
            run.rewrapped += batch.rewrapped
            run.raced += batch.raced
            run.failed += batch.failed
            pass_rewrapped += batch.rewrapped
            if progress is not None:
                progress(run)
        if pass_rewrapped == 0:
            break
    with unit() as session:
        in_use = keys_in_use(session)
    run.remaining = {k: n for k, n in in_use.items() if k != ring.current.id}
    run.completed = not run.remaining
    return run


def retirable(in_use: dict[str, int], keyring: Keyring) -> tuple[frozenset[str], dict[str, int]]:
    """(earlier KEK ids no live key uses any more, earlier KEK ids still in use → count)."""
    earlier = keyring.ids - {keyring.current.id}
    busy = {k: n for k, n in in_use.items() if k in earlier and n}
    return frozenset(earlier - set(busy)), busy


def retire_old(unit: Unit, current: Path, previous_dir: Path) -> list[str]:
    """Destroy every earlier KEK, refusing while any live data key is still wrapped by one.

    Raises:
        KeyUnavailable: an earlier KEK still wraps live keys (finish the rotation first).
    """
    ring = load_keyring(current, previous_dir)
    with unit() as session:
        in_use = keys_in_use(session)
    free, busy = retirable(in_use, ring)
    if busy:
        raise KeyUnavailable(
            f"{sum(busy.values())} client key(s) are still wrapped by earlier KEK(s) "
            f"{', '.join(sorted(busy))}: run `refhub keys rotate` to finish first"
        )
    return retire_keks(previous_dir, free)
