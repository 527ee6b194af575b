"""A direct-payment holder buys in Chromium: from the service page's "Add to basket", through the basket and the
check-answers page, to paying with a card whose bank wants 3-D Secure (finished through localstripe's stand-in
Stripe.js, under the page's real Content-Security-Policy) and the confirmation with its reference. Every page on
the way passes axe-core in English and Welsh. The server has its own database and its own localstripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from portal.extensions import db
from portal.ledger import dp_balances
from portal.models import DirectPaymentAccount, Order, OrderState
from tests.browser.back_office import clear_problems, page_problems, sign_in, with_language
from tests.browser.live_server import LiveServer
from tests.browser.watch import PageProblems
from tests.support.checkout_factories import make_shop
from tests.support.localstripe import THREE_D_SECURE, localstripe_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(tmp_path_factory, localstripe) -> Iterator[tuple[LiveServer, dict]]:
    server = LiveServer(tmp_path_factory.mktemp("checkout-server"))
    server.app.config["STRIPE_API_BASE"] = localstripe
    with server.app.app_context():
        shop = make_shop(budget_pence=20_000, card=THREE_D_SECURE)
        shop.holder.email = "bethan.buyer@example.org"
        db.session.commit()
        facts = {"email": shop.holder.email, "service_id": shop.offer.service_id, "offer_id": shop.offer.id,
                 "dp_id": shop.dp.id}
        db.session.remove()
    server.start()
    try:
        yield server, facts
    finally:
        server.stop()


def _check_here(page: Page, problems: PageProblems, server: LiveServer) -> None:
    """Check the page the browser is on, in English and Welsh, then come back to it in English."""
    url = page.url
    page.wait_for_load_state("networkidle")  # a request of this page cut short by leaving it is not a problem
    for language in ("en", "cy", "en"):
        clear_problems(problems)
        errors_before = len(server.errors)
        response = page.goto(with_language(url, language))
        found = page_problems(page, problems, server, response, language, errors_before=errors_before)
        assert not found, f"{url} in {language}:\n" + "\n".join(found)


def test_a_holder_buys_with_3d_secure_and_every_page_passes_axe_in_english_and_welsh(browser: Browser, shop):
    server, facts = shop
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems.watch(page)
    sign_in(page, server, facts["email"])

    page.goto(server(f"/services/{facts['service_id']}"))
    with page.expect_navigation():
        page.locator(f"#add-to-basket-{facts['offer_id']}").click()
    _check_here(page, problems, server)
    page.get_by_label("How many do you want?").fill("2")
    with page.expect_navigation(url=server("/direct-payment/basket")):
        page.get_by_role("button", name="Save and continue").click()
    assert page.locator("#basket-total").inner_text().strip() == "£31.00"
    _check_here(page, problems, server)

    with page.expect_navigation(url=server("/direct-payment/checkout")):
        page.locator("#to-checkout").click()
    _check_here(page, problems, server)
    with page.expect_navigation(url="**/authenticate"):
        page.get_by_role("button", name="Confirm and pay").click()
    _check_here(page, problems, server)

    assert page.locator("#app-authenticate-no-js").is_hidden()
    page.get_by_role("button", name="Continue").click()
    with page.expect_navigation(url="**/confirmation"):
        page.get_by_role("button", name="Complete authentication").click()
    reference = page.locator("#checkout-reference").inner_text().strip()
    _check_here(page, problems, server)

    with server.app.app_context():
        order = db.session.scalars(sa.select(Order)).one()
        state, checkout_reference, amount = order.state, order.checkout_reference, order.amount_pence
        held = dp_balances(db.session.get(DirectPaymentAccount, facts["dp_id"])).held
        db.session.remove()
    assert (state, checkout_reference, amount, held) == (OrderState.REQUESTED, reference, 3_100, 3_100)
    context.close()
