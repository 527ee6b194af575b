"""A holder ready to buy (a funded account, a care plan, a card registered at localstripe) and an offer they may buy,
plus the browser's steps through the basket and checkout. Tests that use it also use the localstripe fixtures."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from portal.extensions import db
from portal.models import DirectPaymentAccount, Offer, PaymentCard, Role, TaxonomyTerm, User
from portal.payments import gateway
from tests.support.factories import make_organisation, make_service, make_term, make_user
from tests.support.html import csrf_token, parse
from tests.support.localstripe import VISA, card_payment_method
from tests.support.money_factories import make_dp_account
from tests.support.offer_factories import make_offer, make_payout_details


@dataclass
class Shop:
    holder: User
    dp: DirectPaymentAccount
    offer: Offer
    provider_user: User
    category: TaxonomyTerm


def register_card(dp: DirectPaymentAccount, number: str = VISA) -> PaymentCard:
    """A Stripe customer for the account and a card attached to it at localstripe, saved as the active card."""
    if not dp.stripe_customer_id:
        dp.stripe_customer_id = gateway.create_customer(dp)
    method = card_payment_method(number, customer=dp.stripe_customer_id)
    card = PaymentCard(dp_account_id=dp.id, stripe_payment_method_id=method, brand="visa", last4=number[-4:],
                       exp_month=12, exp_year=2031, funding="credit")
    db.session.add(card)
    db.session.flush()
    return card


def sellable_offer(*, price_pence: int = 1_550, max_units: int = 10, category: TaxonomyTerm | None = None,
                   **fields) -> Offer:
    """A published offer on a public listing of an approved provider with verified payout details."""
    organisation = make_organisation()
    make_payout_details(organisation)
    service = make_service(organisation=organisation)
    return make_offer(service=service, category=category, price_pence=price_pence, max_units=max_units, **fields)


def make_shop(*, budget_pence: int = 50_000, price_pence: int = 1_550, card: str | None = VISA,
              max_units: int = 10) -> Shop:
    category = make_term(name="Personal assistants")
    offer = sellable_offer(price_pence=price_pence, max_units=max_units, category=category)
    holder = make_user(name="Hana Holder", roles=(Role.DP_HOLDER,))
    dp = make_dp_account(holder=holder, budget_pence=budget_pence, categories=[category])
    if card:
        register_card(dp, card)
    provider_user = make_user(name="Pat Provider", roles=(Role.PROVIDER,), organisations=[offer.organisation])
    return Shop(holder=holder, dp=dp, offer=offer, provider_user=provider_user, category=category)


def add_to_basket(client, offer: Offer, units: int, **fields):
    page = parse(client.get(f"/direct-payment/basket/add/{offer.id}"))
    return client.post(f"/direct-payment/basket/add/{offer.id}", data={
        "csrf_token": csrf_token(page), "units": str(units), "wanted_on": ["", "", ""], "note": "",
        **fields})


def check_out(client):
    """Post the check-answers page as the browser would (every basket item it lists, with its CSRF token)."""
    page = parse(client.get("/direct-payment/checkout"))
    items = page.xpath("//form[@action='/direct-payment/checkout']//input[@name='item']/@value")
    data = MultiDict([("csrf_token", csrf_token(page)), *(("item", item) for item in items)])
    return client.post("/direct-payment/checkout", data=data)


def post_button(client, page_url: str, action: str, **fields):
    """Press a one-button form on a page (the page's CSRF token, then the form's action)."""
    page = parse(client.get(page_url))
    return client.post(action, data={"csrf_token": csrf_token(page), **fields})
