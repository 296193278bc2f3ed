"""Finding an organisation's clients: by name (decrypted), by reference (SQL), by birth date;
only the organisation's own clients; one audit record per search, without the criteria."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.orm import Session

from consent import clients, erasure
from consent.client_search import ClientMatch, search_clients
from consent.errors import ConsentNotPermitted
from consent.models import ErasureBasis
from consent.schemas import IdentifierIn, IdentityIn
from kernel import audit
from kernel.caller import Caller, Role
from tests.consent.factories import grant, permit, staff


def register(
    db: Session, caller: Caller, name: str, born: str | None = None, ref: str | None = None
) -> uuid.UUID:
    client = clients.register_client(
        db,
        caller,
        identity=IdentityIn.model_validate({"name": name, "birth_date": born}),
        identifiers=[IdentifierIn(system="case-number", value=ref)] if ref else [],
    )
    return client.id


def names(found: list[ClientMatch]) -> list[str]:
    return [m.identity["name"] for m in found]


def test_by_name_ignoring_case_and_accents_and_word_order(db: Session) -> None:
    worker = staff()
    register(db, worker, "Zoë Müller", "1990-01-01")
    register(db, worker, "Amal Haddad", "1988-04-02")
    assert names(search_clients(db, worker, text="zoe")[0]) == ["Zoë Müller"]
    assert names(search_clients(db, worker, text="MULLER zo")[0]) == ["Zoë Müller"]
    assert search_clients(db, worker, text="nobody") == ([], 0)


def test_by_reference_prefix_in_sql_and_by_birth_date(db: Session) -> None:
    worker = staff()
    amal = register(db, worker, "Amal Haddad", "1988-04-02", "N-1001")
    register(db, worker, "Olena Kovalenko", "1979-11-17", "N-2002")
    found, total = search_clients(db, worker, text="n-10")
    assert total == 1
    assert found[0].client.id == amal
    assert [i.value for i in found[0].identifiers] == ["N-1001"]
    assert search_clients(db, worker, text="%")[1] == 0  # LIKE wildcards are literal
    born = search_clients(db, worker, birth_date=dt.date(1979, 11, 17))[0]
    assert names(born) == ["Olena Kovalenko"]
    both = search_clients(db, worker, text="amal", birth_date=dt.date(1979, 11, 17))
    assert both == ([], 0)


def test_only_the_organisations_own_clients(db: Session) -> None:
    worker, other = staff(), staff()
    register(db, worker, "Amal Haddad")
    theirs = clients.get_client(db, other, client_id=register(db, other, "Amal Other"))
    grant(db, other, theirs, permit(org=worker.organisation_id))  # visible to us by consent
    assert names(search_clients(db, worker, text="amal")[0]) == ["Amal Haddad"]
    assert names(search_clients(db, worker)[0]) == ["Amal Haddad"]


def test_without_criteria_newest_first_and_paged(db: Session) -> None:
    worker = staff()
    for n in range(5):
        register(db, worker, f"Client {n}")
    page, total = search_clients(db, worker, offset=1, limit=2)
    assert total == 5
    assert len(page) == 2
    searched, total = search_clients(db, worker, text="client", offset=3, limit=10)
    assert total == 5
    assert names(searched) == ["Client 3", "Client 4"]  # by name when searching


def test_erased_clients_are_left_out(db: Session) -> None:
    worker = staff()
    gone = register(db, worker, "Amal Haddad")
    register(db, worker, "Amal Stays")
    erasure.erase_client(
        db,
        actor=worker.actor,
        organisation_id=worker.organisation_id,
        client_id=gone,
        basis=ErasureBasis.DATA_SUBJECT_REQUEST,
        reason="the client asked for erasure",
    )
    assert names(search_clients(db, worker, text="amal")[0]) == ["Amal Stays"]
    assert search_clients(db, worker)[1] == 1


def test_one_audit_record_per_search_without_the_criteria(db: Session) -> None:
    worker = staff()
    register(db, worker, "Amal Haddad")
    search_clients(db, worker, text="Haddad")
    pending = db.info[audit._PENDING_KEY]
    searches = [p for p in pending if p.action == "client.search"]
    assert len(searches) == 1
    assert searches[0].detail == {"results": 1, "shown": 1}
    assert "Haddad" not in str(searches[0].detail)


def test_a_hub_admin_without_a_case_role_may_not_search(db: Session) -> None:
    with pytest.raises(ConsentNotPermitted):
        search_clients(db, staff(None, Role.HUB_ADMIN), text="amal")
