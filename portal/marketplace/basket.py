"""The basket: offers a holder (or their nominated person) means to buy, kept in the database so both see it.

Items are reached only through the account the signed-in person acts for (``item_for``: anything else is "not
found"). Adding checks the offer can be bought now and the units are within its range; what the care plan allows
and the balance are shown on the basket page (``summary``) and enforced again at checkout under the row lock.
Functions stage changes and audit events and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from portal.data.access import NotPermitted
from portal.data.audit import record
from portal.data.dp_access import dp_account_for
from portal.data.offers import purchasable_offer
from portal.extensions import db
from portal.ledger import dp_balances
from portal.marketplace.checkout import Problem, item_problems, plan_allows_category, plan_allows_provider
from portal.models import BasketItem, DirectPaymentAccount, DPAccountStatus, Offer, Role, User

NOTE_MAX = 1000


class BasketError(Exception):
    """The basket cannot be changed as asked."""


class OfferUnavailable(BasketError):
    """The offer is not (or no longer) for sale."""


class UnitsOutOfRange(BasketError):
    def __init__(self, minimum: int, maximum: int):
        super().__init__(f"{minimum}..{maximum}")
        self.minimum = minimum
        self.maximum = maximum


@dataclass(frozen=True)
class BasketLine:
    item: BasketItem
    amount_pence: int
    problems: list[Problem]


@dataclass(frozen=True)
class BasketSummary:
    lines: list[BasketLine]
    total_pence: int
    available_pence: int

    @property
    def over_balance(self) -> bool:
        return self.total_pence > self.available_pence

    @property
    def can_check_out(self) -> bool:
        return bool(self.lines) and not self.over_balance and not any(line.problems for line in self.lines)


def items_of(dp_account: DirectPaymentAccount) -> list[BasketItem]:
    return list(db.session.scalars(
        sa.select(BasketItem).where(BasketItem.dp_account_id == dp_account.id)
        .order_by(BasketItem.created_at, BasketItem.id)))


def item_for(dp_account: DirectPaymentAccount, item_id: uuid.UUID) -> BasketItem:
    item = db.session.get(BasketItem, item_id)
    if item is None or item.dp_account_id != dp_account.id:
        raise NotPermitted(item_id)
    return item


def summary(dp_account: DirectPaymentAccount) -> BasketSummary:
    lines = []
    for item in items_of(dp_account):
        lines.append(BasketLine(item, item.units * item.offer.price_pence,
                                item_problems(dp_account, item.offer, item.units)))
    return BasketSummary(lines, sum(line.amount_pence for line in lines),
                         int(dp_balances(dp_account).available))


def _check_units(offer, units: int) -> None:
    if not offer.min_units <= units <= offer.max_units:
        raise UnitsOutOfRange(offer.min_units, offer.max_units)


def add(*, actor: User, dp_account: DirectPaymentAccount, offer_id: uuid.UUID, units: int,
        wanted_on: date | None, note: str) -> BasketItem:
    """Put an offer in the basket (an offer already there is changed instead). Raises OfferUnavailable,
    UnitsOutOfRange."""
    offer = purchasable_offer(offer_id)
    if offer is None:
        raise OfferUnavailable(offer_id)
    _check_units(offer, units)
    item = db.session.scalar(sa.select(BasketItem).where(BasketItem.dp_account_id == dp_account.id,
                                                         BasketItem.offer_id == offer.id))
    if item is None:
        item = BasketItem(dp_account_id=dp_account.id, offer_id=offer.id, units=units, added_by_id=actor.id)
        db.session.add(item)
    item.units, item.wanted_on, item.note = units, wanted_on, note[:NOTE_MAX]
    db.session.flush()
    record(actor=actor, action="basket.item_added", subject=item,
           after={"offer_id": offer.id, "units": units, "wanted_on": wanted_on},
           details={"dp_account_id": dp_account.id})
    return item


def change(*, actor: User, item: BasketItem, units: int, wanted_on: date | None, note: str) -> None:
    """Raises UnitsOutOfRange."""
    _check_units(item.offer, units)
    before = {"units": item.units, "wanted_on": item.wanted_on}
    item.units, item.wanted_on, item.note = units, wanted_on, note[:NOTE_MAX]
    record(actor=actor, action="basket.item_changed", subject=item, before=before,
           after={"units": units, "wanted_on": wanted_on}, details={"dp_account_id": item.dp_account_id})


def remove(*, actor: User, item: BasketItem) -> None:
    record(actor=actor, action="basket.item_removed", subject=item, before={"offer_id": item.offer_id,
                                                                           "units": item.units},
           details={"dp_account_id": item.dp_account_id})
    db.session.delete(item)


# --- On the public service page ----------------------------------------------------------------------------------

def purchase_choice(user: User | None, offer: Offer) -> str:
    """What the service page offers ``user`` for ``offer``: "buy" (an "Add to basket" button) or why not, as a code
    the page words plainly: "sign_in", "not_a_holder", "no_account", "account_not_active", "outside_plan",
    "provider_not_allowed". The spending controls are checked again at checkout under the row lock."""
    if user is None or not user.is_authenticated:
        return "sign_in"
    if not user.has_role(Role.DP_HOLDER, Role.NOMINATED_PERSON):
        return "not_a_holder"
    try:
        account = dp_account_for(user)
    except NotPermitted:
        return "no_account"
    if account.status is not DPAccountStatus.ACTIVE:
        return "account_not_active"
    if not plan_allows_category(account, offer):
        return "outside_plan"
    if not plan_allows_provider(account, offer):
        return "provider_not_allowed"
    return "buy"
