"""Finding an organisation's clients by name, identifier (case number) or birth date.

Identities are encrypted at rest, so names and birth dates are matched after decrypting;
identifiers are plain and matched in SQL. Reads start from `consent.scope`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent import vault
from consent.clients import keyring, require_acting
from consent.models import Client, ClientIdentifier
from consent.scope import visible_client_ids
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["ClientMatch", "search_clients"]


@dataclass(frozen=True)
class ClientMatch:
    """A client found: the decrypted identity and the organisation's identifiers for them."""

    client: Client
    identity: dict[str, Any]
    identifiers: list[ClientIdentifier]


def folded(text: str) -> str:
    """Lower case without accents, for matching names as people type them."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_clients(
    session: Session,
    caller: Caller,
    *,
    text: str = "",
    birth_date: dt.date | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[ClientMatch], int]:
    """One page of the caller's organisation's own clients matching `text` and `birth_date`
    (sorted by name), and how many match; without criteria all of them, newest first.

    `text` matches a client when it starts one of the organisation's identifiers for them
    (case-insensitive, in SQL), or when every word of it is part of their name (accents and
    case ignored). Names and birth dates are encrypted, so a search decrypts the identity of
    every client the organisation registered (among those `consent.scope` lets it see):
    fine for an agency's caseload, not for a hub-wide register. Clients of other
    organisations seen through a consent are not listed: reading their identity is a
    consent decision, taken per client on their own record. Erased clients are left out.
    One audit record per search, with counts only (never the criteria).

    Raises:
        ConsentNotPermitted: the caller's role does not work with clients (audited).
        KeyUnavailable: the key-encryption key cannot be read.
    """
    require_acting(session, caller, "client.search", None)
    query = select(Client).where(
        Client.registered_by_org_id == caller.organisation_id,
        Client.id.in_(visible_client_ids(caller, utcnow())),
        Client.wrapped_key.is_not(None),
        Client.identity_ciphertext.is_not(None),
    )
    words = folded(text).split()
    ring = keyring()

    def identity(client: Client) -> dict[str, Any]:
        assert client.wrapped_key is not None
        assert client.identity_ciphertext is not None
        kek = ring.get(client.kek_id)
        return vault.decrypt_identity(
            kek, client.id, client.wrapped_key, client.identity_ciphertext
        )

    found: list[tuple[Client, dict[str, Any]]]
    if not words and birth_date is None:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        newest = query.order_by(Client.created_at.desc(), Client.id).offset(offset).limit(limit)
        found = [(c, identity(c)) for c in session.scalars(newest)]
    else:
        numbered = _numbered(session, caller, text.strip()) if words else set()
        matches = []
        for client in session.scalars(query):
            shown = identity(client)
            name = folded(str(shown.get("name") or ""))
            if words and client.id not in numbered and not all(w in name for w in words):
                continue
            if birth_date is not None and shown.get("birth_date") != birth_date.isoformat():
                continue
            matches.append((client, shown))
        matches.sort(key=lambda m: (folded(str(m[1].get("name") or "")), str(m[0].id)))
        total, found = len(matches), matches[offset : offset + limit]
    numbers = _identifiers(session, caller, [c.id for c, _ in found])
    audit.record(
        session,
        actor=caller.actor,
        action="client.search",
        organisation=str(caller.organisation_id),
        detail={"results": int(total), "shown": len(found)},
    )
    return [ClientMatch(c, shown, numbers.get(c.id, [])) for c, shown in found], int(total)


def _numbered(session: Session, caller: Caller, text: str) -> set[uuid.UUID]:
    """Clients one of whose identifiers (of the caller's organisation) starts with `text`."""
    return set(
        session.scalars(
            select(ClientIdentifier.client_id).where(
                ClientIdentifier.organisation_id == caller.organisation_id,
                func.lower(ClientIdentifier.value).like(_like_prefix(text), escape="\\"),
            )
        )
    )


def _identifiers(
    session: Session, caller: Caller, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ClientIdentifier]]:
    out: dict[uuid.UUID, list[ClientIdentifier]] = {}
    if not client_ids:
        return out
    for row in session.scalars(
        select(ClientIdentifier)
        .where(
            ClientIdentifier.client_id.in_(client_ids),
            ClientIdentifier.organisation_id == caller.organisation_id,
        )
        .order_by(ClientIdentifier.created_at)
    ):
        out.setdefault(row.client_id, []).append(row)
    return out
