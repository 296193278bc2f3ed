"""The client consent page in a real browser (Debian chromium via Playwright), in Arabic.

The app runs under uvicorn on a free port against the run's database; the data it needs
is committed first. Checks: right-to-left page, token exchanged for a cookie and gone
from the address bar, empty disclosure list, one-action revocation with its receipt, the
very next decision denies, and a reused or expired link is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from adapters import DataCategory
from consent import decision, page_access
from consent.models import PageToken, Purpose
from gateway.runtime import Runtime
from kernel.caller import Role
from kernel.db import utcnow
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.consent.factories import grant, make_client, permit, staff
from tests.serving import serve


@pytest.fixture
def served(committed: Runtime) -> Iterator[str]:
    with serve(committed) as url:
        yield url


def test_arabic_consent_page_revokes_and_refuses_reuse(committed: Runtime, served: str) -> None:
    sessions = committed.sessions
    worker = staff(uuid.uuid4(), Role.CASE_WORKER)
    harbour = uuid.uuid4()
    with sessions.begin() as session:
        client = make_client(session, worker, language="ar")
        record = grant(session, worker, client, permit(org=harbour))
        link = page_access.issue_link(
            session, worker, client_id=client.id, base_url=served,
            language=None, second_check="code", valid_minutes=30,
        )  # fmt: skip
        stale = page_access.issue_link(
            session, worker, client_id=client.id, base_url=served,
            language=None, second_check="birth-date", valid_minutes=30,
        )  # fmt: skip
        client_id, series = client.id, record.series_id
    assert link.code is not None

    def permitted() -> bool:
        with sessions.begin() as session:
            return decision.decide(
                session, worker, client_id=client_id, recipient_org_id=harbour,
                recipient_org_type=None, purpose=Purpose.REFERRAL,
                categories=[DataCategory.IDENTITY],
            ).permit  # fmt: skip

    assert permitted()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(link.url)
            assert page.get_attribute("html", "dir") == "rtl"
            assert page.get_attribute("html", "lang") == "ar"
            page.fill("#check", link.code)
            page.click("#continue")
            page.wait_for_selector(f"#consent-{series}")
            assert "token" not in page.url
            assert page.url.startswith(f"{served}/consent/page")
            assert page.get_attribute("html", "dir") == "rtl"
            assert "خيارات موافقتك" in page.content()
            assert page.is_visible("#no-disclosures")
            page.click(f"#consent-{series} button.revoke")
            page.wait_for_selector("#receipt-summary")
            assert "سحبت هذه الموافقة" in page.inner_text("#receipt-summary")
            assert not permitted()  # the very next decision

            again = browser.new_page()
            again.goto(link.url)
            again.fill("#check", link.code)
            again.click("#continue")
            again.wait_for_selector("#message-title")
            assert again.inner_text("#message-title") == "لا يمكن استخدام هذا الرابط"

            with sessions.begin() as session:
                row = (
                    session.query(PageToken)
                    .filter_by(
                        token_hash=__import__("hashlib").sha256(stale.token.encode()).hexdigest()
                    )
                    .one()
                )
                row.expires_at = utcnow() - dt.timedelta(seconds=1)
            late = browser.new_page()
            late.goto(stale.url)
            late.fill("#check", "1988-04-02")
            late.click("#continue")
            late.wait_for_selector("#message-title")
            assert late.inner_text("#message-title") == "لا يمكن استخدام هذا الرابط"
        finally:
            browser.close()
