"""The direct-payment marketplace: accounts and care plans, prepaid cards, priced offers, baskets, orders,
provider payout details, Stripe webhook events and spending exceptions. Money is integer pence throughout;
balances live in the ledger (portal/models/ledger.py), never here."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounts import User
from portal.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column, utcnow
from portal.models.directory import Organisation, Service, TaxonomyTerm

PERIOD_DAYS = 28  # a budget period is four weeks from the account's start date


class DPAccountStatus(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # no new orders; existing orders run their course
    CLOSED = "closed"


dp_plan_categories = sa.Table(
    "dp_plan_categories",
    Base.metadata,
    sa.Column("dp_account_id", sa.Uuid, sa.ForeignKey("dp_accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("term_id", sa.Uuid, sa.ForeignKey("taxonomy_terms.id", ondelete="CASCADE"), primary_key=True),
)

dp_plan_providers = sa.Table(
    "dp_plan_providers",
    Base.metadata,
    sa.Column("dp_account_id", sa.Uuid, sa.ForeignKey("dp_accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.Uuid, sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class DirectPaymentAccount(UUIDPrimaryKey, Timestamps, Base):
    """A resident's direct payment and the care-and-support plan that says what it may buy.

    Checkout locks this row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write transaction serialises anyway)
    before checking the plan and the balance, so concurrent checkouts cannot overspend.
    """

    __tablename__ = "dp_accounts"

    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    nominated_person_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[DPAccountStatus] = mapped_column(enum_column(DPAccountStatus), default=DPAccountStatus.ACTIVE)
    period_budget_pence: Mapped[int] = mapped_column(sa.BigInteger)
    client_contribution_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # per period
    contingency_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # surplus kept back at reclaim
    start_date: Mapped[date]
    allow_any_provider: Mapped[bool] = mapped_column(default=True)  # False: only the providers listed
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")  # officer's notes, never shown to the holder

    holder: Mapped[User] = relationship(foreign_keys=[holder_id])
    nominated_person: Mapped[User | None] = relationship(foreign_keys=[nominated_person_id])
    categories: Mapped[list[TaxonomyTerm]] = relationship(secondary=dp_plan_categories, lazy="selectin")
    providers: Mapped[list[Organisation]] = relationship(secondary=dp_plan_providers, lazy="selectin")
    cards: Mapped[list[PaymentCard]] = relationship(back_populates="dp_account", order_by="PaymentCard.created_at")

    __table_args__ = (
        sa.CheckConstraint("period_budget_pence >= 0", name="budget_not_negative"),
        sa.CheckConstraint("client_contribution_pence >= 0", name="contribution_not_negative"),
        sa.CheckConstraint("contingency_pence >= 0", name="contingency_not_negative"),
    )


class CardStatus(enum.Enum):
    ACTIVE = "active"
    REPLACED = "replaced"
    REMOVED = "removed"


class PaymentCard(UUIDPrimaryKey, Base):
    """The holder's prepaid card as Stripe knows it. Only Stripe ids and what the card's owner may see are kept."""

    __tablename__ = "payment_cards"

    dp_account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("dp_accounts.id"), index=True)
    stripe_payment_method_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    brand: Mapped[str] = mapped_column(sa.String(30), default="")
    last4: Mapped[str] = mapped_column(sa.String(4), default="")
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    funding: Mapped[str] = mapped_column(sa.String(20), default="")  # prepaid / debit / credit / unknown
    status: Mapped[CardStatus] = mapped_column(enum_column(CardStatus), default=CardStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    dp_account: Mapped[DirectPaymentAccount] = relationship(back_populates="cards")


class PayoutDetailsStatus(enum.Enum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"


class PayoutDetails(UUIDPrimaryKey, Timestamps, Base):
    """Where the council pays a provider. Only verified details let a provider publish priced offers."""

    __tablename__ = "payout_details"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), unique=True)
    account_name: Mapped[str] = mapped_column(sa.String(18))  # BACS allows 18 characters
    sort_code: Mapped[str] = mapped_column(sa.String(6))  # digits only
    account_number: Mapped[str] = mapped_column(sa.String(8))  # digits only
    status: Mapped[PayoutDetailsStatus] = mapped_column(
        enum_column(PayoutDetailsStatus), default=PayoutDetailsStatus.SUBMITTED
    )
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    stripe_connect_account_id: Mapped[str | None] = mapped_column(sa.String(255))  # behind STRIPE_CONNECT

    organisation: Mapped[Organisation] = relationship()


class OfferUnit(enum.Enum):
    HOUR = "hour"
    SESSION = "session"
    DAY = "day"
    ITEM = "item"


class OfferStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Offer(UUIDPrimaryKey, Timestamps, Base):
    """Something a holder can buy from a listing, at a price per unit."""

    __tablename__ = "offers"

    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    category_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("taxonomy_terms.id"), index=True)  # plan check
    title: Mapped[str] = mapped_column(sa.String(120))
    title_cy: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_cy: Mapped[str] = mapped_column(sa.Text, default="")
    unit: Mapped[OfferUnit] = mapped_column(enum_column(OfferUnit))
    price_pence: Mapped[int] = mapped_column(sa.BigInteger)  # per unit
    min_units: Mapped[int] = mapped_column(default=1)
    max_units: Mapped[int] = mapped_column(default=1)
    cancellation_terms: Mapped[str] = mapped_column(sa.Text, default="")
    cancellation_terms_cy: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.DRAFT, index=True)

    service: Mapped[Service] = relationship()
    organisation: Mapped[Organisation] = relationship()
    category: Mapped[TaxonomyTerm] = relationship()

    __table_args__ = (
        sa.CheckConstraint("price_pence > 0", name="price_positive"),
        sa.CheckConstraint("min_units >= 1 AND max_units >= min_units", name="units_range"),
    )


class BasketItem(UUIDPrimaryKey, Base):
    """An offer in a holder's basket, kept in the database so the holder and their nominated person share it."""

    __tablename__ = "basket_items"

    dp_account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("dp_accounts.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"))
    units: Mapped[int]
    wanted_on: Mapped[date | None]  # when the holder would like it delivered
    note: Mapped[str] = mapped_column(sa.Text, default="")  # for the provider
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    offer: Mapped[Offer] = relationship()

    __table_args__ = (sa.CheckConstraint("units >= 1", name="units_positive"),)


class OrderState(enum.Enum):
    PENDING_PAYMENT = "pending_payment"  # money held in the ledger, card authorisation not finished
    REQUESTED = "requested"  # card authorised; waiting for the provider
    ACCEPTED = "accepted"
    DECLINED = "declined"  # by the provider: hold released
    CANCELLED = "cancelled"  # by the holder before acceptance, or the authorisation lapsed: hold released
    FAILED = "failed"  # the card declined: hold released
    DELIVERED = "delivered"  # provider recorded the units delivered
    CONFIRMED = "confirmed"  # holder confirmed (or 7 days passed undisputed); capture due
    CAPTURED = "captured"  # delivered amount captured; provider payable
    DISPUTED = "disputed"  # frozen for the council

    @property
    def is_final(self) -> bool:
        return self in {OrderState.DECLINED, OrderState.CANCELLED, OrderState.FAILED, OrderState.CAPTURED}


class Order(UUIDPrimaryKey, Timestamps, Base):
    """One offer bought with a direct payment. States move forward only (see portal/marketplace/orders.py)."""

    __tablename__ = "orders"

    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    dp_account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("dp_accounts.id"), index=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offers.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    category_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("taxonomy_terms.id"))
    placed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    checkout_reference: Mapped[str] = mapped_column(sa.String(20), index=True)  # shared by one checkout's orders
    state: Mapped[OrderState] = mapped_column(enum_column(OrderState), default=OrderState.PENDING_PAYMENT, index=True)
    # What was bought, copied at checkout so later offer edits never change an order.
    title: Mapped[str] = mapped_column(sa.String(120))
    unit: Mapped[OfferUnit] = mapped_column(enum_column(OfferUnit))
    unit_price_pence: Mapped[int] = mapped_column(sa.BigInteger)
    units: Mapped[int]
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)  # held amount = units x unit price
    wanted_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    delivered_units: Mapped[int | None]
    captured_pence: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The card authorisation.
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    payment_status: Mapped[str] = mapped_column(sa.String(40), default="")  # Stripe's PaymentIntent status
    payment_error: Mapped[str] = mapped_column(sa.Text, default="")  # plain-English reason shown to the holder
    authorised_at: Mapped[datetime | None]
    authorisation_expires_at: Mapped[datetime | None]
    # The lifecycle.
    accepted_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    delivered_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    auto_confirmed: Mapped[bool] = mapped_column(default=False)
    captured_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    disputed_at: Mapped[datetime | None]
    dispute_reason: Mapped[str] = mapped_column(sa.Text, default="")
    dispute_resolved_at: Mapped[datetime | None]

    dp_account: Mapped[DirectPaymentAccount] = relationship()
    offer: Mapped[Offer] = relationship()
    organisation: Mapped[Organisation] = relationship()
    category: Mapped[TaxonomyTerm] = relationship()
    placed_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("units >= 1", name="units_positive"),
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint("delivered_units IS NULL OR (delivered_units >= 0 AND delivered_units <= units)",
                           name="delivered_within_units"),
        sa.CheckConstraint("captured_pence IS NULL OR (captured_pence >= 0 AND captured_pence <= amount_pence)",
                           name="captured_within_amount"),
    )


class StripeEventStatus(enum.Enum):
    PROCESSED = "processed"
    IGNORED = "ignored"  # a type we do not act on, or a state we have already passed
    PARKED = "parked"  # for an object we do not know: kept for review


class StripeEvent(Base):
    """A webhook event, stored under its Stripe id: a replayed event finds its row and does nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # Stripe's evt_... id
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    object_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    created: Mapped[datetime | None]  # Stripe's event time
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[StripeEventStatus] = mapped_column(enum_column(StripeEventStatus), index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class ExceptionKind(enum.Enum):
    OUTSIDE_PLAN = "outside_plan"  # category not in the care plan
    PROVIDER_NOT_ALLOWED = "provider_not_allowed"
    OVER_BALANCE = "over_balance"
    UNITS_OUT_OF_RANGE = "units_out_of_range"
    ACCOUNT_NOT_ACTIVE = "account_not_active"  # a suspended or closed account tried to buy
    NO_CARD = "no_card"  # no active card registered
    OFFER_UNAVAILABLE = "offer_unavailable"  # withdrawn, or its provider's bank details no longer verified
    CARD_DECLINED = "card_declined"
    CARD_NOT_PREPAID = "card_not_prepaid"
    DISPUTE = "dispute"
    UNUSUAL_PATTERN = "unusual_pattern"  # e.g. many orders in a short time, or one provider taking most of a budget
    PARKED_EVENT = "parked_event"
    RECONCILIATION = "reconciliation"


class SpendingException(UUIDPrimaryKey, Base):
    """Something the council's direct-payments team should look at. Written in its own transaction, so an
    attempt that was refused (and rolled back) is still on record."""

    __tablename__ = "spending_exceptions"

    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind), index=True)
    dp_account_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("dp_accounts.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("orders.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(sa.Text, default="")

    dp_account: Mapped[DirectPaymentAccount | None] = relationship()


class PayoutRun(UUIDPrimaryKey, Base):
    """A batch of provider payables exported for the council's finance system (BACS-style CSV)."""

    __tablename__ = "payout_runs"

    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    total_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    lines: Mapped[list] = mapped_column(sa.JSON, default=list)  # organisation id, name, sort code, account, pence
    paid_at: Mapped[datetime | None]  # finance confirmed: payout journals posted
