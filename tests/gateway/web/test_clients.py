"""Clients pages: the list and search, registration (errors at the field), a client's
record, consent capture with its check page, withdrawing with a confirmation, the
consent-page link with its code and QR code."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

import httpx
import pytest
from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients as consent_clients
from consent.models import ClientIdentifier, ConsentRecord, ConsentStatus, PageToken, Purpose
from consent.schemas import IdentifierIn, IdentityIn
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import ensure_kek, grant, permit
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

SYSTEM = "case-number"


def long_date(year: int, month: int, day: int) -> str:
    """A date as the English pages write it."""
    return format_date(dt.date(year, month, day), format="long", locale="en_GB")


def caller_of(account: Account) -> Caller:
    return Caller(
        CallerKind.USER,
        account.user.id,
        account.org.id,
        roles=frozenset(Role(r) for r in account.user.roles),
    )


def text_of(response: httpx.Response) -> str:
    """The page's text as a person reads it (tags dropped, spaces collapsed)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


@dataclass
class Desk:
    web: StaffClient
    account: Account
    caller: Caller
    db: Session

    def post(self, url: str, data: dict[str, object]) -> httpx.Response:
        return self.web.http.post(
            url, data={"csrf_token": self.web.csrf, **data}, follow_redirects=False
        )

    def register(self, name: str, born: str | None = None, ref: str | None = None) -> uuid.UUID:
        client = consent_clients.register_client(
            self.db,
            self.caller,
            identity=IdentityIn.model_validate({"name": name, "birth_date": born}),
            identifiers=[IdentifierIn(system=SYSTEM, value=ref)] if ref else [],
        )
        return client.id


@pytest.fixture
def desk(
    db: Session,
    make_org: MakeOrg,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> Desk:
    ensure_kek()
    account = make_account(make_org("Northside Resettlement"))
    return Desk(staff_client(account), account, caller_of(account), db)


def test_the_list_finds_clients_by_name_and_by_reference(desk: Desk) -> None:
    desk.register("Amal Haddad", "1988-04-02", "N-1001")
    desk.register("Olena Kovalenko", "1979-11-17", "N-2002")
    everyone = desk.web.get("/ui/clients")
    assert everyone.status_code == 200
    assert "Amal Haddad" in everyone.text
    assert "Olena Kovalenko" in everyone.text

    by_name = text_of(desk.web.get("/ui/clients", params={"q": "haddad"}))
    assert "Amal Haddad" in by_name
    assert "Olena" not in by_name
    assert "1 client found" in by_name

    by_reference = text_of(desk.web.get("/ui/clients", params={"q": "n-20"}))
    assert "Olena Kovalenko" in by_reference
    assert "Amal" not in by_reference

    by_birth = text_of(desk.web.get("/ui/clients", params={"born": "2/4/1988"}))
    assert "Amal Haddad" in by_birth
    assert long_date(1988, 4, 2) in by_birth
    assert "Olena" not in by_birth


def test_the_list_shows_only_the_organisations_clients(
    desk: Desk, make_org: MakeOrg, make_account: MakeAccount
) -> None:
    elsewhere = make_account(make_org("Elsewhere"))
    consent_clients.register_client(
        desk.db, caller_of(elsewhere), identity=IdentityIn(name="Someone Else")
    )
    desk.register("Amal Haddad")
    everyone = desk.web.get("/ui/clients")
    assert "Amal Haddad" in everyone.text
    assert "Someone Else" not in everyone.text
    searched = text_of(desk.web.get("/ui/clients", params={"q": "someone"}))
    assert "Someone Else" not in searched
    assert "0 clients found" in searched


def test_a_bad_birth_date_is_shown_at_the_field(desk: Desk) -> None:
    page = desk.web.get("/ui/clients", params={"born": "31/2/1990"})
    assert page.status_code == 200
    assert 'href="#born"' in page.text  # the error summary links to the field
    assert 'id="born-error"' in page.text
    assert 'value="31/2/1990"' in page.text


def test_registering_a_client_opens_their_record(desk: Desk) -> None:
    answer = desk.post(
        "/ui/clients/new",
        {
            "name": "Amal Haddad",
            "birth_date": "2/4/1988",
            "preferred_language": "ar",
            "contact": "+61 400 000 000",
            "identifier-0-system": SYSTEM,
            "identifier-0-value": "N-1001",
        },
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.endswith("?done=registered")
    record = text_of(desk.web.get(location))
    assert "Client registered" in record
    assert "Amal Haddad" in record
    assert "N-1001" in record
    assert long_date(1988, 4, 2) in record
    assert "Arabic" in record
    assert "No consent recorded yet" in record
    assert "/ui/referrals/new?client=" in desk.web.get(location).text


def test_registration_errors_are_shown_at_the_fields_with_the_input_kept(desk: Desk) -> None:
    page = desk.post(
        "/ui/clients/new",
        {"name": "", "birth_date": "someday", "contact": "0400", "identifier-0-value": "N-9"},
    )
    assert page.status_code == 422
    assert 'id="name-error"' in page.text
    assert 'id="birth_date-error"' in page.text
    assert 'id="identifier-0-system-error"' in page.text
    assert 'value="someday"' in page.text
    assert 'value="0400"' in page.text


def test_a_reference_already_taken_is_shown_at_the_field_with_a_search_link(desk: Desk) -> None:
    desk.register("Amal Haddad", ref="N-1001")
    page = desk.post(
        "/ui/clients/new",
        {"name": "Amal H.", "identifier-0-system": SYSTEM, "identifier-0-value": "N-1001"},
    )
    assert page.status_code == 409
    assert 'id="identifier-0-value-error"' in page.text
    assert "already has this reference" in page.text
    assert 'href="/ui/clients?q=N-1001"' in page.text
    assert 'value="Amal H."' in page.text
    taken = desk.db.scalars(
        select(ClientIdentifier).where(
            ClientIdentifier.value == "N-1001",
            ClientIdentifier.organisation_id == desk.account.org.id,
        )
    ).all()
    assert len(taken) == 1  # the other organisations' clients (browser tests) aside


def test_a_client_of_another_organisation_is_not_found(
    desk: Desk, make_org: MakeOrg, make_account: MakeAccount
) -> None:
    elsewhere = make_account(make_org("Elsewhere"))
    other = consent_clients.register_client(
        desk.db, caller_of(elsewhere), identity=IdentityIn(name="Someone Else")
    )
    for url in (
        f"/ui/clients/{other.id}",
        f"/ui/clients/{other.id}/consents/new",
        f"/ui/clients/{other.id}/link",
        "/ui/clients/not-an-id",
    ):
        page = desk.web.get(url)
        assert page.status_code == 404, url
        assert "Someone Else" not in page.text
        assert "Page not found" in page.text


def consent_form(receiver: uuid.UUID, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "recipient": f"org:{receiver}",
        "categories": ["identity", "needs"],
        "purposes": ["referral"],
        "period_end": "3/3/2027",
        "grantor": "self",
        "method": "written",
        "witness": "",
        "language": "en",
    }
    values.update(changes)
    return values


def test_the_check_page_says_the_consent_in_plain_words_before_saving(
    desk: Desk, make_org: MakeOrg
) -> None:
    harbour = make_org("Harbour")
    client_id = desk.register("Amal Haddad")
    form = desk.web.get(f"/ui/clients/{client_id}/consents/new")
    assert form.status_code == 200
    assert "Harbour" in form.text
    assert "Any organisation of a kind" in form.text

    check = desk.post(f"/ui/clients/{client_id}/consents/new", consent_form(harbour.id))
    assert check.status_code == 200
    assert (
        "Northside Resettlement may send Harbour your identity and needs, "
        f"for referrals, until {long_date(2027, 3, 3)}."
    ) in text_of(check)
    assert "Save consent" in check.text
    nothing_yet = desk.db.scalars(
        select(ConsentRecord).where(ConsentRecord.client_id == client_id)
    ).all()
    assert nothing_yet == []

    saved = desk.post(f"/ui/clients/{client_id}/consents", consent_form(harbour.id))
    assert saved.status_code == 303
    record = text_of(desk.web.get(saved.headers["location"]))
    assert "Consent recorded" in record
    assert "In force" in record
    assert "may send Harbour your identity and needs" in record
    stored = desk.db.scalars(
        select(ConsentRecord).where(ConsentRecord.client_id == client_id)
    ).one()
    assert stored.period_end is not None
    assert stored.period_end.date() == dt.date(2027, 3, 3)


def test_an_organisation_type_and_no_end_date_are_worded_too(desk: Desk) -> None:
    client_id = desk.register("Amal Haddad")
    check = desk.post(
        f"/ui/clients/{client_id}/consents/new",
        consent_form(
            uuid.uuid4(),
            recipient="type:child_protection",
            categories=["protection"],
            purposes=["referral", "follow-up"],
            period_end="",
        ),
    )
    assert (
        "may send any child protection service your safety concerns, "
        "for referrals and follow-up, until you withdraw your consent."
    ) in text_of(check)


def test_consent_form_problems_are_shown_at_the_fields(desk: Desk, make_org: MakeOrg) -> None:
    harbour = make_org("Harbour")
    client_id = desk.register("Amal Haddad")
    url = f"/ui/clients/{client_id}/consents/new"
    empty = desk.post(url, consent_form(harbour.id, recipient="", method=""))
    assert empty.status_code == 422
    assert 'id="method-error"' in empty.text

    no_purpose = desk.post(url, consent_form(harbour.id, purposes=[]))
    assert 'id="purposes-error"' in no_purpose.text
    assert "Choose at least one purpose" in no_purpose.text
    assert re.search(r'value="identity"[^>]* checked', no_purpose.text)  # the input is kept

    verbal = desk.post(url, consent_form(harbour.id, method="verbal"))
    assert 'id="witness-error"' in verbal.text

    past = desk.post(url, consent_form(harbour.id, period_end="1/1/2020"))
    assert 'id="period_end-error"' in past.text


def test_change_on_the_check_page_goes_back_to_the_form_with_the_answers(
    desk: Desk, make_org: MakeOrg
) -> None:
    harbour = make_org("Harbour")
    client_id = desk.register("Amal Haddad")
    back = desk.post(
        f"/ui/clients/{client_id}/consents/new", {**consent_form(harbour.id), "action": "change"}
    )
    assert back.status_code == 200
    assert "Record consent" in back.text
    assert f'value="org:{harbour.id}" selected' in back.text
    assert 'value="3/3/2027"' in back.text


def test_withdrawing_asks_first_then_ends_the_consent(desk: Desk, make_org: MakeOrg) -> None:
    harbour = make_org("Harbour")
    client_id = desk.register("Amal Haddad")
    client = consent_clients.get_client(desk.db, desk.caller, client_id=client_id)
    record = grant(desk.db, desk.caller, client, permit(org=harbour.id))
    url = f"/ui/clients/{client_id}/consents/{record.series_id}/revoke"
    assert url in desk.web.get(f"/ui/clients/{client_id}").text

    ask = desk.web.get(url)
    assert ask.status_code == 200
    assert "Withdraw this consent?" in ask.text
    assert "may send Harbour" in text_of(ask)
    assert "button--warning" in ask.text
    assert desk.db.scalars(
        select(ConsentRecord.status).where(ConsentRecord.series_id == record.series_id)
    ).all() == [ConsentStatus.ACTIVE.value]  # asking changed nothing

    done = desk.post(url, {"reason": "client-instruction"})
    assert done.status_code == 303
    page = text_of(desk.web.get(done.headers["location"]))
    assert "Consent withdrawn" in page
    assert "Withdrawn" in page
    latest = desk.db.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.series_id == record.series_id)
        .order_by(ConsentRecord.version.desc())
    ).first()
    assert latest is not None
    assert latest.status == ConsentStatus.INACTIVE.value

    again = desk.post(url, {"reason": "client-instruction"})
    assert again.status_code == 422
    assert "no longer in force" in again.text


def test_the_link_page_shows_the_code_and_a_qr_code_once(desk: Desk) -> None:
    client_id = desk.register("Amal Haddad", "1988-04-02")
    form = desk.web.get(f"/ui/clients/{client_id}/link")
    assert form.status_code == 200
    assert "How will the client prove it is them?" in form.text

    issued = desk.post(
        f"/ui/clients/{client_id}/link",
        {"second_check": "code", "language": "en", "valid_minutes": "1440"},
    )
    assert issued.status_code == 200
    code = re.search(r'<p class="secret"[^>]*>(\d{6})</p>', issued.text)
    assert code is not None
    url = re.search(r'href="(http[^"]+/consent/page/open\?token=[^"]+)"', issued.text)
    assert url is not None
    assert '<svg role="img"' in issued.text  # the QR code, inline (the CSP blocks data: URLs)
    assert "data:" not in issued.text
    assert "<title>QR code of the client&#39;s consent-page link</title>" in issued.text or (
        "<title>QR code of the client's consent-page link</title>" in issued.text
    )
    tokens = desk.db.scalars(select(PageToken).where(PageToken.client_id == client_id)).all()
    assert len(tokens) == 1
    assert tokens[0].token_hash not in issued.text


def test_a_birth_date_check_needs_a_birth_date(desk: Desk) -> None:
    client_id = desk.register("Amal Haddad")
    page = desk.post(
        f"/ui/clients/{client_id}/link",
        {"second_check": "birth-date", "language": "en", "valid_minutes": "60"},
    )
    assert page.status_code == 422
    assert 'id="second_check-error"' in page.text
    assert "give them a code instead" in page.text


def test_a_client_record_shows_referrals_case_and_documents_sections(
    desk: Desk, make_org: MakeOrg
) -> None:
    harbour = make_org("Harbour")
    client_id = desk.register("Amal Haddad")
    client = consent_clients.get_client(desk.db, desk.caller, client_id=client_id)
    grant(
        desk.db,
        desk.caller,
        client,
        permit(org=harbour.id, purposes=[Purpose.REFERRAL], categories=[DataCategory.IDENTITY]),
    )
    page = text_of(desk.web.get(f"/ui/clients/{client_id}"))
    assert "Referrals and handovers" in page
    assert "No referrals or handovers for this client yet." in page
    assert "Case at your organisation" in page
    assert "Documents" in page
    assert "Record consent" in page
    assert "Give the client their consent-page link" in page


def test_a_form_without_the_csrf_token_changes_nothing(desk: Desk) -> None:
    answer = desk.web.http.post(
        "/ui/clients/new", data={"name": "Amal Haddad"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert "expired" in answer.headers["location"]


def test_a_hub_admin_without_a_case_role_is_told_so(
    make_org: MakeOrg,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    admin = staff_client(make_account(make_org("Hub"), roles=(Role.HUB_ADMIN,)))
    page = admin.get("/ui/clients")
    assert page.status_code == 403
    assert "You cannot do this" in page.text


def test_a_client_seen_through_consent_shows_what_the_consent_permits(
    desk: Desk, make_org: MakeOrg, make_account: MakeAccount
) -> None:
    sender = make_account(make_org("Harbour"))
    theirs = consent_clients.register_client(
        desk.db,
        caller_of(sender),
        identity=IdentityIn.model_validate({"name": "Samir Haddad", "contact": "+351 1"}),
    )
    grant(
        desk.db,
        caller_of(sender),
        theirs,
        permit(
            org=desk.account.org.id,
            purposes=[Purpose.SERVICE_COORDINATION],
            categories=[DataCategory.IDENTITY],
        ),
    )
    page = text_of(desk.web.get(f"/ui/clients/{theirs.id}"))
    assert "Samir Haddad" in page
    assert "Harbour registered this client" in page
    assert "+351 1" not in page  # contact details were not part of the consent
