"""The double-entry ledger: integer pence, append-only (database triggers refuse UPDATE and DELETE).

Every journal's entries sum to zero and the journal carries a unique idempotency key, so posting the same thing twice
is a no-op. Corrections are reversing journals. Balances are sums of entries, never stored totals.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, enum_column, utcnow

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY


class LedgerAccountKind(enum.Enum):
    COUNCIL_FUNDING = "council_funding"  # source of allocations and top-ups: a contra account, negative by design
    COUNCIL_RECOVERED = "council_recovered"  # surplus reclaimed at period end
    CLIENT_CONTRIBUTION = "client_contribution"  # contributions paid in by the person: a contra account
    DP_AVAILABLE = "dp_available"  # a holder's money free to spend
    DP_HELD = "dp_held"  # authorised on the card for an order, not yet captured
    PROVIDER_PAYABLE = "provider_payable"  # captured, owed to the provider
    PROVIDER_PAID = "provider_paid"  # paid out to the provider (BACS run or Connect transfer): a contra account
    STRIPE_CLEARING = "stripe_clearing"  # in flight at Stripe

    @property
    def may_go_negative(self) -> bool:
        return self in {
            LedgerAccountKind.COUNCIL_FUNDING,
            LedgerAccountKind.CLIENT_CONTRIBUTION,
            LedgerAccountKind.PROVIDER_PAID,
            LedgerAccountKind.STRIPE_CLEARING,
        }


class LedgerAccount(Base):
    """One account in the ledger, found by its code, e.g. "dp:<uuid>:available" or "council:funding"."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[LedgerAccountKind] = mapped_column(enum_column(LedgerAccountKind), index=True)
    dp_account_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("dp_accounts.id"), index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JournalKind(enum.Enum):
    ALLOCATION = "allocation"  # period budget: council funding -> available
    TOP_UP = "top_up"  # emergency top-up with a reason
    CONTRIBUTION = "contribution"  # client contribution received -> available
    HOLD = "hold"  # available -> held at checkout
    RELEASE = "release"  # held -> available (decline, cancel, expiry, remainder after capture)
    CAPTURE = "capture"  # held -> provider payable
    RECLAIM = "reclaim"  # available -> council recovered, surplus above the contingency
    PAYOUT = "payout"  # provider payable -> paid
    REVERSAL = "reversal"  # undoes an earlier journal


class Journal(Base):
    __tablename__ = "ledger_journals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[JournalKind] = mapped_column(enum_column(JournalKind), index=True)
    memo: Mapped[str] = mapped_column(sa.String(500), default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    dp_account_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("dp_accounts.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    period_number: Mapped[int | None]  # the 4-week budget period, for allocations, top-ups and reclaims
    stripe_object_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)  # e.g. the PaymentIntent
    reverses_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("ledger_journals.id"))

    entries: Mapped[list[Entry]] = relationship(back_populates="journal", lazy="selectin")


class Entry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    journal_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("ledger_journals.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("ledger_accounts.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)  # positive increases the account's balance

    journal: Mapped[Journal] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()

    __table_args__ = (sa.CheckConstraint("amount_pence <> 0", name="non_zero"),)
