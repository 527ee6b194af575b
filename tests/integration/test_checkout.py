"""Basket and checkout through the holder's pages, against localstripe: spending controls under the row lock, one
hold and one card authorisation per order, declines released, refusals recorded for the council."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.ledger import dp_balances
from portal.models import (
    BasketItem,
    DPAccountStatus,
    ExceptionKind,
    Journal,
    JournalKind,
    OfferStatus,
    Order,
    OrderState,
    OutboxMessage,
    Role,
    SpendingException,
)
from portal.payments import gateway
from tests.support.checkout_factories import add_to_basket, check_out, make_shop, register_card, sellable_offer
from tests.support.factories import make_term, make_user, sign_in
from tests.support.html import parse, texts
from tests.support.localstripe import CHARGE_DECLINED, localstripe_fixture, stripe_app_fixture  # noqa: F401


def _orders(dp):
    return list(db.session.scalars(sa.select(Order).where(Order.dp_account_id == dp.id).order_by(Order.created_at)))


def _exceptions(dp, kind):
    return list(db.session.scalars(sa.select(SpendingException).where(
        SpendingException.dp_account_id == dp.id, SpendingException.kind == kind)))


def test_a_holder_sees_add_to_basket_on_the_service_page_and_the_basket_totals_it(client, stripe_app):
    shop = make_shop(budget_pence=20_000)
    sign_in(client, shop.holder)

    service_page = parse(client.get(f"/services/{shop.offer.service_id}"))
    added = add_to_basket(client, shop.offer, 3)
    basket = parse(client.get("/direct-payment/basket"))

    assert service_page.xpath(f"//a[@id='add-to-basket-{shop.offer.id}']/@href") == [
        f"/direct-payment/basket/add/{shop.offer.id}"]
    assert added.status_code == 302
    assert texts(basket, "//*[@id='basket-total']") == ["£46.50"]
    assert texts(basket, "//*[@id='basket-available']") == ["£200.00"]
    assert basket.xpath("//*[@id='to-checkout']")


def test_units_outside_the_offers_range_are_refused_with_a_plain_message(client, stripe_app):
    shop = make_shop(max_units=4)
    sign_in(client, shop.holder)

    page = parse(add_to_basket(client, shop.offer, 9))

    assert texts(page, "//*[contains(@class, 'govuk-error-summary')]//li") == [
        "How many you want must be between 1 and 4"]
    assert db.session.scalar(sa.select(sa.func.count(BasketItem.id))) == 0


def test_checkout_holds_the_money_authorises_the_card_and_tells_the_provider(client, stripe_app):
    shop = make_shop(budget_pence=20_000)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 3)

    placed = check_out(client)
    confirmation = parse(client.get(placed.headers["Location"]))

    [order] = _orders(shop.dp)
    assert placed.headers["Location"] == f"/direct-payment/checkout/{order.checkout_reference}/confirmation"
    assert texts(confirmation, "//*[@id='checkout-reference']") == [order.checkout_reference]
    assert confirmation.xpath("//tr[@data-reference=$ref]", ref=order.reference)
    assert order.state is OrderState.REQUESTED
    assert order.amount_pence == 4_650
    assert dp_balances(shop.dp).available == 20_000 - 4_650
    assert dp_balances(shop.dp).held == 4_650
    intent = gateway.retrieve_payment_intent(order.payment_intent_id)
    assert (intent.status, intent.amount_capturable) == ("requires_capture", 4_650)
    assert intent.metadata["idempotency_key"] == f"hold:{order.id}"
    hold = db.session.scalar(sa.select(Journal).where(Journal.idempotency_key == f"hold:{order.id}"))
    assert hold.kind is JournalKind.HOLD
    assert db.session.scalar(sa.select(sa.func.count(BasketItem.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == shop.provider_user.email, OutboxMessage.subject.contains(order.reference))) == 1


def test_a_basket_over_the_available_balance_is_refused_and_recorded_for_the_council(client, stripe_app):
    shop = make_shop(budget_pence=3_000)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 2)  # £31.00 of £30.00

    refused = check_out(client)
    page = parse(refused)

    assert refused.status_code == 409
    assert texts(page, "//*[@id='checkout-problems']//li") == [
        "Your basket costs £31.00 but you have £30.00 to spend. Remove something or buy fewer."]
    assert _orders(shop.dp) == []
    assert dp_balances(shop.dp).available == 3_000
    [exception] = _exceptions(shop.dp, ExceptionKind.OVER_BALANCE)
    assert exception.details["total_pence"] == 3_100


def test_an_offer_outside_the_care_plan_is_flagged_in_the_basket_and_refused_at_checkout(client, stripe_app):
    shop = make_shop()
    elsewhere = sellable_offer(category=make_term(name="Gardening"))
    sign_in(client, shop.holder)
    add_to_basket(client, elsewhere, 1)

    basket = parse(client.get("/direct-payment/basket"))
    refused = check_out(client)

    assert basket.xpath("//*[@data-problem='outside_plan']")
    assert not basket.xpath("//*[@id='to-checkout']")
    assert refused.status_code == 409
    assert _orders(shop.dp) == []
    assert len(_exceptions(shop.dp, ExceptionKind.OUTSIDE_PLAN)) == 1


def test_a_plan_category_allows_the_kinds_of_support_below_it(client, stripe_app):
    shop = make_shop()
    child = make_term(name="Overnight personal assistants", parent=shop.category)
    offer = sellable_offer(category=child)
    sign_in(client, shop.holder)
    add_to_basket(client, offer, 1)

    placed = check_out(client)

    assert placed.status_code == 302
    assert [order.state for order in _orders(shop.dp)] == [OrderState.REQUESTED]


def test_a_provider_the_plan_does_not_allow_is_refused(client, stripe_app):
    shop = make_shop()
    shop.dp.allow_any_provider = False
    shop.dp.providers = [sellable_offer().organisation]
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)

    refused = check_out(client)

    assert refused.status_code == 409
    assert len(_exceptions(shop.dp, ExceptionKind.PROVIDER_NOT_ALLOWED)) == 1
    assert dp_balances(shop.dp).held == 0


def test_an_offer_withdrawn_after_it_was_put_in_the_basket_cannot_be_bought_and_the_council_sees_the_attempt(
        client, stripe_app):
    shop = make_shop()
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)
    shop.offer.status = OfferStatus.WITHDRAWN

    refused = check_out(client)

    assert refused.status_code == 409
    assert "This is no longer for sale. Remove it from your basket." in texts(parse(refused),
                                                                              "//*[@id='checkout-problems']//li")
    assert _orders(shop.dp) == []
    [exception] = _exceptions(shop.dp, ExceptionKind.OFFER_UNAVAILABLE)
    assert exception.details["items"][0]["offer_id"] == str(shop.offer.id)
    assert exception.actor_id == shop.holder.id


def test_a_suspended_account_cannot_check_out_and_the_council_sees_the_attempt(client, stripe_app):
    shop = make_shop()
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)
    shop.dp.status = DPAccountStatus.SUSPENDED

    refused = check_out(client)

    assert refused.status_code == 409
    assert _orders(shop.dp) == []
    [exception] = _exceptions(shop.dp, ExceptionKind.ACCOUNT_NOT_ACTIVE)
    assert exception.details["account_status"] == "suspended"


def test_checkout_without_a_card_asks_for_the_card_first_and_the_council_sees_the_attempt(client, stripe_app):
    shop = make_shop(card=None)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)

    refused = check_out(client)

    assert texts(parse(refused), "//*[@id='checkout-problems']//li") == ["Add your prepaid card before you check out."]
    assert dp_balances(shop.dp).held == 0
    assert len(_exceptions(shop.dp, ExceptionKind.NO_CARD)) == 1


def test_the_councils_queue_names_each_refusal_in_plain_words_in_english_and_welsh(client, stripe_app):
    shop = make_shop(card=None)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)
    check_out(client)  # no card
    register_card(shop.dp)
    shop.dp.status = DPAccountStatus.SUSPENDED
    check_out(client)  # not active
    shop.dp.status = DPAccountStatus.ACTIVE
    shop.offer.status = OfferStatus.WITHDRAWN
    check_out(client)  # no longer for sale
    sign_in(client, make_user(roles=(Role.COUNCIL_DP_OFFICER,)))

    english = parse(client.get("/council/direct-payments/exceptions"))
    welsh = parse(client.get("/council/direct-payments/exceptions?lang=cy"))
    one_kind = parse(client.get("/council/direct-payments/exceptions?kind=no_card&lang=en"))

    title = "//*[contains(@class, 'app-exception')]//h2"
    assert texts(english, title) == ["No card registered", "Account suspended or closed", "Offer no longer for sale"]
    assert len(texts(welsh, title)) == 3
    assert not set(texts(welsh, title)) & set(texts(english, title))
    assert texts(one_kind, title) == ["No card registered"]


def test_a_declined_card_fails_the_order_and_releases_the_money(client, stripe_app):
    shop = make_shop(budget_pence=10_000, card=CHARGE_DECLINED)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 2)

    check_out(client)

    [order] = _orders(shop.dp)
    page = parse(client.get(f"/direct-payment/orders/{order.id}"))
    assert order.state is OrderState.FAILED
    assert texts(page, "//*[@id='payment-error']//strong")[0].endswith(
        "Your card was declined. Check the card details, or contact the council's direct payments team.")
    assert dp_balances(shop.dp) == dp_balances(shop.dp).__class__(available=10_000, held=0, spent=0)
    assert db.session.scalar(sa.select(Journal).where(Journal.idempotency_key == f"release:{order.id}")) is not None
    assert len(_exceptions(shop.dp, ExceptionKind.CARD_DECLINED)) == 1


def test_a_second_tab_cannot_check_out_the_same_basket_twice(client, stripe_app):
    shop = make_shop()
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)
    page = parse(client.get("/direct-payment/checkout"))
    item = page.xpath("//input[@name='item']/@value")[0]
    data = {"csrf_token": page.xpath("//input[@name='csrf_token']/@value")[0], "item": item}

    first = client.post("/direct-payment/checkout", data=data)
    second = client.post("/direct-payment/checkout", data=data)

    assert first.status_code == 302
    assert second.status_code == 409
    assert len(_orders(shop.dp)) == 1
    assert dp_balances(shop.dp).held == 1_550


def test_someone_else_cannot_see_a_holders_basket_item_or_order(client, stripe_app):
    shop = make_shop()
    other = make_shop()
    sign_in(client, other.holder)
    add_to_basket(client, other.offer, 1)
    check_out(client)
    add_to_basket(client, other.offer, 1)
    [order] = _orders(other.dp)
    [item] = db.session.scalars(sa.select(BasketItem).where(BasketItem.dp_account_id == other.dp.id)).all()

    sign_in(client, shop.holder)

    assert client.get(f"/direct-payment/orders/{order.id}").status_code == 404
    assert client.get(f"/direct-payment/basket/{item.id}/change").status_code == 404
    assert client.get(f"/direct-payment/checkout/{order.checkout_reference}/confirmation").status_code == 302
    assert other.offer.title not in " ".join(texts(parse(client.get("/direct-payment/basket")), "//main"))


def test_a_nominated_person_checks_out_for_the_holder_from_the_same_basket(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    nominee = make_user(name="Nia Nominee", roles=(Role.NOMINATED_PERSON,))
    shop.dp.nominated_person_id = nominee.id
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 2)
    sign_in(client, nominee)

    basket = parse(client.get("/direct-payment/basket"))
    check_out(client)

    [order] = _orders(shop.dp)
    assert texts(basket, "//*[@id='basket-total']") == ["£31.00"]
    assert (order.state, order.placed_by_id) == (OrderState.REQUESTED, nominee.id)
    assert dp_balances(shop.dp).held == 3_100
