"""Reconciliation: does Stripe agree with our orders and our ledger?

For every order with a PaymentIntent, Stripe's view (status, amount_capturable, amount_received) is compared with
the order's state and with the capture journals filed under that intent (Journal.stripe_object_id). Each
difference is returned in plain English and recorded as a SpendingException (RECONCILIATION) for the council,
once per order and problem until someone reviews it. Run daily: `flask ledger reconcile` exits 1 on any difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Entry,
    ExceptionKind,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    Order,
    OrderState,
    SpendingException,
)
from portal.payments import gateway
from portal.payments.gateway import PaymentResult
from portal.payments.spending import record_exception

# Before a card authorisation is finished, Stripe may show any of these.
_UNFINISHED = {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
# Money authorised on the card and not yet taken: Stripe must hold exactly the order's amount.
_HOLDING = {OrderState.REQUESTED, OrderState.ACCEPTED, OrderState.DELIVERED, OrderState.CONFIRMED}
_RELEASED = {OrderState.CANCELLED, OrderState.DECLINED, OrderState.FAILED}


@dataclass(frozen=True)
class Difference:
    order_reference: str
    payment_intent_id: str
    problem: str

    def __str__(self) -> str:
        return f"order {self.order_reference} ({self.payment_intent_id}): {self.problem}"


def captured_in_ledger(payment_intent_id: str) -> int:
    """Pence moved to provider payables by capture journals filed under this PaymentIntent."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Entry.amount_pence), 0))
        .join(Journal, Journal.id == Entry.journal_id)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(
            Journal.kind == JournalKind.CAPTURE,
            Journal.stripe_object_id == payment_intent_id,
            LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE,
        )
    )


def problems_with(order: Order, intent: PaymentResult, ledger_pence: int) -> list[str]:
    """What does not agree between one order, Stripe's PaymentIntent and the ledger (pure: no queries)."""
    found = []
    state, status = order.state, intent.status
    if intent.amount != order.amount_pence:
        found.append(f"Stripe authorised {intent.amount}p but the order is for {order.amount_pence}p")
    if state is OrderState.PENDING_PAYMENT and status not in _UNFINISHED:
        found.append(f"the order is still waiting for the card but Stripe says {status}")
    elif state in _HOLDING and (status != "requires_capture" or intent.amount_capturable != order.amount_pence):
        found.append(f"the order ({state.value}) should hold {order.amount_pence}p on the card but Stripe says "
                     f"{status} with {intent.amount_capturable}p capturable")
    elif state is OrderState.CAPTURED and status != "succeeded":
        found.append(f"the order is captured but Stripe says {status}")
    elif state in _RELEASED and status not in {"canceled", "requires_payment_method"}:
        found.append(f"the order is {state.value} but Stripe says {status}")
    captured = order.captured_pence or 0
    if intent.amount_received != captured:
        found.append(f"Stripe received {intent.amount_received}p but the order records {captured}p captured")
    if ledger_pence != intent.amount_received:
        found.append(f"capture journals move {ledger_pence}p but Stripe received {intent.amount_received}p")
    return found


def _orders() -> Iterator[Order]:
    query = sa.select(Order).where(Order.payment_intent_id.is_not(None)).order_by(Order.created_at)
    yield from db.session.scalars(query.execution_options(yield_per=200))


def _already_open(order: Order, problem: str) -> bool:
    open_exceptions = db.session.scalars(sa.select(SpendingException).where(
        SpendingException.kind == ExceptionKind.RECONCILIATION,
        SpendingException.order_id == order.id,
        SpendingException.reviewed_at.is_(None),
    ))
    return any((exception.details or {}).get("problem") == problem for exception in open_exceptions)


def reconcile() -> list[Difference]:
    """Compare every order that has a PaymentIntent with Stripe. Raises PaymentUnavailable if Stripe cannot be
    reached (nothing is recorded then). Records a SpendingException per new difference; never commits."""
    differences = []
    for order in list(_orders()):
        try:
            intent = gateway.retrieve_payment_intent(order.payment_intent_id)
        except gateway.PaymentUnavailable:
            raise
        except gateway.PaymentError as error:
            problems = [f"Stripe does not know this payment intent ({error})"]
        else:
            problems = problems_with(order, intent, captured_in_ledger(order.payment_intent_id))
        for problem in problems:
            differences.append(Difference(order.reference, order.payment_intent_id, problem))
            if not _already_open(order, problem):
                record_exception(ExceptionKind.RECONCILIATION, order=order, details={
                    "order": order.reference, "payment_intent": order.payment_intent_id, "problem": problem,
                })
    return differences
