"""Handlers for Stripe's payment events: find our object, then call the order hook in
portal/marketplace/payment_events.py. An event about an object we do not know is parked for the council."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from portal.extensions import db
from portal.marketplace import payment_events
from portal.models import DirectPaymentAccount, Order, PaymentCard
from portal.payments.events import Outcome, ignored, on_event, parked, processed
from portal.payments.gateway import payment_result


def _object(event: dict) -> dict:
    return event["data"]["object"]


def _order_for_intent(intent_id: str | None) -> Order | None:
    if not intent_id:
        return None
    return db.session.scalar(sa.select(Order).where(Order.payment_intent_id == intent_id).with_for_update())


def _outcome(changed: bool, order: Order, what: str) -> Outcome:
    if changed:
        return processed(f"order {order.reference}: {what}")
    return ignored(f"order {order.reference} is already {order.state.value}")


def _intent_event(event: dict):
    intent = payment_result(_object(event))
    order = _order_for_intent(intent.id) or _order_not_yet_linked(intent.metadata.get("order_id"), intent.id)
    return intent, order


def _order_not_yet_linked(order_id: str | None, intent_id: str) -> Order | None:
    """With real Stripe an event can arrive before our request committed the intent's id on the order: the
    intent's metadata names the order. Only an order with no intent yet is linked; an order that has moved on to
    another intent (a renewed authorisation) is not, so the old intent's events are parked."""
    try:
        order_uuid = uuid.UUID(order_id) if order_id else None
    except ValueError:
        return None
    if order_uuid is None:
        return None
    order = db.session.scalar(sa.select(Order).where(Order.id == order_uuid).with_for_update())
    if order is None or order.payment_intent_id not in (None, intent_id):
        return None
    order.payment_intent_id = intent_id
    return order


@on_event("payment_intent.amount_capturable_updated")
def authorised(event: dict) -> Outcome:
    intent, order = _intent_event(event)
    if order is None:
        return parked(f"no order has payment intent {intent.id}")
    if intent.status != "requires_capture":
        return ignored(f"payment intent {intent.id} is {intent.status}")
    return _outcome(payment_events.authorisation_confirmed(order, intent), order, "card authorised")


@on_event("payment_intent.requires_action")
def requires_action(event: dict) -> Outcome:
    intent, order = _intent_event(event)
    if order is None:
        return parked(f"no order has payment intent {intent.id}")
    return _outcome(payment_events.authorisation_needs_action(order, intent), order, "waiting for 3-D Secure")


@on_event("payment_intent.payment_failed")
def payment_failed(event: dict) -> Outcome:
    intent, order = _intent_event(event)
    if order is None:
        return parked(f"no order has payment intent {intent.id}")
    code = intent.error_code or "card_declined"
    return _outcome(payment_events.authorisation_failed(order, intent, code), order, f"card declined ({code})")


@on_event("payment_intent.canceled")
def cancelled(event: dict) -> Outcome:
    intent, order = _intent_event(event)
    if order is None:
        return parked(f"no order has payment intent {intent.id}")
    return _outcome(payment_events.authorisation_cancelled(order, intent), order, "authorisation ended")


@on_event("payment_intent.succeeded")
def succeeded(event: dict) -> Outcome:
    intent, order = _intent_event(event)
    if order is None:
        return parked(f"no order has payment intent {intent.id}")
    return _outcome(payment_events.capture_confirmed(order, intent), order, f"captured {intent.amount_received}p")


@on_event("charge.dispute.created")
def dispute_created(event: dict) -> Outcome:
    dispute = _object(event)
    intent_id = dispute.get("payment_intent")
    order = _order_for_intent(intent_id.get("id") if isinstance(intent_id, dict) else intent_id)
    if order is None:
        return parked(f"dispute {dispute.get('id')} is about a payment we do not know")
    return _outcome(payment_events.dispute_opened(order, dispute), order, "disputed: frozen for the council")


@on_event("setup_intent.succeeded")
def card_set_up(event: dict) -> Outcome:
    """The holder's card was set up at Stripe. The card page registers it when the browser posts back; this only
    checks we know the customer (an unknown one is parked) and notes whether the card is registered yet."""
    setup = _object(event)
    customer = setup.get("customer")
    customer = customer.get("id") if isinstance(customer, dict) else customer
    payment_method = setup.get("payment_method")
    payment_method = payment_method.get("id") if isinstance(payment_method, dict) else payment_method
    account = db.session.scalar(sa.select(DirectPaymentAccount).where(
        DirectPaymentAccount.stripe_customer_id == customer)) if customer else None
    card = db.session.scalar(sa.select(PaymentCard).where(
        PaymentCard.stripe_payment_method_id == payment_method)) if payment_method else None
    if account is None and card is None:
        return parked(f"set-up intent {setup.get('id')} is for a customer we do not know")
    if card is not None:
        return processed(f"card {payment_method} is registered")
    return ignored(f"card {payment_method} set up for {account.reference}, not registered through the card page")
