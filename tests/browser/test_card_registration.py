"""A direct-payment holder adds their card in Chromium, typing it into Stripe.js (localstripe's stand-in, served
from localstripe as the real one is from Stripe, under the page's real Content-Security-Policy). The card page is
checked with axe-core in English and Welsh before and after; without JavaScript it explains what to do instead.
The server has its own database, pointed at a localstripe of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from portal.extensions import db
from portal.models import CardStatus, PaymentCard, Role
from tests.browser.back_office import clear_problems, page_problems, sign_in, with_language
from tests.browser.live_server import LiveServer
from tests.browser.watch import PageProblems
from tests.support.factories import make_user
from tests.support.localstripe import VISA, localstripe_fixture  # noqa: F401  (fixture)
from tests.support.money_factories import make_dp_account

pytestmark = pytest.mark.browser

HOLDER_EMAIL = "cerys.card@example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory, localstripe) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("card-server"))
    server.app.config["STRIPE_API_BASE"] = localstripe
    with server.app.app_context():
        holder = make_user(email=HOLDER_EMAIL, name="Cerys Card", roles=(Role.DP_HOLDER,))
        make_dp_account(holder=holder)
        db.session.commit()
        db.session.remove()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _check(page: Page, problems: PageProblems, server: LiveServer, url: str, language: str) -> None:
    clear_problems(problems)
    errors_before = len(server.errors)
    response = page.goto(with_language(url, language))
    found = page_problems(page, problems, server, response, language, errors_before=errors_before)
    assert not found, f"{url} in {language}:\n" + "\n".join(found)


def test_a_holder_adds_their_card_through_stripe_js_and_the_pages_pass_axe_in_english_and_welsh(
        browser: Browser, server: LiveServer):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems.watch(page)
    sign_in(page, server, HOLDER_EMAIL)

    _check(page, problems, server, server("/direct-payment/card"), "en")
    with page.expect_navigation():
        page.get_by_role("button", name="Add your card").click()
    assert page.url.startswith(server("/direct-payment/card/new"))
    for language in ("en", "cy"):
        _check(page, problems, server, server("/direct-payment/card/new"), language)
    _check(page, problems, server, server("/direct-payment/card/new"), "en")

    assert page.locator("#app-card-no-js").is_hidden()
    page.get_by_label("Card number").fill(VISA)
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("31")
    page.get_by_label("Security code").fill("123")
    with page.expect_navigation(url=server("/direct-payment/card")):
        page.get_by_role("button", name="Save card").click()

    assert "Your card has been saved" in page.locator(".govuk-notification-banner").inner_text()
    values = page.locator("#current-card .govuk-summary-list__value").all_inner_texts()
    assert [value.strip() for value in values] == ["Visa", "Ending in 4242", "12/2031"]
    for language in ("en", "cy"):
        _check(page, problems, server, server("/direct-payment/card"), language)
    with server.app.app_context():
        statuses = db.session.scalars(sa.select(PaymentCard.status)).all()
        db.session.remove()
    assert statuses == [CardStatus.ACTIVE]
    context.close()


def test_without_javascript_the_card_page_gives_the_councils_phone_number(browser: Browser, server: LiveServer):
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, server, HOLDER_EMAIL)

    page.goto(server("/direct-payment/card"))
    with page.expect_navigation(url=server("/direct-payment/card/new")):
        page.locator("#start-card").click()  # "Add your card", or "Replace your card" once one is saved

    message = page.locator("#app-card-no-js").inner_text()
    assert "needs JavaScript" in message and server.app.config["COUNCIL_PHONE"] in message
    assert page.locator("#app-card-form").is_hidden()
    context.close()
