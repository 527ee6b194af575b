"""Fifty checkouts at once against one direct-payment account, on SQLite and PostgreSQL with real commits and real
card authorisations at localstripe: the account's row lock lets exactly as many through as the balance pays for."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from portal.extensions import db
from portal.ledger import check_invariants, dp_balances
from portal.marketplace import authorisations, checkout
from portal.models import BasketItem, DirectPaymentAccount, ExceptionKind, Order, OrderState, SpendingException, User
from portal.payments import gateway
from tests.conftest import make_app
from tests.support.checkout_factories import make_shop
from tests.support.localstripe import localstripe_fixture  # noqa: F401

PRICE = 1_550
AFFORDABLE = 20


def _check_out_one(app, holder_id, dp_id, item_id, outcomes, start):
    # A POST request context, as the checkout route runs in (SQLite takes its write lock up front).
    with app.app_context(), app.test_request_context("/direct-payment/checkout", method="POST"):
        start.wait()
        try:
            holder = db.session.get(User, holder_id)
            try:
                orders = checkout.place_orders(actor=holder, dp_account_id=dp_id, item_ids=[item_id])
            except checkout.SpendingRefused as refused:
                db.session.rollback()
                checkout.record_refusal(refused, actor=holder, dp_account_id=dp_id)
                db.session.commit()
                outcomes.append("refused")
                return
            db.session.commit()
            outcome = authorisations.authorise(actor=holder, order=orders[0])
            db.session.commit()
            outcomes.append(outcome.value)
        finally:
            db.session.remove()


def test_fifty_concurrent_checkouts_never_spend_more_than_the_account_holds(committed_database_url, tmp_path,
                                                                           localstripe):
    app = make_app(committed_database_url, SEARCH_INDEX_DIR=str(tmp_path / "index"), STRIPE_API_BASE=localstripe)
    with app.app_context(), app.test_request_context():
        shop = make_shop(budget_pence=PRICE * AFFORDABLE, price_pence=PRICE)
        items = [BasketItem(dp_account_id=shop.dp.id, offer_id=shop.offer.id, units=1) for _ in range(50)]
        db.session.add_all(items)
        db.session.commit()
        holder_id, dp_id, item_ids = shop.holder.id, shop.dp.id, [item.id for item in items]
        db.session.remove()

    outcomes: list[str] = []
    start = threading.Barrier(50)
    workers = [threading.Thread(target=_check_out_one, args=(app, holder_id, dp_id, item_id, outcomes, start))
               for item_id in item_ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with app.app_context():
        account = db.session.get(DirectPaymentAccount, dp_id)
        orders = list(db.session.scalars(sa.select(Order).where(Order.dp_account_id == dp_id)))
        refusals = db.session.scalar(sa.select(sa.func.count(SpendingException.id)).where(
            SpendingException.dp_account_id == dp_id, SpendingException.kind == ExceptionKind.OVER_BALANCE))
        intents = {order.payment_intent_id: gateway.retrieve_payment_intent(order.payment_intent_id)
                   for order in orders}
        assert sorted(outcomes) == ["authorised"] * AFFORDABLE + ["refused"] * (50 - AFFORDABLE)
        assert [order.state for order in orders] == [OrderState.REQUESTED] * AFFORDABLE
        assert refusals == 50 - AFFORDABLE
        assert dp_balances(account).available == 0
        assert dp_balances(account).held == PRICE * AFFORDABLE
        assert len(intents) == AFFORDABLE
        assert {(intent.status, intent.amount_capturable) for intent in intents.values()} == {
            ("requires_capture", PRICE)}
        assert check_invariants() == []
        db.session.remove()
        db.engine.dispose()
