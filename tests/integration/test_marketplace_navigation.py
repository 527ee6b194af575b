"""Finding the way around the marketplace: providers reach their orders and takings from the dashboard and the
organisation page, holders reach basket, orders, statement and card from their home, and the service page offers
"Add to basket" only to someone who may buy the offer (everyone else reads why not). SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from portal.models import DPAccountStatus, Role
from tests.support.checkout_factories import sellable_offer
from tests.support.factories import make_term, make_user, sign_in
from tests.support.html import parse, texts
from tests.support.money_factories import make_dp_account


def test_a_provider_reaches_orders_and_takings_from_the_dashboard_and_the_organisation_page(client):
    offer = sellable_offer()
    organisation = offer.organisation
    provider = make_user(roles=(Role.PROVIDER,), organisations=[organisation])
    sign_in(client, provider)
    takings = f"/provider/organisations/{organisation.id}/takings"

    dashboard = parse(client.get("/provider"))
    page = parse(client.get(f"/provider/organisations/{organisation.id}"))

    assert dashboard.xpath("//a[@id='orders-link']/@href") == ["/provider/orders"]
    assert dashboard.xpath(f"//a[@id='takings-link-{organisation.id}']/@href") == [takings]
    assert page.xpath("//*[@id='direct-payment-links']//a/@href") == ["/provider/orders", takings]
    assert client.get("/provider/orders").status_code == 200
    assert client.get(takings).status_code == 200


def test_a_holder_reaches_card_basket_orders_and_statement_from_their_home(client):
    account = make_dp_account()
    sign_in(client, account.holder)

    home = parse(client.get("/direct-payment/"))

    links = dict(zip(home.xpath("//ul[@id='holder-links']//a/@id"), home.xpath("//ul[@id='holder-links']//a/@href"),
                     strict=True))
    assert links == {"card-link": "/direct-payment/card", "basket-link": "/direct-payment/basket",
                     "orders-link": "/direct-payment/orders", "statement-link": "/direct-payment/statement"}
    for href in links.values():
        assert client.get(href).status_code == 200, href


def _service_page(client, offer):
    page = parse(client.get(f"/services/{offer.service_id}"))
    button = page.xpath(f"//a[@id='add-to-basket-{offer.id}']/@href")
    sentence = " ".join(texts(page, f"//*[@id='cannot-buy-{offer.id}']"))
    return button, sentence


def test_a_holder_whose_plan_allows_the_offer_sees_add_to_basket(client):
    offer = sellable_offer()
    account = make_dp_account(categories=[offer.category])
    sign_in(client, account.holder)

    button, sentence = _service_page(client, offer)

    assert button == [f"/direct-payment/basket/add/{offer.id}"]
    assert sentence == ""


def test_a_nominated_person_sees_add_to_basket_for_the_holders_plan(client):
    offer = sellable_offer()
    nominee = make_user(roles=(Role.NOMINATED_PERSON,))
    make_dp_account(categories=[offer.category], nominated_person=nominee)
    sign_in(client, nominee)

    button, _sentence = _service_page(client, offer)

    assert button == [f"/direct-payment/basket/add/{offer.id}"]


def test_someone_not_signed_in_is_asked_to_sign_in_with_their_direct_payment_account(client):
    offer = sellable_offer()

    page = parse(client.get(f"/services/{offer.service_id}"))

    assert not page.xpath(f"//a[@id='add-to-basket-{offer.id}']")
    assert texts(page, f"//*[@id='cannot-buy-{offer.id}']/a") == [
        "Sign in with your direct payment account to buy this"]
    assert page.xpath(f"//*[@id='cannot-buy-{offer.id}']/a/@href") == [
        f"/account/sign-in?next=/services/{offer.service_id}"]


@pytest.mark.parametrize(("who", "expected"), [
    ("provider", "Only people who get a direct payment from the council can buy this here."),
    ("holder without an account", "your direct payment account is not open"),
    ("suspended holder", "your direct payment account is suspended"),
    ("plan without the category", "does not cover this kind of support"),
    ("plan without the provider", "does not let you buy from"),
])
def test_someone_who_may_not_buy_the_offer_reads_why_instead_of_a_button(client, who, expected):
    offer = sellable_offer()
    if who == "provider":
        user = make_user(roles=(Role.PROVIDER,), organisations=[offer.organisation])
    elif who == "holder without an account":
        user = make_user(roles=(Role.DP_HOLDER,))
    elif who == "suspended holder":
        user = make_dp_account(categories=[offer.category], status=DPAccountStatus.SUSPENDED).holder
    elif who == "plan without the category":
        user = make_dp_account(categories=[make_term(name="Gardening")]).holder
    else:
        user = make_dp_account(categories=[offer.category], providers=[sellable_offer().organisation]).holder
    sign_in(client, user)

    button, sentence = _service_page(client, offer)

    assert button == []
    assert expected in sentence
