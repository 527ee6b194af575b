"""The council settles disputes: a disputed order in the exceptions queue and on its own page; the officer decides
with a reason (pay the provider part or all of the held money, or give it all back), checks the answers and
confirms; the card, the ledger, the audit trail and the emails follow. Against localstripe, on SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.ledger import dp_balances
from portal.marketplace import orders as lifecycle
from portal.marketplace import payment_events
from portal.models import (
    AuditEvent,
    ExceptionKind,
    Journal,
    JournalKind,
    Order,
    OrderState,
    OutboxMessage,
    Role,
    SpendingException,
)
from portal.payments import gateway, localstripe_process
from tests.support.checkout_factories import add_to_basket, check_out, make_shop, post_button
from tests.support.factories import make_user, sign_in
from tests.support.html import csrf_token, parse, texts
from tests.support.localstripe import localstripe_fixture, stripe_app_fixture  # noqa: F401


def _disputed_order(client, shop, *, units=2, delivered=2) -> Order:
    """Ordered, accepted, delivered, and disputed by the holder over HTTP."""
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, units)
    check_out(client)
    order = db.session.scalars(sa.select(Order).where(Order.dp_account_id == shop.dp.id)).one()
    sign_in(client, shop.provider_user)
    post_button(client, f"/provider/orders/{order.id}", f"/provider/orders/{order.id}/accept")
    post_button(client, f"/provider/orders/{order.id}/deliver", f"/provider/orders/{order.id}/deliver",
                delivered_units=str(delivered))
    sign_in(client, shop.holder)
    post_button(client, f"/direct-payment/orders/{order.id}/dispute", f"/direct-payment/orders/{order.id}/dispute",
                reason="Nobody came on Tuesday.")
    assert order.state is OrderState.DISPUTED
    return order


def _officer():
    return make_user(name="Dee Officer", roles=(Role.COUNCIL_DP_OFFICER,))


def _decide(client, order, **answers):
    return post_button(client, f"/council/direct-payments/orders/{order.id}/resolve",
                       f"/council/direct-payments/orders/{order.id}/resolve", **answers)


def _confirm(client, order):
    return post_button(client, f"/council/direct-payments/orders/{order.id}/resolve/check",
                       f"/council/direct-payments/orders/{order.id}/resolve/check")


def _journals(order, kind):
    return list(db.session.scalars(sa.select(Journal).where(Journal.order_id == order.id, Journal.kind == kind)))


def _mail(to, containing):
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == to, OutboxMessage.subject.contains(containing))))


def _errors(page):
    return texts(page, "//*[contains(@class, 'govuk-error-summary')]//li")


def test_a_disputed_order_waits_in_the_exceptions_queue_with_a_link_to_its_page(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)
    sign_in(client, _officer())

    queue = parse(client.get("/council/direct-payments/exceptions"))
    page = parse(client.get(f"/council/direct-payments/orders/{order.id}"))

    assert texts(queue, "//table[@id='open-disputes']//tbody//a") == [order.reference]
    assert queue.xpath("//a[@href=$href]", href=f"/council/direct-payments/orders/{order.id}")
    assert texts(page, "//h1") == [f"Order {order.reference}"]
    assert page.xpath("//*[@id='dispute-waiting']")
    assert page.xpath("//a[@id='resolve-dispute']/@href") == [f"/council/direct-payments/orders/{order.id}/resolve"]
    assert "Nobody came on Tuesday." in " ".join(texts(page, "//*[@id='order-details']//dd"))
    assert [row[1] for row in (texts(tr, "td") for tr in page.xpath("//table[@id='order-journals']/tbody/tr"))] \
        == ["Hold"]


def test_the_officer_pays_the_provider_part_of_the_money_and_the_rest_returns_to_the_budget(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)  # 2 hours at £15.50: £31.00 held
    sign_in(client, _officer())

    answered = _decide(client, order, outcome="pay", amount="15.50", reason="Only one of the two hours happened.")
    check = parse(client.get(answered.headers["Location"]))
    confirmed = _confirm(client, order)
    done = parse(client.get(confirmed.headers["Location"]))

    assert answered.headers["Location"].endswith(f"/orders/{order.id}/resolve/check")
    assert texts(check, "//*[@id='decision-answers']//dd[contains(@class, 'govuk-summary-list__value')]") == [
        "£15.50", "£15.50", "Only one of the two hours happened."]
    assert confirmed.headers["Location"].endswith(f"/orders/{order.id}/resolved")
    assert texts(done, "//*[@id='resolved-panel']//h1") == ["Dispute resolved"]
    assert (order.state, order.captured_pence) == (OrderState.CAPTURED, 1_550)
    assert order.dispute_resolved_at is not None
    [capture] = _journals(order, JournalKind.CAPTURE)
    assert capture.stripe_object_id == order.payment_intent_id
    intent = gateway.retrieve_payment_intent(order.payment_intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", 1_550)
    assert dp_balances(shop.dp) == dp_balances(shop.dp).__class__(available=10_000 - 1_550, held=0, spent=1_550)
    exception = db.session.scalars(sa.select(SpendingException).where(SpendingException.order_id == order.id)).one()
    assert exception.reviewed_at is not None
    assert exception.review_note == "Only one of the two hours happened."
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order.dispute_resolved")).one()
    assert audit.details["reason"] == "Only one of the two hours happened."
    [to_holder] = _mail(shop.holder.email, order.reference)[-1:]
    assert "£15.50" in to_holder.body and "Only one of the two hours happened." in to_holder.body
    assert _mail(shop.provider_user.email, f"disputed order {order.reference}")


def test_the_officer_gives_all_the_money_back_and_the_card_authorisation_is_cancelled(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)
    sign_in(client, _officer())

    _decide(client, order, outcome="release", amount="", reason="The provider agreed nobody came.")
    _confirm(client, order)

    assert order.state is OrderState.CANCELLED
    assert order.dispute_resolved_at is not None
    assert len(_journals(order, JournalKind.RELEASE)) == 1
    assert _journals(order, JournalKind.CAPTURE) == []
    assert gateway.retrieve_payment_intent(order.payment_intent_id).status == "canceled"
    assert dp_balances(shop.dp) == dp_balances(shop.dp).__class__(available=10_000, held=0, spent=0)
    [to_provider] = _mail(shop.provider_user.email, f"disputed order {order.reference}")
    assert "You will not be paid for this order." in to_provider.body


def test_the_decision_page_says_what_is_missing_or_wrong_in_govuk_words(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)
    sign_in(client, _officer())

    nothing = _decide(client, order, reason="")
    too_much = _decide(client, order, outcome="pay", amount="31.01", reason="Paid in full.")
    not_money = _decide(client, order, outcome="pay", amount="lots", reason="Paid in full.")
    no_amount = _decide(client, order, outcome="pay", amount="", reason="Paid in full.")

    assert nothing.status_code == 400
    assert _errors(parse(nothing)) == ["Select what should happen to the money", "Enter the reason for your decision"]
    assert _errors(parse(too_much)) == ["Amount must be £31.00 or less: that is all the money held"]
    assert _errors(parse(not_money)) == ["Amount must be an amount of money, like 15.50"]
    assert _errors(parse(no_amount)) == ["Enter how much the provider should be paid"]
    assert order.state is OrderState.DISPUTED


def test_change_on_the_check_page_brings_back_the_answers_given(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)
    sign_in(client, _officer())
    _decide(client, order, outcome="pay", amount="20", reason="Most of it happened.")

    page = parse(client.get(f"/council/direct-payments/orders/{order.id}/resolve"))

    assert page.xpath("//input[@name='outcome'][@checked]/@value") == ["pay"]
    assert page.xpath("//input[@name='amount']/@value") == ["20.00"]
    assert texts(page, "//textarea[@name='reason']") == ["Most of it happened."]


def test_pressing_confirm_twice_settles_the_dispute_once(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)
    sign_in(client, _officer())
    _decide(client, order, outcome="pay", amount="31", reason="All delivered after all.")
    page = parse(client.get(f"/council/direct-payments/orders/{order.id}/resolve/check"))
    url = f"/council/direct-payments/orders/{order.id}/resolve/check"

    first = client.post(url, data={"csrf_token": csrf_token(page)})
    second = client.post(url, data={"csrf_token": csrf_token(page)})

    assert first.headers["Location"] == second.headers["Location"]
    assert second.headers["Location"].endswith(f"/orders/{order.id}/resolved")
    assert len(_journals(order, JournalKind.CAPTURE)) == 1
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "order.dispute_resolved")) == 1


def test_when_stripe_cannot_be_reached_the_dispute_stays_open_and_nothing_moves(client, stripe_app, localstripe):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)
    sign_in(client, _officer())
    _decide(client, order, outcome="pay", amount="15.50", reason="Half happened.")
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{localstripe_process.free_port()}"  # nobody there

    refused = _confirm(client, order)
    page = parse(client.get(refused.headers["Location"]))

    assert order.state is OrderState.DISPUTED
    assert _journals(order, JournalKind.CAPTURE) == []
    assert dp_balances(shop.dp).held == 3_100
    banner = " ".join(texts(page, "//*[contains(@class, 'govuk-notification-banner')]"))
    assert "We could not reach the card provider" in banner

    stripe_app.config["STRIPE_API_BASE"] = localstripe  # the card provider is back: the same answers still work
    _confirm(client, order)

    assert (order.state, order.captured_pence) == (OrderState.CAPTURED, 1_550)


def test_a_card_dispute_on_a_paid_order_is_shown_but_cannot_move_money_again(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    sign_in(client, shop.holder)
    add_to_basket(client, shop.offer, 1)
    check_out(client)
    order = db.session.scalars(sa.select(Order).where(Order.dp_account_id == shop.dp.id)).one()
    with stripe_app.test_request_context():  # the holder's emails link back to the order
        lifecycle.accept(actor=shop.provider_user, order=order)
        lifecycle.record_delivery(actor=shop.provider_user, order=order, delivered_units=1)
        lifecycle.confirm(actor=shop.holder, order=order)
        lifecycle.capture(actor=shop.holder, order=order)
    payment_events.dispute_opened(order, {"id": "dp_test_1", "reason": "fraudulent", "amount": 1_550})
    db.session.flush()
    sign_in(client, _officer())

    queue = parse(client.get("/council/direct-payments/exceptions"))
    page = parse(client.get(f"/council/direct-payments/orders/{order.id}"))
    resolve = client.get(f"/council/direct-payments/orders/{order.id}/resolve")

    assert texts(queue, "//table[@id='open-disputes']//tbody//a") == [order.reference]
    assert page.xpath("//*[@id='card-dispute']")
    assert not page.xpath("//*[@id='resolve-dispute']")
    assert resolve.headers["Location"].endswith(f"/council/direct-payments/orders/{order.id}")
    assert order.state is OrderState.CAPTURED
    assert db.session.scalar(sa.select(sa.func.count(SpendingException.id)).where(
        SpendingException.order_id == order.id, SpendingException.kind == ExceptionKind.DISPUTE)) == 1


def test_only_direct_payments_officers_open_a_councils_order_page(client, stripe_app):
    shop = make_shop(budget_pence=10_000)
    order = _disputed_order(client, shop)

    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))
    moderator = client.get(f"/council/direct-payments/orders/{order.id}")
    sign_in(client, _officer())
    unknown = client.get("/council/direct-payments/orders/8d9c8f8e-1111-4b1b-9a9a-2f2f2f2f2f2f")

    assert moderator.status_code == 403
    assert unknown.status_code == 404
