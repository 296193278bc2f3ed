"""Client labels on list rows: the name as consent lets the reader see it, their reference."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients
from consent.models import ClientIdentifier, Purpose
from tests.consent.factories import grant, make_client, permit, staff


def test_labels_follow_consent_and_show_the_readers_own_reference(db: Session) -> None:
    sender = staff()
    receiver = staff()
    stranger = staff()
    named = make_client(db, sender, name="Amal Haddad")
    grant(
        db,
        sender,
        named,
        permit(
            org=receiver.organisation_id,
            purposes=(Purpose.REFERRAL,),
            categories=(DataCategory.IDENTITY, DataCategory.NEEDS),
        ),
    )
    hidden = make_client(db, sender, name="Omar Said")
    grant(
        db,
        sender,
        hidden,
        permit(org=receiver.organisation_id, categories=(DataCategory.NEEDS,)),
    )
    db.add(
        ClientIdentifier(
            client_id=named.id,
            organisation_id=sender.organisation_id,
            system="urn:case",
            value="HR-0042",
        )
    )
    db.flush()
    wanted = {named.id: "referral", hidden.id: "referral", uuid.uuid4(): "referral"}

    own = clients.labels_for(db, sender, wanted, caller_org_type=None)
    assert own[named.id] == clients.ClientLabel("Amal Haddad", "HR-0042")
    assert own[hidden.id].name == "Omar Said" and len(own) == 2

    theirs = clients.labels_for(db, receiver, wanted, caller_org_type=None)
    assert theirs[named.id] == clients.ClientLabel("Amal Haddad", None)  # not their reference
    assert theirs[hidden.id].name is None  # identity was not consented to
    assert clients.labels_for(db, stranger, wanted, caller_org_type=None)[named.id].name is None
    assert clients.labels_for(db, receiver, {}, caller_org_type=None) == {}
