"""Browser tests of the staff web application: the real app under uvicorn on the run's
database, Debian's chromium driven by Playwright (never a downloaded browser), axe-core
from npm (`tests/web/node_modules`, installed by `make test`).

`look(page, name)` is what every test calls on each main screen: at 1280 px and at 360 px
it runs axe-core (no violations allowed), checks that nothing scrolls sideways, and writes
a screenshot to `docs/ui/screens/<name>-<width>.png` (referenced from docs/ui.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth.models import Organisation, OrgStatus, OrgType, User
from gateway.runtime import Runtime
from kernel.caller import Role
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.serving import serve

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = ROOT / "docs" / "ui" / "screens"
PASSWORD = "a long enough passphrase 2026"
WIDTHS = (1280, 360)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The browser tests' Chromium. Playwright's sync API keeps an event loop running in
    this thread while it lives, so it starts with the first browser test (this folder
    runs last) and is never shared with tests of other folders."""
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Make a browser context of its own per person (closed after the test). CSP is
    bypassed because `look()` injects axe-core as an inline script."""
    assert AXE.exists(), f"axe-core is missing: run `npm ci --prefix tests/web` ({AXE})"
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        made.append(browser.new_context(bypass_csp=True))
        return made[-1]

    yield make
    for context in made:
        context.close()


@pytest.fixture
def hub(committed: Runtime) -> Iterator[str]:
    """The hub's base URL (the app served on the run's database, data committed)."""
    with serve(committed) as url:
        yield url


@dataclass
class Person:
    """A staff account a test signs in with through the pages."""

    email: str
    password: str
    totp_secret: str
    org_id: uuid.UUID
    org_name: str


def make_org(session: Session, name: str, org_type: OrgType) -> Organisation:
    org = Organisation(
        name=f"{name} {uuid.uuid4().hex[:6]}",
        org_type=org_type,
        status=OrgStatus.ACTIVE,
        contact_email=f"office-{uuid.uuid4().hex[:6]}@example.org",
    )
    session.add(org)
    session.flush()
    return org


def make_person(
    session: Session, org: Organisation, display_name: str, roles: tuple[Role, ...]
) -> Person:
    secret = credentials.new_totp_secret()
    user = User(
        organisation_id=org.id,
        email=f"{display_name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.org",
        display_name=display_name,
        roles=[r.value for r in roles],
        password_hash=credentials.hash_password(PASSWORD),
        totp_secret=secret,
        totp_enabled=True,
    )
    session.add(user)
    session.flush()
    return Person(user.email, PASSWORD, secret, org.id, org.name)


def sign_in(context: BrowserContext, hub: str, person: Person) -> Page:
    """Sign in through the pages, as a person would (password, then authenticator code)."""
    page = context.new_page()
    page.goto(f"{hub}/ui/login")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Authenticator code").fill(credentials.totp_code(person.totp_secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{hub}/ui/")
    return page


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
    ]


#: A page's HTML stays under this on slow connections (the stylesheet is cached apart).
MAX_PAGE_BYTES = 100_000


def look(page: Page, name: str) -> None:
    """Accessible and without sideways scrolling at 1280 and 360 px, under 100 KB of
    HTML; screenshots written."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    size = len(page.content().encode())
    assert size < MAX_PAGE_BYTES, f"{name} is {size} bytes of HTML"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], (name, width)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def people(committed: Runtime) -> Callable[..., Person]:
    """Make a staff member of a new (or given) organisation, committed."""

    def make(
        display_name: str,
        org_name: str = "Northside Resettlement",
        org_type: OrgType = OrgType.RESETTLEMENT_NGO,
        roles: tuple[Role, ...] = (Role.CASE_WORKER,),
        org_id: uuid.UUID | None = None,
    ) -> Person:
        with committed.sessions.begin() as session:
            org = session.get(Organisation, org_id) if org_id else None
            org = org or make_org(session, org_name, org_type)
            return make_person(session, org, display_name, roles)

    return make
