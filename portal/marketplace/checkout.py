"""Checkout: the spending controls, checked under the account's row lock, then one order and one hold per item.

``place_orders`` takes the account's lock (``lock_dp_account``) before it reads anything it decides on, so
concurrent checkouts against one account queue and can never spend more than is available. It refuses with
SpendingRefused (a plain-English message, nothing held); the route rolls back and records the refusal with
``record_refusal`` in a transaction of its own, so the council sees refused attempts. On success every item
becomes an Order (PENDING_PAYMENT) with its HOLD journal ``hold:{order.id}``; the caller commits, and only then
asks the card for each order (portal/marketplace/payments.py), so money is never authorised for an order that
was not saved.

The checkout only takes the basket items the holder saw on the check-answers page (``item_ids``): if one has
gone (a second tab or the nominated person checked it out meanwhile) the checkout is refused, not widened.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.data.audit import record
from portal.data.offers import purchasable_offer
from portal.extensions import db
from portal.i18n import money
from portal.ledger import InsufficientFunds, dp_balances, lock_dp_account
from portal.marketplace.orders import post_hold
from portal.models import (
    BasketItem,
    DirectPaymentAccount,
    DPAccountStatus,
    ExceptionKind,
    Offer,
    Order,
    OrderState,
    User,
)
from portal.payments.cards import active_card
from portal.payments.spending import record_exception

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # nothing to misread over the phone: no 0/O, 1/I/L


@dataclass(frozen=True)
class Problem:
    """Why something cannot be bought. ``kind`` is recorded for the council when a checkout is refused for it."""

    code: str
    message: str
    kind: ExceptionKind | None = None


class SpendingRefused(Exception):
    """The checkout is refused; nothing was held or charged. ``problems`` say why, for the holder."""

    def __init__(self, problems: list[Problem], *, details: dict | None = None):
        super().__init__(", ".join(problem.code for problem in problems))
        self.problems = problems
        self.details = details or {}


def new_reference(prefix: str) -> str:
    return prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def plan_allows_category(dp_account: DirectPaymentAccount, offer: Offer) -> bool:
    """A plan category allows itself and every term below it."""
    allowed = {term.id for term in dp_account.categories}
    return any(term.id in allowed for term in [offer.category, *offer.category.ancestors()])


def plan_allows_provider(dp_account: DirectPaymentAccount, offer: Offer) -> bool:
    return dp_account.allow_any_provider or offer.organisation_id in {org.id for org in dp_account.providers}


def item_problems(dp_account: DirectPaymentAccount, offer: Offer, units: int) -> list[Problem]:
    """What stops this offer being bought with this account, in words the holder can act on."""
    if purchasable_offer(offer.id) is None:
        return [Problem("offer_unavailable", _l("This is no longer for sale. Remove it from your basket."),
                        ExceptionKind.OFFER_UNAVAILABLE)]
    problems = []
    if not plan_allows_category(dp_account, offer):
        problems.append(Problem("outside_plan", _l("Your care plan does not cover this kind of support. Remove it, "
                                                   "or ask the council's direct payments team about your plan."),
                                ExceptionKind.OUTSIDE_PLAN))
    if not plan_allows_provider(dp_account, offer):
        problems.append(Problem("provider_not_allowed",
                                _l("Your care plan does not let you buy from %(organisation)s. Remove it, or ask "
                                   "the council's direct payments team.", organisation=offer.organisation.name),
                                ExceptionKind.PROVIDER_NOT_ALLOWED))
    if not offer.min_units <= units <= offer.max_units:
        problems.append(Problem("units_out_of_range",
                                _l("You can buy from %(smallest)d to %(largest)d of this in one order. Change the "
                                   "amount.", smallest=offer.min_units, largest=offer.max_units),
                                ExceptionKind.UNITS_OUT_OF_RANGE))
    return problems


@dataclass
class _Refusal:
    problems: list[Problem] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)


def _account_problems(dp_account: DirectPaymentAccount) -> list[Problem]:
    if dp_account.status is not DPAccountStatus.ACTIVE:
        return [Problem("account_not_active", _l("Your direct payment account is not active, so you cannot buy "
                                                 "anything now. Contact the council's direct payments team."),
                        ExceptionKind.ACCOUNT_NOT_ACTIVE)]
    if active_card(dp_account) is None:
        return [Problem("no_card", _l("Add your prepaid card before you check out."), ExceptionKind.NO_CARD)]
    return []


def place_orders(*, actor: User, dp_account_id: uuid.UUID, item_ids: list[uuid.UUID]) -> list[Order]:
    """Turn the chosen basket items into orders with their money held. Raises SpendingRefused. Never commits."""
    dp_account = lock_dp_account(dp_account_id)  # first: every check below reads under the lock
    if problems := _account_problems(dp_account):
        raise SpendingRefused(problems, details={"account_status": dp_account.status.value,
                                                 "basket_items": len(item_ids)})
    items = list(db.session.scalars(
        sa.select(BasketItem).where(BasketItem.dp_account_id == dp_account.id, BasketItem.id.in_(item_ids))
        .order_by(BasketItem.created_at, BasketItem.id)))
    if not item_ids or len(items) != len(set(item_ids)):
        raise SpendingRefused([Problem("basket_changed", _l("Your basket has changed since you checked it. Check "
                                                            "your basket and try again."))])
    refusal = _Refusal()
    for item in items:
        for problem in item_problems(dp_account, item.offer, item.units):
            refusal.problems.append(problem)
            refusal.items.append({"offer_id": item.offer_id, "title": item.offer.title, "units": item.units,
                                  "problem": problem.code})
    total = sum(item.units * item.offer.price_pence for item in items)
    available = int(dp_balances(dp_account).available)  # PostgreSQL sums to Decimal
    if total > available:
        refusal.problems.append(_over_balance(total, available))
    if refusal.problems:
        raise SpendingRefused(refusal.problems, details={"items": refusal.items, "total_pence": total,
                                                          "available_pence": available})

    checkout_reference = new_reference("CHK-")
    orders = []
    for item in items:
        order = _order_from(item, actor=actor, checkout_reference=checkout_reference)
        try:
            post_hold(order, actor=actor)
        except InsufficientFunds:  # cannot happen under the lock; refuse rather than overspend if it ever does
            raise SpendingRefused([_over_balance(total, available)]) from None
        record(actor=actor, action="order.placed", subject=order, organisation_id=order.organisation_id,
               after={"state": order.state, "amount_pence": order.amount_pence, "units": order.units,
                      "offer_id": order.offer_id, "checkout_reference": checkout_reference},
               details={"reference": order.reference, "dp_account_id": dp_account.id})
        db.session.delete(item)
        orders.append(order)
    db.session.flush()
    return orders


def _over_balance(total: int, available: int) -> Problem:
    return Problem("over_balance", _l("Your basket costs %(total)s but you have %(available)s to spend. Remove "
                                      "something or buy fewer.", total=money(total), available=money(available)),
                   ExceptionKind.OVER_BALANCE)


def _order_from(item: BasketItem, *, actor: User, checkout_reference: str) -> Order:
    offer = item.offer
    order = Order(
        reference=new_reference("ORD-"),
        dp_account_id=item.dp_account_id,
        offer_id=offer.id,
        organisation_id=offer.organisation_id,
        category_id=offer.category_id,
        placed_by_id=actor.id,
        checkout_reference=checkout_reference,
        state=OrderState.PENDING_PAYMENT,
        title=offer.title,
        unit=offer.unit,
        unit_price_pence=offer.price_pence,
        units=item.units,
        amount_pence=item.units * offer.price_pence,
        wanted_on=item.wanted_on,
        note=item.note,
    )
    db.session.add(order)
    db.session.flush()
    return order


def record_refusal(refused: SpendingRefused, *, actor: User, dp_account_id: uuid.UUID) -> None:
    """Record a refused checkout for the council. Call after rolling the refused attempt back, then commit."""
    kinds = []
    for problem in refused.problems:
        if problem.kind is not None and problem.kind not in kinds:
            kinds.append(problem.kind)
    dp_account = db.session.get(DirectPaymentAccount, dp_account_id)
    for kind in kinds:
        record_exception(kind, dp_account=dp_account, actor=actor, details={
            **refused.details, "problems": [problem.code for problem in refused.problems],
        })


def orders_of_checkout(dp_account: DirectPaymentAccount, checkout_reference: str) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.dp_account_id == dp_account.id, Order.checkout_reference == checkout_reference)
        .order_by(Order.created_at, Order.reference)))
