"""The documents about a client that the caller may read, with their titles."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from consent.errors import ConsentNotFound
from gateway.documents import service
from tests.consent.factories import make_client, staff
from tests.gateway.documents import PDF


def test_documents_of_a_client_newest_first_only_what_the_caller_reads(db: Session) -> None:
    worker, other = staff(), staff()
    client, elsewhere = make_client(db, worker), make_client(db, worker)
    for title, about in (("Passport", client), ("Lease", client), ("Other", elsewhere)):
        service.store(
            db,
            worker,
            client_id=about.id,
            referral_id=None,
            title=title,
            content_type="application/pdf",
            data=PDF,
        )
    shown = service.documents_of(db, worker, client_id=client.id)
    assert sorted(v.title for v in shown) == ["Lease", "Passport"]
    assert shown[0].document.created_at >= shown[1].document.created_at
    with pytest.raises(ConsentNotFound):
        service.documents_of(db, other, client_id=client.id)
