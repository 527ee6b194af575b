"""What Stripe's payment events mean for an order: the interface between the webhook handlers
(portal/payments/webhook_handlers.py, which find the order) and the order's lifecycle (portal/marketplace/orders.py
and authorisations.py, whose functions these call, so a webhook and a request make a move the same way).

Each hook takes the order and Stripe's object as plain data, moves the order forward only, and returns True when
it changed something, False when the order had already passed that point (a replay, or events arriving out of
order: Stripe does not promise their order). None of them commits. Money moves use the lifecycle's own ledger
keys (``release:<order id>``, ``capture:<order id>``), so whichever of the request and the webhook comes second
finds the journal already posted.
"""

from __future__ import annotations

from portal.data.audit import record
from portal.ledger import ledger_account, post_journal
from portal.marketplace import authorisations
from portal.marketplace import orders as lifecycle
from portal.models import ExceptionKind, JournalKind, LedgerAccountKind, Order, OrderState, utcnow
from portal.payments.gateway import PaymentResult
from portal.payments.spending import record_exception

# Before the provider has delivered, an authorisation that ends takes the order with it.
_CANCELLABLE = {OrderState.PENDING_PAYMENT, OrderState.REQUESTED, OrderState.ACCEPTED}


def authorisation_confirmed(order: Order, intent: PaymentResult) -> bool:
    """The card authorised the amount (``requires_capture``): a pending order goes to the provider."""
    return authorisations.mark_authorised(order, intent, actor=None)


def authorisation_needs_action(order: Order, intent: PaymentResult) -> bool:
    """The bank wants 3-D Secure: the order stays pending until the holder completes it."""
    if order.state is not OrderState.PENDING_PAYMENT or order.payment_status == intent.status:
        return False
    order.payment_status = intent.status
    return True


def authorisation_failed(order: Order, intent: PaymentResult, code: str) -> bool:
    """The card declined (``code``, e.g. insufficient_funds): a pending order fails and its hold is released."""
    if order.state is not OrderState.PENDING_PAYMENT:
        return False
    order.payment_status = intent.status
    return authorisations.mark_failed(order, code=code, actor=None)


def authorisation_cancelled(order: Order, intent: PaymentResult) -> bool:
    """The authorisation ended (cancelled, or lapsed after 7 days). Before delivery the order is cancelled and the
    hold released; after delivery the money can no longer be taken, which the council must see."""
    if order.state in _CANCELLABLE:
        order.payment_status = intent.status
        lifecycle.end_with_release(order, OrderState.CANCELLED, actor=None, action="authorisation_cancelled",
                                   memo="card authorisation ended", details={"payment_intent": intent.id},
                                   cancel_card=False)
        order.cancelled_at = order.cancelled_at or utcnow()
        return True
    if order.state in {OrderState.DELIVERED, OrderState.CONFIRMED, OrderState.DISPUTED}:
        if order.payment_status == "canceled":
            return False
        order.payment_status = intent.status
        record_exception(ExceptionKind.RECONCILIATION, order=order, details={
            "payment_intent": intent.id, "order": order.reference, "state": order.state,
            "problem": "the card authorisation ended after delivery, before the money was captured",
        })
        return True
    return False


def capture_confirmed(order: Order, intent: PaymentResult) -> bool:
    """Stripe says the payment was captured (``succeeded``). Normally the capture request already recorded it; if
    that request failed after Stripe captured (a crash before our commit), finish the capture here."""
    if order.state is OrderState.CAPTURED:
        if order.payment_status == "succeeded":
            return False
        order.payment_status = intent.status
        return True
    if order.state is not OrderState.CONFIRMED:
        order.payment_status = intent.status
        record_exception(ExceptionKind.RECONCILIATION, order=order, details={
            "payment_intent": intent.id, "order": order.reference, "state": order.state,
            "problem": "Stripe captured money for an order that was not confirmed",
        })
        return True
    captured = min(intent.amount_received, order.amount_pence)
    lines = [(ledger_account(LedgerAccountKind.DP_HELD, dp_account=order.dp_account), -order.amount_pence),
             (ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=order.organisation), captured)]
    if order.amount_pence - captured:
        lines.append((ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=order.dp_account),
                      order.amount_pence - captured))
    lifecycle.move(order, OrderState.CAPTURED, actor=None, action="captured",
                   details={"captured_pence": captured, "from": "stripe webhook"})
    post_journal(kind=JournalKind.CAPTURE, key=lifecycle.capture_key(order), lines=[line for line in lines if line[1]],
                 memo=f"Order {order.reference}", dp_account=order.dp_account, order=order,
                 stripe_object_id=intent.id)
    order.payment_status = intent.status
    order.captured_pence = captured
    order.captured_at = order.captured_at or utcnow()
    order.payment_error = ""
    return True


def dispute_opened(order: Order, dispute: dict) -> bool:
    """The holder's bank disputes the payment: freeze the order for the council.

    An order still in progress becomes DISPUTED (the money stays held). A captured order keeps its final state
    (its money has moved, and the ledger's held balance must not count it again) but is marked disputed, with a
    DISPUTE exception, so the council sees it and payouts can hold it back."""
    if order.disputed_at is not None:
        return False
    reason = str(dispute.get("reason") or "card dispute")
    if lifecycle.can_move(order, OrderState.DISPUTED):
        lifecycle.dispute(actor=None, order=order, reason=reason)
        return True
    order.disputed_at = utcnow()
    order.dispute_reason = reason
    record(actor=None, action="order.disputed", subject=order, details={
        "reference": order.reference, "dispute": dispute.get("id"), "state": order.state})
    record_exception(ExceptionKind.DISPUTE, order=order, details={
        "reference": order.reference, "reason": reason, "dispute": dispute.get("id"), "amount": dispute.get("amount"),
        "payment_intent": order.payment_intent_id,
    })
    return True
