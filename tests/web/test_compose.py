"""A case worker composes a referral in the browser: the task list, the case summary form,
the review of what is shared and withheld, and the confirmation."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from gateway.runtime import Runtime
from tests.web.conftest import Person, look, sign_in
from tests.web.referring import fill_summary, network, send, start


def test_compose_and_send_a_referral(
    new_context: Callable[[], BrowserContext],
    hub: str,
    committed: Runtime,
    people: Callable[..., Person],
) -> None:
    sender = people("Maria Lopez")
    net = network(committed, sender)
    page = sign_in(new_context(), hub, sender)

    start(page, hub, net.client_id, net.services[0].service_id, "referral")
    look(page, "compose-tasks")

    fill_summary(page, birth="1989-13")
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    look(page, "compose-summary")
    page.get_by_role("group", name="Family member 1").get_by_label("Birth date").fill("1989")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("link", name="Check your answers").click()
    expect(page.get_by_text("Contact: withheld, not sent")).to_be_visible()
    look(page, "compose-review")
    send(page, "referral")
    look(page, "compose-sent")
