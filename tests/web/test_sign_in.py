"""The pages every person meets first, in the browser: signing in (password, then the
authenticator code, with a wrong code said at its field), an unknown page, and the home
page in Arabic, right to left. Each passes look()."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from gateway.auth import credentials
from tests.web.conftest import Person, look


def test_sign_in_a_wrong_code_an_unknown_page_and_arabic(
    new_context: Callable[[], BrowserContext], hub: str, people: Callable[..., Person]
) -> None:
    person = people("Noor Rahimi")
    page = new_context().new_page()
    page.goto(f"{hub}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to refhub")  # / leads here
    look(page, "sign-in")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_be_visible()  # said at the field, nothing else
    look(page, "sign-in-code")
    page.get_by_label("Authenticator code").fill(credentials.totp_code(person.totp_secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{hub}/ui/")

    page.goto(f"{hub}/ui/no-such-page")
    expect(page.get_by_role("link", name="Home")).to_be_visible()  # an HTML page, not JSON
    look(page, "not-found")

    page.goto(f"{hub}/ui/")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    look(page, "home-arabic")
