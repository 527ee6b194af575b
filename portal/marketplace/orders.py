"""Orders: the state machine, and the money each move makes.

States move forward only, along TRANSITIONS; anything else raises InvalidTransition. Every move is audited in the
caller's transaction, and the ledger moves agreed in the money briefing go with it:

- checkout posts HOLD ``hold:{order.id}`` (available -> held) with the order (portal/marketplace/checkout.py);
- declined by the card, declined by the provider, cancelled, or nothing delivered: RELEASE ``release:{order.id}``
  (held -> available, the full amount), after the card authorisation is cancelled at Stripe;
- captured: one CAPTURE ``capture:{order.id}`` (held -amount, provider payable +captured, available +remainder).

Card calls happen before the ledger move they justify (cancel, then release; capture, then the capture journal):
if Stripe cannot be reached the order does not move and nothing is lost; calling again is safe, because the
gateway answers an already cancelled or captured intent as it is and journals are idempotent by key.
Functions never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import mail
from portal.data.access import NotPermitted, organisation_ids_of
from portal.data.audit import record
from portal.data.dp_access import accounts_for
from portal.data.reports import organisation_recipients
from portal.extensions import db
from portal.ledger import ledger_account, post_journal, transfer
from portal.models import (
    DirectPaymentAccount,
    ExceptionKind,
    JournalKind,
    LedgerAccountKind,
    Order,
    OrderState,
    User,
    utcnow,
)
from portal.payments import gateway
from portal.payments.spending import record_exception

AUTHORISATION_DAYS = 7  # Stripe keeps an uncaptured card authorisation for 7 days
AUTO_CONFIRM_DAYS = 7  # a delivered order the holder neither confirms nor disputes is confirmed after this
REASON_MAX = 2000

S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.PENDING_PAYMENT: frozenset({S.REQUESTED, S.FAILED, S.CANCELLED}),
    S.REQUESTED: frozenset({S.ACCEPTED, S.DECLINED, S.CANCELLED, S.DISPUTED}),
    S.ACCEPTED: frozenset({S.DELIVERED, S.CANCELLED, S.DISPUTED}),
    S.DELIVERED: frozenset({S.CONFIRMED, S.DISPUTED}),
    S.CONFIRMED: frozenset({S.CAPTURED, S.DISPUTED}),
    S.DISPUTED: frozenset({S.CAPTURED, S.CANCELLED}),  # the council resolves: capture an amount, or release
    S.DECLINED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
    S.CAPTURED: frozenset(),
}

STATE_LABELS = {
    S.PENDING_PAYMENT: (_l("Waiting for card payment"), "govuk-tag--yellow"),
    S.REQUESTED: (_l("Waiting for the provider"), "govuk-tag--blue"),
    S.ACCEPTED: (_l("Accepted"), "govuk-tag--turquoise"),
    S.DECLINED: (_l("Declined by the provider"), "govuk-tag--grey"),
    S.CANCELLED: (_l("Cancelled"), "govuk-tag--grey"),
    S.FAILED: (_l("Card payment failed"), "govuk-tag--red"),
    S.DELIVERED: (_l("Delivered"), "govuk-tag--purple"),
    S.CONFIRMED: (_l("Delivery confirmed"), "govuk-tag--green"),
    S.CAPTURED: (_l("Paid"), "govuk-tag--green"),
    S.DISPUTED: (_l("Disputed"), "govuk-tag--red"),
}


class OrderError(Exception):
    """The order cannot do what was asked."""


class InvalidTransition(OrderError):
    """The order's state does not allow the move (e.g. accepting a cancelled order)."""

    def __init__(self, order: Order, to: OrderState):
        super().__init__(f"order {order.reference} cannot move from {order.state.value} to {to.value}")
        self.order = order
        self.to = to


class InvalidDelivery(OrderError):
    """Delivered units must be between 0 and the units ordered."""


def hold_key(order: Order) -> str:
    return f"hold:{order.id}"


def release_key(order: Order) -> str:
    return f"release:{order.id}"


def capture_key(order: Order) -> str:
    return f"capture:{order.id}"


def can_move(order: Order, to: OrderState) -> bool:
    return to in TRANSITIONS[order.state]


def move(order: Order, to: OrderState, *, actor: User | None, action: str, details: dict | None = None) -> None:
    """Move the order to ``to`` and audit it. Raises InvalidTransition."""
    if not can_move(order, to):
        raise InvalidTransition(order, to)
    before = order.state
    order.state = to
    record(actor=actor, action=f"order.{action}", subject=order, before={"state": before},
           after={"state": to, **(details or {})}, details={"reference": order.reference})


# --- Finding orders --------------------------------------------------------------------------------------------


def orders_of(dp_account: DirectPaymentAccount) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.dp_account_id == dp_account.id).order_by(Order.created_at.desc(), Order.id)))


def order_for_holder(user: User, order_id: uuid.UUID) -> Order:
    """An order of an account ``user`` acts for. Raises NotPermitted (answered as 404)."""
    account_ids = [account.id for account in accounts_for(user)]
    order = db.session.get(Order, order_id)
    if order is None or order.dp_account_id not in account_ids:
        raise NotPermitted(order_id)
    return order


def orders_for_provider(user: User, *, state: OrderState | None = None) -> list[Order]:
    query = sa.select(Order).where(Order.organisation_id.in_(organisation_ids_of(user)),
                                   Order.state != OrderState.PENDING_PAYMENT, Order.state != OrderState.FAILED)
    if state is not None:
        query = query.where(Order.state == state)
    return list(db.session.scalars(query.order_by(Order.created_at.desc(), Order.id)))


def order_for_provider(user: User, order_id: uuid.UUID) -> Order:
    """An order placed with one of ``user``'s organisations (once the card is authorised). Raises NotPermitted."""
    order = db.session.get(Order, order_id)
    if (order is None or order.organisation_id not in organisation_ids_of(user)
            or order.state in (OrderState.PENDING_PAYMENT, OrderState.FAILED)):
        raise NotPermitted(order_id)
    return order


def timeline(order: Order) -> list[tuple[datetime, str]]:
    """What happened to the order, oldest first, in words for the holder and the provider."""
    events = [
        (order.created_at, _("Ordered")),
        (order.authorised_at, _("Card payment authorised: the money is held until delivery")),
        (order.accepted_at, _("Accepted by the provider")),
        (order.declined_at, _("Declined by the provider")),
        (order.delivered_at, _("Delivery recorded by the provider")),
        (order.disputed_at, _("Disputed")),
        (order.confirmed_at, _("Confirmed automatically") if order.auto_confirmed else _("Delivery confirmed")),
        (order.captured_at, _("Paid")),
        (order.cancelled_at, _("Cancelled")),
        (order.dispute_resolved_at, _("Dispute resolved by the council")),
    ]
    return sorted(((when, what) for when, what in events if when is not None), key=lambda event: event[0])


# --- Ledger moves ----------------------------------------------------------------------------------------------


def post_hold(order: Order, *, actor: User | None) -> None:
    """available -> held for the whole order. Raises InsufficientFunds (the caller holds the account's lock)."""
    transfer(kind=JournalKind.HOLD, key=hold_key(order),
             source=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=order.dp_account),
             destination=ledger_account(LedgerAccountKind.DP_HELD, dp_account=order.dp_account),
             pence=order.amount_pence, memo=f"Order {order.reference}", actor=actor, dp_account=order.dp_account,
             order=order)


def _post_release(order: Order, *, actor: User | None, memo: str) -> None:
    transfer(kind=JournalKind.RELEASE, key=release_key(order),
             source=ledger_account(LedgerAccountKind.DP_HELD, dp_account=order.dp_account),
             destination=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=order.dp_account),
             pence=order.amount_pence, memo=f"Order {order.reference}: {memo}", actor=actor,
             dp_account=order.dp_account, order=order, stripe_object_id=order.payment_intent_id)


def _post_capture(order: Order, *, captured: int, actor: User | None) -> None:
    held = ledger_account(LedgerAccountKind.DP_HELD, dp_account=order.dp_account)
    payable = ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=order.organisation)
    available = ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=order.dp_account)
    lines = [(held, -order.amount_pence), (payable, captured)]
    if order.amount_pence - captured:
        lines.append((available, order.amount_pence - captured))
    post_journal(kind=JournalKind.CAPTURE, key=capture_key(order), lines=lines, memo=f"Order {order.reference}",
                 actor=actor, dp_account=order.dp_account, order=order, stripe_object_id=order.payment_intent_id)


def _cancel_card_authorisation(order: Order) -> None:
    """Give the authorisation back to the card. Raises PaymentUnavailable (the caller leaves the order as it is)."""
    customer = order.dp_account.stripe_customer_id
    if not order.payment_intent_id and customer and order.state is OrderState.PENDING_PAYMENT:
        # Stripe may have authorised before it became unreachable: find that intent by the hold's key.
        found = gateway.find_authorisation(customer, hold_key(order))
        if found is not None:
            order.payment_intent_id = found.id
    if order.payment_intent_id:
        result = gateway.cancel_authorisation(order.payment_intent_id, f"cancel:{order.payment_intent_id}")
        order.payment_status = result.status


def end_with_release(order: Order, to: OrderState, *, actor: User | None, action: str, memo: str,
                     details: dict | None = None, cancel_card: bool = True) -> None:
    """Move to a final state that gives the money back: cancel the card authorisation, then RELEASE."""
    if not can_move(order, to):
        raise InvalidTransition(order, to)
    if cancel_card:
        _cancel_card_authorisation(order)
    move(order, to, actor=actor, action=action, details=details)
    _post_release(order, actor=actor, memo=memo)


# --- The provider ----------------------------------------------------------------------------------------------


def accept(*, actor: User, order: Order) -> None:
    move(order, OrderState.ACCEPTED, actor=actor, action="accepted")
    order.accepted_at = utcnow()
    notify_holder(order, "order_accepted")


def decline(*, actor: User, order: Order, reason: str) -> None:
    """The provider declines: the authorisation is cancelled and the money released. Raises PaymentUnavailable."""
    end_with_release(order, OrderState.DECLINED, actor=actor, action="declined", memo="declined by the provider",
                     details={"reason": reason})
    order.declined_at = utcnow()
    order.decision_reason = reason[:REASON_MAX]
    notify_holder(order, "order_declined")


def record_delivery(*, actor: User, order: Order, delivered_units: int) -> None:
    if not 0 <= delivered_units <= order.units:
        raise InvalidDelivery(f"{delivered_units} of {order.units}")
    move(order, OrderState.DELIVERED, actor=actor, action="delivered", details={"delivered_units": delivered_units})
    order.delivered_units = delivered_units
    order.delivered_at = utcnow()
    notify_holder(order, "order_delivered")


# --- The holder ------------------------------------------------------------------------------------------------


def cancel(*, actor: User, order: Order) -> None:
    """The holder cancels before the provider accepts. Raises InvalidTransition, PaymentUnavailable."""
    if order.state not in (OrderState.PENDING_PAYMENT, OrderState.REQUESTED):
        raise InvalidTransition(order, OrderState.CANCELLED)
    end_with_release(order, OrderState.CANCELLED, actor=actor, action="cancelled", memo="cancelled by the holder")
    order.cancelled_at = utcnow()


def confirm(*, actor: User | None, order: Order, automatically: bool = False) -> None:
    """The holder confirms delivery (or the timer does, after AUTO_CONFIRM_DAYS). Capture is attempted next by
    the caller (``capture``) after committing, so a capture failure never undoes the confirmation."""
    move(order, OrderState.CONFIRMED, actor=actor, action="auto_confirmed" if automatically else "confirmed")
    order.confirmed_at = utcnow()
    order.auto_confirmed = automatically


def dispute(*, actor: User | None, order: Order, reason: str) -> None:
    """Freeze the order for the council; the money stays held. Records a DISPUTE spending exception."""
    move(order, OrderState.DISPUTED, actor=actor, action="disputed", details={"reason": reason})
    order.disputed_at = utcnow()
    order.dispute_reason = reason[:REASON_MAX]
    record_exception(ExceptionKind.DISPUTE, order=order, actor=actor,
                     details={"reference": order.reference, "reason": reason[:REASON_MAX]})


# --- Capture ---------------------------------------------------------------------------------------------------


def delivered_amount(order: Order) -> int:
    return min(order.amount_pence, (order.delivered_units or 0) * order.unit_price_pence)


def capture(*, actor: User | None, order: Order, amount_pence: int | None = None) -> None:
    """Take the delivered amount from the card and pay it to the provider; the rest goes back to available.

    CONFIRMED (or DISPUTED, when the council resolves it with ``amount_pence``) -> CAPTURED. Nothing delivered:
    the authorisation is cancelled and the whole amount released. Raises InvalidTransition, PaymentUnavailable,
    PaymentError (the order stays as it was; the timer tries again).
    """
    if not can_move(order, OrderState.CAPTURED):
        raise InvalidTransition(order, OrderState.CAPTURED)
    amount = delivered_amount(order) if amount_pence is None else amount_pence
    if not 0 <= amount <= order.amount_pence:
        raise InvalidDelivery(f"{amount}p of {order.amount_pence}p")
    if amount == 0:
        end_with_release(order, OrderState.CAPTURED, actor=actor, action="captured", memo="nothing delivered",
                         details={"captured_pence": 0})
    else:
        try:
            result = gateway.capture(order.payment_intent_id, amount, capture_key(order))
        except gateway.PaymentError as error:
            order.payment_error = str(error)[:500]
            raise
        if result.amount_received != amount:
            raise gateway.PaymentError(f"{order.payment_intent_id} captured {result.amount_received}p, not {amount}p")
        order.payment_status = result.status
        move(order, OrderState.CAPTURED, actor=actor, action="captured", details={"captured_pence": amount})
        _post_capture(order, captured=amount, actor=actor)
    order.captured_pence = amount
    order.captured_at = utcnow()
    order.payment_error = ""
    if order.state is OrderState.CAPTURED and order.disputed_at and not order.dispute_resolved_at:
        order.dispute_resolved_at = order.captured_at


def resolve_dispute(*, actor: User, order: Order, capture_pence: int) -> None:
    """The council settles a dispute: capture ``capture_pence`` (0 releases everything)."""
    if order.state is not OrderState.DISPUTED:
        raise InvalidTransition(order, OrderState.CAPTURED)
    if capture_pence == 0:
        end_with_release(order, OrderState.CANCELLED, actor=actor, action="dispute_released",
                         memo="dispute resolved: nothing to pay")
        order.cancelled_at = order.dispute_resolved_at = utcnow()
        return
    capture(actor=actor, order=order, amount_pence=capture_pence)
    order.dispute_resolved_at = utcnow()


# --- Timers ----------------------------------------------------------------------------------------------------


def due_for_auto_confirmation(now: datetime) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.state == OrderState.DELIVERED,
                               Order.delivered_at <= now - timedelta(days=AUTO_CONFIRM_DAYS))
        .order_by(Order.delivered_at)))


def due_for_capture() -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.state == OrderState.CONFIRMED).order_by(Order.confirmed_at)))


# --- Emails ----------------------------------------------------------------------------------------------------


def _holder_recipients(order: Order) -> list[User]:
    account = order.dp_account
    people = [account.holder]
    if account.nominated_person is not None and account.nominated_person_id != account.holder_id:
        people.append(account.nominated_person)
    return [person for person in people if person.email]


def notify_holder(order: Order, template: str) -> None:
    """Email the holder (and their nominated person) in the language each reads."""
    for person in _holder_recipients(order):
        with force_locale(person.preferred_locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")):
            mail.send_templated_email(
                to=person.email, subject=_SUBJECTS[template](order), template=template, order=order,
                order_url=url_for("holder.order", order_id=order.id, _external=True))


def notify_provider_of_new_order(order: Order) -> None:
    for recipient in organisation_recipients(order.organisation):
        with force_locale(recipient.locale):
            mail.send_templated_email(
                to=recipient.email, subject=_("New order %(reference)s: %(title)s", reference=order.reference,
                                              title=order.title),
                template="order_new_provider", order=order,
                order_url=url_for("provider.order", order_id=order.id, _external=True))


_SUBJECTS = {
    "order_accepted": lambda order: _("Your order %(reference)s was accepted", reference=order.reference),
    "order_declined": lambda order: _("Your order %(reference)s was declined", reference=order.reference),
    "order_delivered": lambda order: _("Confirm the delivery of your order %(reference)s",
                                       reference=order.reference),
    "order_cancelled_lapsed": lambda order: _("Your order %(reference)s was cancelled", reference=order.reference),
}
