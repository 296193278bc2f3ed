"""Clients (data subjects): registration, encrypted identity, agency identifiers, links.

Only this module and `consent.service` write the consent tables; reads start from
`consent.scope.visible_client_ids`. Identity is decrypted only for callers that may see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import decision, vault
from consent.errors import (
    ClientErased,
    ClientIdentifierTaken,
    ConsentInvalid,
    ConsentNotFound,
    ConsentNotPermitted,
    KeyUnavailable,
)
from consent.models import Client, ClientIdentifier, ClientLink, LinkKind
from consent.schemas import IdentifierIn, IdentityIn, LinkCreate
from consent.scope import visible_client_ids
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role
from kernel.db import held, lock_key, new_id, utcnow
from kernel.settings import get_settings

__all__ = [
    "ClientLabel",
    "add_link",
    "check_identifiers_free",
    "get_client",
    "guardians_of",
    "identifiers_of",
    "identity_of",
    "keyring",
    "labels_for",
    "open_for_client",
    "readable_identity",
    "refuse",
    "register_client",
    "require_acting",
    "seal_for_client",
    "subject_of",
]

_ACTING_ROLES = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN)


def subject_of(client_id: uuid.UUID | str) -> str:
    return f"Patient/{client_id}"


def require_acting(session: Session, caller: Caller, action: str, subject: str | None) -> None:
    """Staff with a case role, or a system client (whose scopes the route checked)."""
    if caller.kind is CallerKind.CLIENT or caller.has_role(*_ACTING_ROLES):
        return
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        outcome=Outcome.DENIED,
        organisation=str(caller.organisation_id),
        subject=subject,
        detail={"refused": "role"},
    )
    raise ConsentNotPermitted("Your role does not allow working with client consents.")


def refuse(
    session: Session, caller: Caller, action: str, subject: str | None, code: str, message: str
) -> ConsentInvalid:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        outcome=Outcome.DENIED,
        organisation=str(caller.organisation_id),
        subject=subject,
        detail={"refused": code},
    )
    return ConsentInvalid(message, reason=code)


def register_client(
    session: Session,
    caller: Caller,
    *,
    identity: IdentityIn,
    identifiers: Sequence[IdentifierIn] = (),
) -> Client:
    """Register a data subject for the caller's organisation; identity encrypted at rest."""
    require_acting(session, caller, "client.register", None)
    check_identifiers_free(session, caller, identifiers)
    kek = keyring().current
    client_id = new_id()
    wrapped, sealed = vault.encrypt_identity(kek, client_id, identity.model_dump(mode="json"))
    client = Client(
        id=client_id,
        registered_by_org_id=caller.organisation_id,
        kek_id=kek.id,
        wrapped_key=wrapped,
        identity_ciphertext=sealed,
    )
    session.add(client)
    session.flush()
    for item in identifiers:
        session.add(
            ClientIdentifier(
                client_id=client_id,
                organisation_id=caller.organisation_id,
                system=item.system,
                value=item.value,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="client.register",
        organisation=str(caller.organisation_id),
        subject=subject_of(client_id),
        detail={"identifiers": len(identifiers)},
    )
    return client


def check_identifiers_free(
    session: Session, caller: Caller, identifiers: Sequence[IdentifierIn]
) -> None:
    """Refuse identifiers another client of the organisation has (or repeated in the
    request). The message names the identifier's system only: its value is client data."""
    pairs = [(item.system, item.value) for item in identifiers]
    for system, value in sorted(set(pairs)):
        lock_key(session, "client.identifier", str(caller.organisation_id), system, value)
    repeated = sorted({system for system, value in pairs if pairs.count((system, value)) > 1})
    taken = sorted(
        {
            system
            for system, value in pairs
            if session.scalars(
                select(ClientIdentifier.client_id).where(
                    ClientIdentifier.organisation_id == caller.organisation_id,
                    ClientIdentifier.system == system,
                    ClientIdentifier.value == value,
                )
            ).first()
            is not None
        }
    )
    if repeated or taken:
        systems = ", ".join(repeated or taken)
        raise ClientIdentifierTaken(
            f"Another client of your organisation already has this identifier ({systems}); "
            "find that client instead of registering them again."
            if taken
            else f"The same identifier is listed twice ({systems})."
        )


def get_client(session: Session, caller: Caller, *, client_id: uuid.UUID) -> Client:
    """The client if the caller's organisation may see it.

    Raises:
        ConsentNotFound: no such client, or not visible (audited either way).
    """
    client = session.scalars(
        select(Client).where(
            Client.id == client_id, Client.id.in_(visible_client_ids(caller, utcnow()))
        )
    ).first()
    if client is None:
        audit.record(
            session,
            actor=caller.actor,
            action="client.read",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=subject_of(client_id),
        )
        raise ConsentNotFound("No such client.")
    return client


def keyring() -> vault.Keyring:
    """The hub's keyring (current KEK and earlier ones), from the settings.

    Raises:
        KeyUnavailable: the current KEK file is missing or a key file is broken.
    """
    settings = get_settings()
    return vault.load_keyring(settings.kek_path, settings.kek_previous_path)


def identity_of(client: Client) -> dict[str, Any]:
    """The decrypted identity (name, birth_date, preferred_language, contact).

    Raises:
        ClientErased: the client's data was erased (410).
        KeyUnavailable: the KEK that wraps the client's key is not in the keyring.
    """
    if client.wrapped_key is None or client.identity_ciphertext is None:
        raise ClientErased("This client's data was erased.")
    kek = keyring().get(client.kek_id)
    return vault.decrypt_identity(kek, client.id, client.wrapped_key, client.identity_ciphertext)


def seal_for_client(session: Session, client_id: uuid.UUID, data: bytes, context: str) -> bytes:
    """Encrypt `data` under the client's data key (AES-256-GCM, `context` bound as AAD).

    Raises:
        ClientErased: the client's key was destroyed; nothing more may be stored.
        KeyUnavailable: no such client, or the KEK is missing.
    """
    client, wrapped, kek = _keyed(session, client_id)
    return vault.seal(kek, client.id, wrapped, data, context)


def open_for_client(session: Session, client_id: uuid.UUID, sealed: bytes, context: str) -> bytes:
    """Decrypt what `seal_for_client` sealed for this client and context.

    Raises:
        ClientErased: the client's key was destroyed (crypto-shredding).
        KeyUnavailable: the ciphertext does not open (wrong context, altered, or no KEK).
    """
    client, wrapped, kek = _keyed(session, client_id)
    return vault.open_sealed(kek, client.id, wrapped, sealed, context)


def _keyed(session: Session, client_id: uuid.UUID) -> tuple[Client, bytes, vault.Kek]:
    client = held(session, Client, client_id)  # a submission seals three times
    if client is None:
        raise KeyUnavailable("no data key for this client")
    if client.wrapped_key is None:
        raise ClientErased("This client's data was erased.")
    return client, client.wrapped_key, keyring().get(client.kek_id)


def identifiers_of(session: Session, client_id: uuid.UUID) -> list[ClientIdentifier]:
    return list(
        session.scalars(
            select(ClientIdentifier)
            .where(ClientIdentifier.client_id == client_id)
            .order_by(ClientIdentifier.created_at)
        )
    )


def add_link(
    session: Session, caller: Caller, *, client_id: uuid.UUID, link: LinkCreate
) -> ClientLink:
    """Link a family member or a guardian; both clients must be visible to the caller."""
    require_acting(session, caller, "client.link", subject_of(client_id))
    get_client(session, caller, client_id=client_id)
    get_client(session, caller, client_id=link.related_id)
    if link.related_id == client_id:
        raise refuse(
            session,
            caller,
            "client.link",
            subject_of(client_id),
            "self-link",
            "A client cannot be linked to themselves.",
        )
    row = ClientLink(
        client_id=client_id,
        related_id=link.related_id,
        kind=link.kind.value,
        relationship=link.relationship,
        created_by_org_id=caller.organisation_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="client.link",
        organisation=str(caller.organisation_id),
        subject=subject_of(client_id),
        detail={"related": subject_of(link.related_id), "kind": link.kind.value},
    )
    return row


def guardians_of(session: Session, client_id: uuid.UUID) -> list[ClientLink]:
    return list(
        session.scalars(
            select(ClientLink).where(
                ClientLink.client_id == client_id, ClientLink.kind == LinkKind.GUARDIAN.value
            )
        )
    )


def readable_identity(
    session: Session,
    caller: Caller,
    client: Client,
    *,
    caller_org_type: str | None,
    purpose: str = "service-coordination",
) -> dict[str, Any]:
    """The part of the identity the caller may see: all of it for the registering
    organisation; for others what the decision point permits (identity, contact)."""
    full = identity_of(client)
    if client.registered_by_org_id == caller.organisation_id:
        return full
    from_decision = decision.decide(
        session,
        caller,
        client_id=client.id,
        recipient_org_id=caller.organisation_id,
        recipient_org_type=caller_org_type,
        purpose=purpose,
        categories=(DataCategory.IDENTITY, DataCategory.CONTACT),
    )
    shown: dict[str, Any] = {}
    if DataCategory.IDENTITY in from_decision.permitted_categories:
        shown.update(name=full.get("name"), birth_date=full.get("birth_date"))
    if DataCategory.CONTACT in from_decision.permitted_categories:
        shown.update(contact=full.get("contact"), preferred_language=full.get("preferred_language"))
    return shown


@dataclass(frozen=True)
class ClientLabel:
    """How a list row names a client: the name if the caller may see it, the caller's
    organisation's own reference (its case number) if it has one."""

    name: str | None
    reference: str | None
    erased: bool = False


def labels_for(
    session: Session,
    caller: Caller,
    wanted: Mapping[uuid.UUID, str],
    *,
    caller_org_type: str | None,
) -> dict[uuid.UUID, ClientLabel]:
    """Name and reference of each client in `wanted` (client id -> purpose of the reading).

    The name follows `readable_identity`: all of it for the registering organisation, for
    others only when the decision point permits `identity` to the caller's organisation for
    that purpose now (each such decision is audited). The reference is the identifier the
    caller's organisation holds. Clients unknown here are left out.
    """
    if not wanted:
        return {}
    rows = session.scalars(select(Client).where(Client.id.in_(list(wanted))))
    references: dict[uuid.UUID, str] = {}
    for ident in session.scalars(
        select(ClientIdentifier)
        .where(
            ClientIdentifier.client_id.in_(list(wanted)),
            ClientIdentifier.organisation_id == caller.organisation_id,
        )
        .order_by(ClientIdentifier.created_at)
    ):
        references.setdefault(ident.client_id, ident.value)
    out: dict[uuid.UUID, ClientLabel] = {}
    for client in rows:
        reference = references.get(client.id)
        if client.wrapped_key is None or client.identity_ciphertext is None:
            out[client.id] = ClientLabel(None, reference, erased=True)
            continue
        try:
            shown = readable_identity(
                session, caller, client, caller_org_type=caller_org_type, purpose=wanted[client.id]
            )
        except KeyUnavailable:
            shown = {}
        name = shown.get("name")
        out[client.id] = ClientLabel(str(name) if name else None, reference)
    return out
