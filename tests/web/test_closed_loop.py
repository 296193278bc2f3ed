"""The closed loop in the browser, two people of two organisations each in a browser of
their own: a sender's case worker composes and sends; the receiver's intake worker finds
it, reads it, asks, answers, and reports back; the sender sees every step in words.
Declining and re-sending elsewhere, and a handover through to closing the case."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from gateway.runtime import Runtime
from tests.web.conftest import Person, look, sign_in
from tests.web.referring import CLIENT, NEED, Network, compose, fill_summary, listed, network, send


@dataclass
class Pair:
    """The two people at their browsers, and what the sender may send to."""

    hub: str
    net: Network | None
    sender: Page
    receiver: Page


@pytest.fixture
def pair(
    new_context: Callable[[], BrowserContext],
    hub: str,
    committed: Runtime,
    people: Callable[..., Person],
) -> Callable[..., Pair]:
    """Maria, a case worker at a resettlement NGO, and Rania, intake worker at the first
    listed service, each signed in in a browser of their own."""

    def make(*names: str) -> Pair:
        maria = people("Maria Lopez")
        net = network(committed, maria, names or ("Safe Harbour Counselling",))
        rania = people("Rania Saleh", org_id=net.services[0].org_id)
        return Pair(
            hub,
            net,
            sign_in(new_context(), hub, maria),
            sign_in(new_context(), hub, rania),
        )

    return make


def _list(page: Page, box: str) -> None:
    """The inbox or the outbox, from the navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=box).click()
    expect(page.get_by_role("heading", name=box, exact=True)).to_be_visible()


def _open_client(page: Page) -> None:
    """The client's (latest) referral from the list."""
    page.get_by_role("table").get_by_role("link", name=CLIENT, exact=True).first.click()
    expect(page.get_by_role("heading", name=CLIENT, level=1)).to_be_visible()


def _open_from(page: Page, box: str) -> None:
    _list(page, box)
    _open_client(page)


def _press(page: Page, button: str, done: str = "Status changed.") -> None:
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("status")).to_contain_text(done)


def _record_consent(page: Page, recipient: str, categories: tuple[str, ...]) -> None:
    """From the client's record: a consent the client gives there and then, verbally."""
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Who may receive the information?").select_option(label=recipient)
    for category in categories:
        page.get_by_label(category, exact=True).check()
    page.get_by_label("Referral", exact=True).check()
    page.get_by_label("The client", exact=True).check()
    page.get_by_label("Verbally, with a witness").check()
    page.get_by_label("Witness (needed for verbal consent)").fill("Rami Aziz, interpreter")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Save consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent recorded")


def _register_with_consent(page: Page, sender: str, receiver: str) -> None:
    """Clients: register the client, then record her consent to share her identity,
    family, needs and case notes with `receiver`, and to let its answers come back."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Register a new client").click()
    page.get_by_label("Full name").fill(CLIENT)
    page.get_by_label("Date of birth (optional)").fill("2/4/1988")
    page.get_by_label("Preferred language").select_option("ar")
    page.get_by_role("button", name="Register client").click()
    expect(page.get_by_role("status")).to_contain_text("Client registered")
    _record_consent(page, receiver, ("Identity", "Family", "Needs and assessment", "Case notes"))
    answers = f"{sender} (yours: to receive the other side's answers)"
    _record_consent(page, answers, ("Case notes",))


def _find_and_refer(page: Page, receiver: str) -> None:
    """Find a service by need and language, open the receiver's, start a referral there
    for the client, and send it after checking what goes."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a service").click()
    page.get_by_label("What does the client need?").select_option(label="Housing")
    page.get_by_label("Language the client speaks").select_option(label="English")
    page.get_by_role("button", name="Search services").click()
    found = page.locator(".result").filter(has_text=receiver)
    expect(found).to_contain_text("Works in English")
    found.get_by_role("link", name="Trauma counselling").click()
    page.get_by_role("link", name="Refer a client to this service").click()
    page.get_by_label("A referral").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Client", exact=True).click()
    page.get_by_label("Search your organisation's clients").fill("Haddad")
    page.get_by_role("button", name="Search clients").click()
    page.get_by_label(re.compile(CLIENT)).check()
    page.get_by_role("button", name="Choose this client").click()
    page.get_by_role("link", name="Client's consent").click()
    page.locator("label.choice").filter(has_text=receiver).get_by_role("radio").check()
    page.get_by_role("button", name="Save and continue").click()
    fill_summary(page)
    page.get_by_role("link", name="Check your answers").click()
    expect(page.get_by_role("heading", name=f"What {receiver} will see")).to_be_visible()
    expect(page.locator(".receiver-view")).to_contain_text(NEED)
    send(page, "referral")


def test_referral_closed_loop(
    new_context: Callable[[], BrowserContext],
    hub: str,
    committed: Runtime,
    people: Callable[..., Person],
) -> None:
    """Done only through the pages: the sender finds the service, registers the client,
    records her consent, composes, checks and sends; the receiver answers."""
    maria = people("Maria Lopez")
    (service,) = listed(committed, ("Safe Harbour Counselling",))
    rania_person = people("Rania Saleh", org_id=service.org_id)
    p = Pair(
        hub, None, sign_in(new_context(), hub, maria), sign_in(new_context(), hub, rania_person)
    )
    _register_with_consent(p.sender, maria.org_name, service.org_name)
    _find_and_refer(p.sender, service.org_name)

    rania = p.receiver
    rania.goto(f"{p.hub}/ui/")
    to_answer = rania.get_by_role("region", name="New referrals to answer")
    expect(to_answer.get_by_role("link", name=CLIENT)).to_be_visible()
    look(rania, "home-receiver")
    _list(rania, "Inbox")
    look(rania, "referrals-inbox")
    _open_client(rania)
    expect(rania.get_by_role("region", name="What the sender shared")).to_contain_text(NEED)
    look(rania, "referral-receiver")

    rania.get_by_label("Message to").fill("Can she come on Tuesday at 10:00?")
    _press(rania, "Send message", "Message sent.")

    maria = p.sender
    maria.goto(f"{p.hub}/ui/")
    maria.get_by_role("region", name="Messages waiting for your answer").get_by_role(
        "link", name=CLIENT
    ).click()
    expect(maria.get_by_role("region", name="Messages")).to_contain_text("on Tuesday at 10:00?")
    maria.get_by_label("Message to").fill("Yes, Tuesday at 10:00 works for her.")
    _press(maria, "Send message", "Message sent.")

    rania.reload()
    expect(rania.get_by_role("region", name="Messages")).to_contain_text("Tuesday at 10:00 works")
    long_word = ("Interpreter" * 910)[:10_000]  # the longest message, one word: it wraps
    rania.get_by_label("Message to").fill(long_word)
    _press(rania, "Send message", "Message sent.")
    look(rania, "referral-long-message")
    _press(rania, "Accept the referral")
    _press(rania, "Start the service")
    rania.get_by_role("button", name="Complete and report the outcome").click()
    expect(rania.get_by_text("Say what was done: a referral is completed").first).to_be_visible()
    look(rania, "referral-complete-needs-outcome")
    rania.get_by_label("What was done").fill("Six counselling sessions held")
    rania.get_by_label("Result for the client").fill("Sleeping better; joins a group")
    _press(rania, "Complete and report the outcome")
    look(rania, "referral-receiver-completed")

    _list(maria, "Outbox")
    look(maria, "referrals-outbox")
    _open_client(maria)
    outcome = maria.get_by_role("region", name="Outcome reported")
    expect(outcome).to_contain_text("Six counselling sessions held")
    expect(outcome).to_contain_text("Sleeping better; joins a group")
    thread = maria.get_by_role("region", name="Messages")
    expect(thread).to_contain_text("Can she come on Tuesday at 10:00?")
    expect(thread).to_contain_text("Rania Saleh")
    timeline = maria.get_by_role("region", name="Timeline")
    for step in ("Sent", "Accepted", "In progress", "Completed", "Rania Saleh"):
        expect(timeline).to_contain_text(step)
    look(maria, "referral-sender")


def test_decline_and_send_to_another_provider(pair: Callable[..., Pair]) -> None:
    p = pair("Safe Harbour Counselling", "Bridges Counselling")
    first = compose(p.sender, p.hub, p.net)
    second = p.net.services[1]

    rania = p.receiver
    _open_from(rania, "Inbox")
    rania.get_by_role("link", name="Decline the referral").click()
    expect(rania.get_by_role("heading", name="Decline the referral?")).to_be_visible()
    look(rania, "referral-decline")
    rania.get_by_role("button", name="Decline the referral").click()
    expect(rania.get_by_role("alert")).to_contain_text("A reason is required")
    rania.get_by_label("Reason").select_option(label="No capacity at present")
    rania.get_by_label("Explanation").fill("Our waiting list is closed until March.")
    _press(rania, "Decline the referral")

    maria = p.sender
    maria.goto(f"{p.hub}/ui/")
    declined = maria.get_by_role("region", name="Declined referrals to send elsewhere")
    expect(declined.get_by_role("link", name=CLIENT)).to_be_visible()
    look(maria, "home-sender")
    declined.get_by_role("link", name=CLIENT).click()
    next_steps = maria.get_by_role("region", name="Next steps")
    expect(next_steps).to_contain_text("No capacity at present")
    expect(next_steps).to_contain_text("Our waiting list is closed until March.")
    look(maria, "referral-declined-sender")
    maria.get_by_role("link", name="Send to another provider").click()
    maria.get_by_label(second.org_name).check()
    look(maria, "referral-resend")
    maria.get_by_role("button", name="Send the referral to this service").click()
    expect(maria.get_by_role("status")).to_contain_text("Referral re-sent")
    expect(maria.get_by_text(f"Referral to {second.org_name}")).to_be_visible()
    resent = maria.url.split("?")[0]

    maria.get_by_role("link", name="the earlier, declined referral").click()
    assert maria.url.endswith(f"/ui/referrals/{first}")
    expect(maria.get_by_role("link", name="a new referral (New)")).to_be_visible()
    expect(next_steps).to_contain_text("You have sent this case to another provider.")
    look(maria, "referral-resent-sender")
    next_steps.get_by_role("link", name="Go to the new referral").click()
    assert maria.url == resent


def test_handover_to_closing_the_case(pair: Callable[..., Pair]) -> None:
    p = pair()
    compose(p.sender, p.hub, p.net, kind="handover")

    rania = p.receiver
    _open_from(rania, "Inbox")
    _press(rania, "Accept the handover")
    _press(rania, "Confirm first contact with the client", "First contact recorded")
    look(rania, "handover-receiver")

    maria = p.sender
    _open_from(maria, "Outbox")
    expect(maria.get_by_role("region", name="Handover record")).to_contain_text("Made on")
    expect(maria.get_by_role("region", name="Next steps")).to_contain_text(
        "You can follow this handover here until"
    )
    look(maria, "handover-sender")

    rania.get_by_label("What was done").fill("Case taken over; first session held")
    _press(rania, "Complete the handover")
    maria.reload()
    expect(maria.get_by_role("heading", name="Referral not found")).to_be_visible()
    expect(maria.get_by_text("no longer shown to the organisation that sent it")).to_be_visible()

    rania.get_by_role("link", name="Close the case").click()
    expect(rania.get_by_role("heading", name="Close the case")).to_contain_text(CLIENT)
    rania.get_by_label("The client's goals were met").check()
    rania.get_by_label("Outcome", exact=True).fill("Settled in; counselling ended well.")
    rania.get_by_label("Continuation plan").fill("Community centre group, Tuesdays.")
    look(rania, "case-close-form")
    rania.get_by_role("button", name="Continue").click()
    expect(rania.get_by_role("heading", name="Check before closing the case")).to_be_visible()
    rania.get_by_role("button", name="Change the answers").click()  # the answers are kept
    expect(rania.get_by_label("Continuation plan")).to_have_value(
        "Community centre group, Tuesdays."
    )
    rania.get_by_role("button", name="Continue").click()
    look(rania, "case-close-check")
    _press(rania, "Close the case", "Case closed")
    expect(rania.get_by_role("link", name="Close the case")).to_have_count(0)
