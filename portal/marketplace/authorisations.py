"""The card side of an order: authorising it after checkout, finishing 3-D Secure, retrying when Stripe was
unreachable, and renewing authorisations that would lapse before delivery.

One PaymentIntent per order, manual capture, created with the hold journal's key (``hold:{order.id}``) as its
idempotency key: the gateway looks for an intent already carrying that key before it creates one, so a retry (the
holder's button, ``flask orders retry-payments``) finds the first attempt instead of authorising the card twice.
Every function here is called after the order and its hold were committed, and never commits.

The same moves are made by Stripe's webhooks through portal/marketplace/payment_events.py; both check the order's
state first, so whichever comes second changes nothing.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.data.audit import record
from portal.extensions import db
from portal.marketplace import orders as lifecycle
from portal.models import ExceptionKind, Order, OrderState, User, utcnow
from portal.payments import gateway
from portal.payments.cards import active_card
from portal.payments.gateway import PaymentDeclined, PaymentError, PaymentResult, PaymentUnavailable
from portal.payments.spending import record_exception

log = logging.getLogger(__name__)

UNREACHABLE = _l("We could not reach the card provider, so your card has not been charged yet. Nothing has been "
                 "lost: your money is kept for this order. Try again in a few minutes.")
NO_CARD = _l("There is no card on your account. Add your prepaid card, then try again.")
RENEW_WITHIN = timedelta(hours=24)


class Outcome(enum.Enum):
    AUTHORISED = "authorised"
    NEEDS_AUTHENTICATION = "needs_authentication"  # 3-D Secure: the holder finishes it in the browser
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"  # Stripe unreachable: the order stays pending; retry later
    UNCHANGED = "unchanged"  # the order had already moved on


def _metadata(order: Order) -> dict[str, str]:
    return {"order_id": str(order.id), "order_reference": order.reference,
            "dp_account_id": str(order.dp_account_id)}


def authorise(*, actor: User | None, order: Order, first_attempt: bool = False) -> Outcome:
    """Ask the card to authorise a PENDING_PAYMENT order's amount (or find the earlier attempt).

    ``first_attempt`` only from the checkout request that created the order: nothing can have reached Stripe for it
    yet, so the gateway need not look for an earlier intent under the same key (retries always look)."""
    if order.state is not OrderState.PENDING_PAYMENT:
        return Outcome.UNCHANGED
    card = active_card(order.dp_account)
    customer = order.dp_account.stripe_customer_id
    try:
        if order.payment_intent_id:
            result = gateway.retrieve_payment_intent(order.payment_intent_id)
            if result.status == "requires_payment_method" and result.error_code:
                raise PaymentDeclined(result.error_code, payment_intent_id=result.id)
        elif card is None or not customer:
            order.payment_error = str(NO_CARD)
            return Outcome.UNAVAILABLE
        else:
            result = gateway.create_authorisation(
                amount_pence=order.amount_pence, customer_id=customer, payment_method_id=card.stripe_payment_method_id,
                idempotency_key=lifecycle.hold_key(order), metadata=_metadata(order), first_attempt=first_attempt)
    except PaymentDeclined as declined:
        if declined.payment_intent_id and not order.payment_intent_id:
            order.payment_intent_id = declined.payment_intent_id
        mark_failed(order, code=declined.code, actor=actor)
        return Outcome.DECLINED
    except PaymentUnavailable:
        log.warning("card provider unreachable while authorising order %s", order.reference)
        order.payment_error = str(UNREACHABLE)
        return Outcome.UNAVAILABLE
    except PaymentError:
        log.exception("card provider refused the authorisation request for order %s", order.reference)
        order.payment_error = str(UNREACHABLE)
        return Outcome.UNAVAILABLE
    return apply_result(order, result, actor=actor)


def apply_result(order: Order, result: PaymentResult, *, actor: User | None) -> Outcome:
    """Move a pending order on from what Stripe says about its PaymentIntent."""
    order.payment_intent_id = order.payment_intent_id or result.id
    if result.status == "requires_capture":
        return Outcome.AUTHORISED if mark_authorised(order, result, actor=actor) else Outcome.UNCHANGED
    if result.status in ("requires_action", "requires_confirmation", "processing"):
        order.payment_status = result.status
        order.payment_error = ""
        return Outcome.NEEDS_AUTHENTICATION
    mark_failed(order, code=result.error_code or "payment_intent_authentication_failure", actor=actor)
    return Outcome.DECLINED


def mark_authorised(order: Order, result: PaymentResult, *, actor: User | None = None) -> bool:
    """The card authorised the amount: the order goes to the provider (emailed). False if already past that."""
    if order.state is not OrderState.PENDING_PAYMENT:
        return False
    lifecycle.move(order, OrderState.REQUESTED, actor=actor, action="authorised",
                   details={"payment_intent": result.id})
    order.payment_intent_id = order.payment_intent_id or result.id
    order.payment_status = result.status
    order.payment_error = ""
    order.authorised_at = utcnow()
    order.authorisation_expires_at = order.authorised_at + timedelta(days=lifecycle.AUTHORISATION_DAYS)
    lifecycle.notify_provider_of_new_order(order)
    return True


def mark_failed(order: Order, *, code: str, actor: User | None = None) -> bool:
    """The card declined: FAILED, the hold released, a CARD_DECLINED exception. False if already past that."""
    if order.state is not OrderState.PENDING_PAYMENT:
        return False
    order.payment_status = order.payment_status or "requires_payment_method"
    order.payment_error = str(gateway.decline_message(code))
    lifecycle.end_with_release(order, OrderState.FAILED, actor=actor, action="payment_failed",
                               memo="card declined", details={"code": code}, cancel_card=False)
    record_exception(ExceptionKind.CARD_DECLINED, order=order, actor=actor,
                     details={"reference": order.reference, "code": code, "payment_intent": order.payment_intent_id})
    return True


def next_needing_authentication(order: Order) -> Order | None:
    """Another order of the same checkout still waiting for the holder's 3-D Secure check, if any."""
    return db.session.scalar(
        sa.select(Order).where(Order.dp_account_id == order.dp_account_id,
                               Order.checkout_reference == order.checkout_reference, Order.id != order.id,
                               Order.state == OrderState.PENDING_PAYMENT, Order.payment_status == "requires_action")
        .order_by(Order.created_at).limit(1))


def client_secret(order: Order) -> str | None:
    """The PaymentIntent's client secret, for Stripe.js to finish 3-D Secure. Raises PaymentUnavailable."""
    if order.state is not OrderState.PENDING_PAYMENT or not order.payment_intent_id:
        return None
    result = gateway.retrieve_payment_intent(order.payment_intent_id)
    return result.client_secret if result.status == "requires_action" else None


def retry_pending(*, older_than: datetime) -> dict[Outcome, int]:
    """``flask orders retry-payments``: authorise pending orders whose card call did not finish (Stripe was
    unreachable, or the process stopped). Orders waiting for the holder's 3-D Secure are left to the holder."""
    counts: dict[Outcome, int] = {}
    pending = db.session.scalars(
        sa.select(Order).where(Order.state == OrderState.PENDING_PAYMENT, Order.created_at <= older_than,
                               sa.or_(Order.payment_intent_id.is_(None),
                                      Order.payment_status.notin_(["requires_action"])))
        .order_by(Order.created_at)).all()
    for order in pending:
        outcome = authorise(actor=None, order=order)
        counts[outcome] = counts.get(outcome, 0) + 1
        db.session.flush()
    return counts


# --- Renewing authorisations -----------------------------------------------------------------------------------


def due_for_renewal(now: datetime) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.state.in_([OrderState.REQUESTED, OrderState.ACCEPTED]),
                               Order.authorisation_expires_at <= now + RENEW_WITHIN)
        .order_by(Order.authorisation_expires_at)))


def renew(*, order: Order) -> Outcome:
    """Replace an authorisation that would lapse before delivery with a new one (new intent, new key).

    The ledger hold stays as it is throughout: the money never becomes spendable in between. If the card will not
    authorise again (declined, or it wants the holder present for 3-D Secure), the order is cancelled, the hold
    released and the holder told. Stripe unreachable: nothing changes; the next run tries again."""
    old_intent = order.payment_intent_id
    card = active_card(order.dp_account)
    try:
        if card is None:
            raise PaymentDeclined("card_not_supported")
        result = gateway.create_authorisation(
            amount_pence=order.amount_pence, customer_id=order.dp_account.stripe_customer_id,
            payment_method_id=card.stripe_payment_method_id, idempotency_key=f"reauthorise:{order.id}:{old_intent}",
            metadata={**_metadata(order), "replaces": old_intent or ""})
        if result.status != "requires_capture":
            gateway.cancel_authorisation(result.id, f"cancel:{result.id}")
            raise PaymentDeclined(result.error_code or "authentication_required", payment_intent_id=result.id)
    except PaymentDeclined as declined:
        lifecycle.end_with_release(order, OrderState.CANCELLED, actor=None, action="authorisation_lapsed",
                                   memo="card authorisation could not be renewed", details={"code": declined.code})
        order.cancelled_at = utcnow()
        order.payment_error = str(declined.message)
        record_exception(ExceptionKind.CARD_DECLINED, order=order,
                         details={"reference": order.reference, "code": declined.code, "renewal": True})
        lifecycle.notify_holder(order, "order_cancelled_lapsed")
        return Outcome.DECLINED
    except PaymentError:
        log.exception("could not renew the authorisation of order %s", order.reference)
        return Outcome.UNAVAILABLE
    order.payment_intent_id = result.id
    order.payment_status = result.status
    order.authorised_at = utcnow()
    order.authorisation_expires_at = order.authorised_at + timedelta(days=lifecycle.AUTHORISATION_DAYS)
    record(actor=None, action="order.reauthorised", subject=order, organisation_id=order.organisation_id,
           before={"payment_intent": old_intent}, after={"payment_intent": result.id},
           details={"reference": order.reference})
    if old_intent:
        try:
            gateway.cancel_authorisation(old_intent, f"cancel:{old_intent}")
        except PaymentError:  # it lapses by itself within a day; the new one is what we capture
            log.warning("could not cancel the replaced authorisation %s of order %s", old_intent, order.reference)
    return Outcome.AUTHORISED
