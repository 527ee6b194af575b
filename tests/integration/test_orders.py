"""The order lifecycle over HTTP against localstripe: provider accepts, declines and delivers; the holder cancels,
confirms or disputes; capture of what was delivered; 3-D Secure; Stripe unreachable and the retry; the timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.ledger import dp_balances
from portal.marketplace import orders as lifecycle
from portal.models import (
    ExceptionKind,
    Journal,
    JournalKind,
    Order,
    OrderState,
    OutboxMessage,
    SpendingException,
    utcnow,
)
from portal.payments import gateway, localstripe_process
from tests.support.checkout_factories import add_to_basket, check_out, make_shop, post_button
from tests.support.factories import sign_in
from tests.support.html import csrf_token, parse, texts
from tests.support.localstripe import (  # noqa: F401
    THREE_D_SECURE,
    authenticate_3d_secure,
    localstripe_fixture,
    stripe_app_fixture,
)


def _order(dp) -> Order:
    return db.session.scalars(sa.select(Order).where(Order.dp_account_id == dp.id)).one()


def _ordered(client, shop, units=3):
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, units)
    check_out(client)
    return _order(shop.dp)


def _journal(key):
    return db.session.scalar(sa.select(Journal).where(Journal.idempotency_key == key))


def _mail_to(user, containing):
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == user.email, OutboxMessage.subject.contains(containing)))


def _provider_accepts(client, shop, order):
    sign_in(client, shop.provider_user)
    return post_button(client, f"/provider/orders/{order.id}", f"/provider/orders/{order.id}/accept")


def _provider_delivers(client, shop, order, units):
    sign_in(client, shop.provider_user)
    return post_button(client, f"/provider/orders/{order.id}/deliver", f"/provider/orders/{order.id}/deliver",
                       delivered_units=str(units))


def test_the_whole_lifecycle_pays_the_provider_for_what_was_delivered_and_returns_the_rest(client, stripe_app):
    shop = make_shop(budget_pence=20_000)
    order = _ordered(client, shop, units=3)  # 3 hours at £15.50 = £46.50 held

    sign_in(client, shop.provider_user)
    listed = parse(client.get("/provider/orders"))
    _provider_accepts(client, shop, order)
    _provider_delivers(client, shop, order, 2)
    sign_in(client, shop.holder)
    confirmed = post_button(client, f"/direct-payment/orders/{order.id}", f"/direct-payment/orders/{order.id}/confirm")
    page = parse(client.get(confirmed.headers["Location"]))

    assert listed.xpath("//tr[@data-reference=$ref]", ref=order.reference)
    assert order.state is OrderState.CAPTURED
    assert (order.delivered_units, order.captured_pence) == (2, 3_100)
    assert texts(page, "//*[@id='order-paid']") == ["£31.00"]
    assert dp_balances(shop.dp) == dp_balances(shop.dp).__class__(available=20_000 - 3_100, held=0, spent=3_100)
    capture = _journal(f"capture:{order.id}")
    assert capture.kind is JournalKind.CAPTURE
    assert capture.stripe_object_id == order.payment_intent_id
    intent = gateway.retrieve_payment_intent(order.payment_intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", 3_100)
    assert _mail_to(shop.holder, order.reference) == 2  # accepted, delivered
    timeline = texts(page, "//ol[contains(@class, 'app-order-timeline')]/li")
    assert timeline[0].endswith("Ordered") and timeline[-1].endswith("Paid")
    assert any(line.endswith("Accepted by the provider") for line in timeline)


def test_a_provider_declining_releases_the_money_and_cancels_the_card_authorisation(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    sign_in(client, shop.provider_user)

    declined = post_button(client, f"/provider/orders/{order.id}/decline", f"/provider/orders/{order.id}/decline",
                           reason="Nobody is free that week.")

    assert declined.status_code == 302
    assert order.state is OrderState.DECLINED
    assert order.decision_reason == "Nobody is free that week."
    assert dp_balances(shop.dp).available == 10_000
    assert _journal(f"release:{order.id}").kind is JournalKind.RELEASE
    assert gateway.retrieve_payment_intent(order.payment_intent_id).status == "canceled"
    assert _mail_to(shop.holder, order.reference) == 1


def test_declining_needs_a_reason(client, stripe_app):
    shop = make_shop()
    order = _ordered(client, shop)
    sign_in(client, shop.provider_user)

    page = parse(post_button(client, f"/provider/orders/{order.id}/decline", f"/provider/orders/{order.id}/decline",
                             reason=""))

    assert texts(page, "//*[contains(@class, 'govuk-error-summary')]//li") == ["Enter why you are declining this order"]
    assert order.state is OrderState.REQUESTED


def test_the_holder_can_cancel_before_the_provider_accepts_but_not_after(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    first = _ordered(client, shop, units=1)
    post_button(client, f"/direct-payment/orders/{first.id}", f"/direct-payment/orders/{first.id}/cancel")

    assert first.state is OrderState.CANCELLED
    assert dp_balances(shop.dp).available == 10_000
    assert gateway.retrieve_payment_intent(first.payment_intent_id).status == "canceled"

    add_to_basket(client, shop.offer, 1)
    check_out(client)
    second = db.session.scalars(sa.select(Order).where(Order.dp_account_id == shop.dp.id,
                                                       Order.state == OrderState.REQUESTED)).one()
    _provider_accepts(client, shop, second)
    sign_in(client, shop.holder)
    page = parse(client.get(f"/direct-payment/orders/{second.id}"))
    refused = client.post(f"/direct-payment/orders/{second.id}/cancel", data={"csrf_token": csrf_token(page)})

    assert not page.xpath("//*[@id='cancel-order']")
    assert refused.status_code == 302
    assert second.state is OrderState.ACCEPTED
    assert dp_balances(shop.dp).held == 1_550


def test_a_dispute_freezes_the_money_and_tells_the_council(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    _provider_accepts(client, shop, order)
    _provider_delivers(client, shop, order, 2)
    sign_in(client, shop.holder)

    post_button(client, f"/direct-payment/orders/{order.id}/dispute", f"/direct-payment/orders/{order.id}/dispute",
                reason="Nobody came on Tuesday.")

    assert order.state is OrderState.DISPUTED
    assert dp_balances(shop.dp).held == 3_100
    exception = db.session.scalars(sa.select(SpendingException).where(SpendingException.order_id == order.id)).one()
    assert exception.kind is ExceptionKind.DISPUTE
    assert exception.details["reason"] == "Nobody came on Tuesday."


def test_the_council_settles_a_dispute_by_capturing_part_of_the_money(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    _provider_accepts(client, shop, order)
    _provider_delivers(client, shop, order, 2)
    lifecycle.dispute(actor=shop.holder, order=order, reason="Only one hour happened.")

    lifecycle.resolve_dispute(actor=shop.holder, order=order, capture_pence=1_550)

    assert order.state is OrderState.CAPTURED
    assert order.captured_pence == 1_550
    assert order.dispute_resolved_at is not None
    assert dp_balances(shop.dp) == dp_balances(shop.dp).__class__(available=10_000 - 1_550, held=0, spent=1_550)


def test_nothing_delivered_takes_nothing_from_the_card(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    _provider_accepts(client, shop, order)
    _provider_delivers(client, shop, order, 0)
    sign_in(client, shop.holder)

    post_button(client, f"/direct-payment/orders/{order.id}", f"/direct-payment/orders/{order.id}/confirm")

    assert (order.state, order.captured_pence) == (OrderState.CAPTURED, 0)
    assert dp_balances(shop.dp) == dp_balances(shop.dp).__class__(available=10_000, held=0, spent=0)
    assert gateway.retrieve_payment_intent(order.payment_intent_id).status == "canceled"


def test_a_provider_cannot_record_more_than_was_ordered(client, stripe_app):
    shop = make_shop()
    order = _ordered(client, shop, units=2)
    _provider_accepts(client, shop, order)

    page = parse(_provider_delivers(client, shop, order, 5))

    assert texts(page, "//*[contains(@class, 'govuk-error-summary')]//li") == [
        "How many you delivered must be 2 or fewer"]
    assert order.state is OrderState.ACCEPTED


@pytest.mark.parametrize("state, to", [
    (OrderState.CAPTURED, OrderState.REQUESTED),
    (OrderState.CANCELLED, OrderState.ACCEPTED),
    (OrderState.REQUESTED, OrderState.DELIVERED),
    (OrderState.DELIVERED, OrderState.ACCEPTED),
    (OrderState.FAILED, OrderState.REQUESTED),
    (OrderState.PENDING_PAYMENT, OrderState.CAPTURED),
])
def test_orders_never_move_backwards_or_skip_a_step(session, state, to):
    order = Order(state=state, reference="ORD-X")

    with pytest.raises(lifecycle.InvalidTransition):
        lifecycle.move(order, to, actor=None, action="test")
    assert order.state is state


def test_another_providers_order_is_not_found(client, stripe_app):
    shop = make_shop()
    other = make_shop()
    order = _ordered(client, shop)
    sign_in(client, other.provider_user)

    assert client.get(f"/provider/orders/{order.id}").status_code == 404
    assert client.post(f"/provider/orders/{order.id}/accept").status_code in (400, 404)
    assert order.state is OrderState.REQUESTED


def test_3d_secure_keeps_the_order_pending_until_the_bank_check_is_done(client, stripe_app, localstripe):
    shop = make_shop(budget_pence=10_000, card=THREE_D_SECURE)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)

    placed = check_out(client)
    order = _order(shop.dp)
    page = client.get(placed.headers["Location"])
    document = parse(page)
    pending_state = order.state
    authenticate_3d_secure(localstripe, gateway.retrieve_payment_intent(order.payment_intent_id))
    client.post(f"/direct-payment/orders/{order.id}/payment", data={"csrf_token": csrf_token(document)})

    assert placed.headers["Location"] == f"/direct-payment/orders/{order.id}/authenticate"
    assert pending_state is OrderState.PENDING_PAYMENT
    assert document.xpath("//script[@id='app-authenticate-config']")
    assert f"{localstripe}/js.stripe.com/v3/" in document.xpath("//script/@src")
    assert localstripe in page.headers["Content-Security-Policy"]
    assert order.state is OrderState.REQUESTED
    assert dp_balances(shop.dp).held == 1_550


def test_stripe_unreachable_at_checkout_keeps_the_order_and_the_retry_completes_it_once(client, stripe_app,
                                                                                       localstripe):
    shop = make_shop(budget_pence=10_000)
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{localstripe_process.free_port()}"  # nobody there
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 2)

    check_out(client)
    order = _order(shop.dp)
    page = parse(client.get(f"/direct-payment/orders/{order.id}"))
    stripe_app.config["STRIPE_API_BASE"] = localstripe  # the card provider is back
    retried = client.post(f"/direct-payment/orders/{order.id}/payment", data={"csrf_token": csrf_token(page)})
    again = client.post(f"/direct-payment/orders/{order.id}/payment", data={"csrf_token": csrf_token(page)})

    assert "We could not reach the card provider" in texts(page, "//*[@id='payment-error']")[0]
    assert "Nothing has been lost" in texts(page, "//*[@id='payment-error']")[0]
    assert page.xpath("//*[@id='retry-payment']")
    assert (retried.status_code, again.status_code) == (302, 302)
    assert order.state is OrderState.REQUESTED
    assert dp_balances(shop.dp).held == 3_100
    intents = [intent for intent in gateway._intents_of(shop.dp.stripe_customer_id)]
    assert [intent["metadata"]["idempotency_key"] for intent in intents] == [f"hold:{order.id}"]


def test_a_retry_after_stripe_answered_but_we_did_not_record_it_reuses_the_first_authorisation(client, stripe_app,
                                                                                             localstripe):
    shop = make_shop(budget_pence=10_000)
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{localstripe_process.free_port()}"
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)
    check_out(client)
    order = _order(shop.dp)
    stripe_app.config["STRIPE_API_BASE"] = localstripe
    card = shop.dp.cards[0]
    first = gateway.create_authorisation(  # the first attempt reached Stripe; its answer was lost
        amount_pence=order.amount_pence, customer_id=shop.dp.stripe_customer_id,
        payment_method_id=card.stripe_payment_method_id, idempotency_key=f"hold:{order.id}")

    result = stripe_app.test_cli_runner().invoke(args=["orders", "retry-payments", "--minutes", "0"])

    assert result.exit_code == 0, result.output
    assert order.state is OrderState.REQUESTED
    assert order.payment_intent_id == first.id
    assert len(list(gateway._intents_of(shop.dp.stripe_customer_id))) == 1


def test_confirm_due_confirms_after_seven_quiet_days_and_captures(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    _provider_accepts(client, shop, order)
    _provider_delivers(client, shop, order, 1)
    order.delivered_at = utcnow() - timedelta(days=8)

    result = stripe_app.test_cli_runner().invoke(args=["orders", "confirm-due"])
    again = stripe_app.test_cli_runner().invoke(args=["orders", "confirm-due"])

    assert result.exit_code == 0, result.output
    assert "Confirmed 1 delivered order(s) automatically; captured 1" in result.output
    assert "Confirmed 0 delivered order(s) automatically; captured 0" in again.output
    assert (order.state, order.auto_confirmed, order.captured_pence) == (OrderState.CAPTURED, True, 1_550)


def test_a_capture_that_cannot_reach_stripe_leaves_the_order_confirmed_for_the_timer(client, stripe_app,
                                                                                     localstripe):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    _provider_accepts(client, shop, order)
    _provider_delivers(client, shop, order, 2)
    sign_in(client, shop.holder)
    page = parse(client.get(f"/direct-payment/orders/{order.id}"))
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{localstripe_process.free_port()}"

    client.post(f"/direct-payment/orders/{order.id}/confirm", data={"csrf_token": csrf_token(page)})
    state_while_down = order.state
    stripe_app.config["STRIPE_API_BASE"] = localstripe
    stripe_app.test_cli_runner().invoke(args=["orders", "confirm-due"])

    assert state_while_down is OrderState.CONFIRMED
    assert (order.state, order.captured_pence) == (OrderState.CAPTURED, 3_100)


def test_authorisations_about_to_lapse_are_renewed_with_a_new_intent(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _ordered(client, shop, units=2)
    old_intent = order.payment_intent_id
    order.authorisation_expires_at = utcnow() + timedelta(hours=3)

    result = stripe_app.test_cli_runner().invoke(args=["orders", "renew-authorisations"])

    assert result.exit_code == 0, result.output
    assert "Renewed 1 authorisation(s)" in result.output
    assert order.payment_intent_id != old_intent
    assert gateway.retrieve_payment_intent(old_intent).status == "canceled"
    assert gateway.retrieve_payment_intent(order.payment_intent_id).status == "requires_capture"
    assert order.authorisation_expires_at > utcnow() + timedelta(days=6)
    assert order.state is OrderState.REQUESTED
    assert dp_balances(shop.dp).held == 3_100
