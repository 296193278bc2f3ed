"""The consent rules as a form asks them (`draft_problem`), and a refusal naming its rule."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.orm import Session

from consent import service
from consent.errors import ConsentInvalid
from consent.models import GrantMethod
from kernel.db import utcnow
from tests.consent.factories import draft, make_client, permit, staff


def test_a_good_draft_has_no_problem() -> None:
    org = uuid.uuid4()
    assert (
        service.draft_problem(draft(permit(org=org)), client_id=uuid.uuid4(), now=utcnow()) is None
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"grantor": None}, "grantor-missing"),
        ({"method": GrantMethod.VERBAL}, "witness-missing"),
        ({"provisions": []}, "provision-missing"),
    ],
)
def test_each_broken_rule_is_named(changes: dict[str, object], code: str) -> None:
    values = draft(permit(org=uuid.uuid4())).model_copy(update=changes)
    problem = service.draft_problem(values, client_id=uuid.uuid4(), now=utcnow())
    assert problem is not None
    assert problem[0] == code


def test_a_permit_without_purposes_or_categories_is_named() -> None:
    no_purpose = draft(permit(org=uuid.uuid4(), purposes=()))
    assert service.draft_problem(no_purpose, client_id=uuid.uuid4(), now=utcnow())[0] == (  # type: ignore[index]
        "purpose-missing"
    )
    ended = draft(permit(org=uuid.uuid4()), days=None)
    ended = ended.model_copy(update={"period_end": utcnow() - dt.timedelta(days=1)})
    assert service.draft_problem(ended, client_id=uuid.uuid4(), now=utcnow())[0] == (  # type: ignore[index]
        "period-order"
    )


def test_the_service_refusal_carries_the_rule(db: Session) -> None:
    worker = staff()
    client = make_client(db, worker)
    verbal = draft(permit(org=uuid.uuid4()), method=GrantMethod.VERBAL)
    with pytest.raises(ConsentInvalid) as refused:
        service.create_consent(db, worker, client_id=client.id, draft=verbal)
    assert refused.value.reason == "witness-missing"
    assert refused.value.detail == "A verbal consent needs a witness."
