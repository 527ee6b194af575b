"""Checkout at /direct-payment/checkout: check your answers, confirm and pay, then the confirmation page.

POST places the orders and holds the money (committed), then asks the card for each order (committed again):
a card that wants 3-D Secure sends the holder to that order's authentication page; Stripe being unreachable
leaves the order waiting with a retry button on its page. A refused checkout is rolled back and recorded for the
council in a transaction of its own (portal/marketplace/checkout.py)."""

from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.data.dp_access import dp_account_for
from portal.extensions import db
from portal.holder import bp
from portal.ledger import dp_balances
from portal.marketplace import authorisations, basket, checkout
from portal.marketplace import orders as lifecycle
from portal.payments.cards import active_card


class PlaceOrderForm(FlaskForm):
    pass


def _account():
    return dp_account_for(current_user)


def _check_answers(account, *, problems=(), status=200):
    return render_template("holder/checkout.html", account=account, summary=basket.summary(account),
                           card=active_card(account), balances=dp_balances(account), form=PlaceOrderForm(),
                           problems=problems), status


@bp.get("/checkout")
def checkout_page():
    account = _account()
    if not basket.items_of(account):
        return redirect(url_for("holder.basket_page"))
    return _check_answers(account)


@bp.post("/checkout")
def place_order():
    account = _account()
    if not PlaceOrderForm().validate_on_submit():
        return redirect(url_for("holder.checkout_page"))
    item_ids = _item_ids(request.form.getlist("item"))
    try:
        orders = checkout.place_orders(actor=current_user, dp_account_id=account.id, item_ids=item_ids)
    except checkout.SpendingRefused as refused:
        db.session.rollback()
        checkout.record_refusal(refused, actor=current_user, dp_account_id=account.id)
        db.session.commit()
        return _check_answers(account, problems=refused.problems, status=409)
    db.session.commit()  # the orders and their holds are safe before the card is asked
    outcomes = {}
    for order in orders:
        outcomes[order.id] = authorisations.authorise(actor=current_user, order=order, first_attempt=True)
        db.session.commit()
    for order in orders:
        if outcomes[order.id] is authorisations.Outcome.NEEDS_AUTHENTICATION:
            return redirect(url_for("holder.authenticate_payment", order_id=order.id))
    return redirect(url_for("holder.checkout_confirmation", reference=orders[0].checkout_reference))


@bp.get("/checkout/<reference>/confirmation")
def checkout_confirmation(reference: str):
    account = _account()
    placed = checkout.orders_of_checkout(account, reference)
    if not placed:
        return redirect(url_for("holder.orders"))
    return render_template("holder/checkout_confirmation.html", account=account, reference=reference,
                           orders=placed, balances=dp_balances(account), labels=lifecycle.STATE_LABELS)


def _item_ids(values: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids
