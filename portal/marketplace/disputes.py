"""Disputes as the council's direct-payments team sees them: the orders waiting for a decision, one order with its
journals, and the decision itself.

A dispute reaches the council two ways: the holder says a delivery went wrong (the order becomes DISPUTED and its
money stays held), or the holder's bank opens a card dispute (``charge.dispute.created``: an order in progress
becomes DISPUTED; a captured order keeps its state but gets ``disputed_at``). Both record a DISPUTE spending
exception. An officer settles a DISPUTED order with a reason: capture an amount up to the held amount (the gateway's
partial capture and the CAPTURE journal ``capture:{order.id}``), or release it all (the authorisation cancelled and
RELEASE ``release:{order.id}``), through ``portal.marketplace.orders.resolve_dispute``. The order's waiting DISPUTE
exceptions are marked reviewed with the same reason, and the holder and the provider are emailed. A card dispute on
a captured order is settled with the bank, outside the portal; its exception is reviewed in the usual way.

Functions never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from portal import mail
from portal.data.audit import record
from portal.data.reports import organisation_recipients
from portal.extensions import db
from portal.marketplace import orders as lifecycle
from portal.models import (
    ExceptionKind,
    Journal,
    Order,
    OrderState,
    SpendingException,
    User,
    utcnow,
)


class DisputeError(Exception):
    """The dispute cannot be settled as asked."""


class OrderNotFound(DisputeError, LookupError):
    pass


class NotDisputed(DisputeError):
    """The order is not waiting for the council (never disputed, or settled already)."""


class InvalidAmount(DisputeError):
    """The amount to pay the provider must be from 0 to the amount held."""


def order_for_council(order_id: uuid.UUID) -> Order:
    """Raises OrderNotFound."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def waiting_for_decision(order: Order) -> bool:
    """The money is frozen until an officer decides."""
    return order.state is OrderState.DISPUTED


def open_disputes() -> list[Order]:
    """Orders the council still has to look at, oldest dispute first: every DISPUTED order, and captured orders
    whose card dispute is not marked resolved."""
    return list(db.session.scalars(
        sa.select(Order).where(sa.or_(
            Order.state == OrderState.DISPUTED,
            sa.and_(Order.disputed_at.is_not(None), Order.dispute_resolved_at.is_(None)),
        )).order_by(Order.disputed_at, Order.reference)))


def order_journals(order: Order) -> list[Journal]:
    return list(db.session.scalars(
        sa.select(Journal).where(Journal.order_id == order.id).order_by(Journal.occurred_at, Journal.id)))


def resolve(*, actor: User, order: Order, capture_pence: int, reason: str) -> None:
    """Settle a DISPUTED order: pay the provider ``capture_pence`` (0 releases everything back to the budget).

    Raises NotDisputed, InvalidAmount, and the gateway's PaymentUnavailable or PaymentError (the order is left as it
    was: the caller rolls back and the officer tries again)."""
    if not waiting_for_decision(order):
        raise NotDisputed(order.reference)
    if not 0 <= capture_pence <= order.amount_pence:
        raise InvalidAmount(f"{capture_pence}p of {order.amount_pence}p")
    reason = reason.strip()[:lifecycle.REASON_MAX]
    lifecycle.resolve_dispute(actor=actor, order=order, capture_pence=capture_pence)
    record(actor=actor, action="order.dispute_resolved", subject=order, organisation_id=order.organisation_id,
           before={"state": OrderState.DISPUTED}, after={"state": order.state, "captured_pence": capture_pence},
           details={"reference": order.reference, "reason": reason, "held_pence": order.amount_pence})
    _close_exceptions(order, actor=actor, note=reason)
    _notify(order, reason=reason, paid_pence=capture_pence)


def _close_exceptions(order: Order, *, actor: User, note: str) -> None:
    now = utcnow()
    for exception in db.session.scalars(sa.select(SpendingException).where(
            SpendingException.order_id == order.id, SpendingException.kind == ExceptionKind.DISPUTE,
            SpendingException.reviewed_at.is_(None))):
        exception.reviewed_at = now
        exception.reviewed_by_id = actor.id
        exception.review_note = note
        record(actor=actor, action="spending_exception.reviewed", subject=exception,
               before={"reviewed_at": None, "review_note": ""}, after={"reviewed_at": now, "review_note": note},
               details={"kind": exception.kind.value, "order": order.reference})


def _notify(order: Order, *, reason: str, paid_pence: int) -> None:
    """Tell the holder (and their nominated person) and the provider what the council decided."""
    for person in lifecycle._holder_recipients(order):
        with force_locale(person.preferred_locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")):
            mail.send_templated_email(
                to=person.email, template="order_dispute_resolved_holder", order=order, reason=reason,
                paid_pence=paid_pence, returned_pence=order.amount_pence - paid_pence,
                subject=_("The council has decided about your order %(reference)s", reference=order.reference),
                order_url=url_for("holder.order", order_id=order.id, _external=True))
    for recipient in organisation_recipients(order.organisation):
        with force_locale(recipient.locale):
            mail.send_templated_email(
                to=recipient.email, template="order_dispute_resolved_provider", order=order, reason=reason,
                paid_pence=paid_pence,
                subject=_("The council has decided about the disputed order %(reference)s",
                          reference=order.reference),
                order_url=url_for("provider.order", order_id=order.id, _external=True))
