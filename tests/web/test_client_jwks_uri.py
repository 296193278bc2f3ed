"""An org admin registers a system client by the address (URL) where the system publishes
its public keys; the system then gets a token with a key the hub fetched from there, and
the client's page says where its keys come from and how rotation works."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey
from playwright.sync_api import BrowserContext, expect

from kernel.caller import Role
from tests.gateway.auth.factories import sign_assertion, token_form
from tests.web.conftest import Person, look, sign_in

KEY = ECKey.generate_key("P-384")
JWKS = json.dumps({"keys": [{**KEY.as_dict(private=False), "kid": "eastside-2026"}]}).encode()


class _Keys(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/jwk-set+json")
        self.send_header("Content-Length", str(len(JWKS)))
        self.end_headers()
        self.wfile.write(JWKS)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def jwks_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def test_an_org_admin_registers_a_system_client_by_jwks_url(
    new_context: Callable[[], BrowserContext],
    hub: str,
    people: Callable[..., Person],
    jwks_url: str,
) -> None:
    admin = people("Layla Haddad", org_name="Eastside Family Services", roles=(Role.ORG_ADMIN,))
    page = sign_in(new_context(), hub, admin)
    page.goto(f"{hub}/ui/admin/clients/new")
    page.get_by_label("Name of the system").fill("Case manager (production)")
    page.get_by_label("Follow and answer referrals").check()
    page.get_by_label("The hub fetches them from an address (URL)").check()
    address = page.get_by_label("Address of the public keys (JWKS URL)")
    address.fill(jwks_url)
    look(page, "client-jwks-uri-form")
    address.fill("http://cms.eastside.example/.well-known/jwks.json")
    page.get_by_role("button", name="Register the system client").click()
    expect(page.get_by_role("alert")).to_contain_text("must use https")
    expect(page.get_by_label("The hub fetches them from an address (URL)")).to_be_checked()
    page.get_by_label("Address of the public keys (JWKS URL)").fill(jwks_url)
    page.get_by_role("button", name="Register the system client").click()
    expect(page.get_by_role("status")).to_contain_text("The system client is registered")
    expect(page.get_by_text(jwks_url, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Keys and rotation")).to_be_visible()
    expect(page.get_by_role("button", name="Add the key")).to_have_count(0)

    # What the page tells the agency's system: its client id and the token endpoint (aud).
    client_id = page.locator("dd code").nth(0).inner_text()
    audience = page.locator("dd code").nth(1).inner_text()
    assertion = sign_assertion(client_id, KEY, audience, kid="eastside-2026", alg="ES384")
    answer = httpx.post(f"{hub}/auth/token", data=token_form(assertion))
    assert answer.status_code == 200, answer.text
    page.reload()
    expect(page.get_by_text("Never: the system has not connected yet.")).to_have_count(0)
    look(page, "client-jwks-uri")
