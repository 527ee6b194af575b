"""A direct-payment holder's statement: one 4-week budget period read from the ledger.

The statement is a query over the same journals the council audits, so every figure is a sum of journal lines and
every line names its journal. A journal belongs to the period it names (``period_number``: allocations, top-ups,
contributions and reclaims), else to the period in which it was posted (UK date). The holder's balance is what is
available plus what is held for orders in progress; money held and released moves between the two and changes
nothing else. So, for any period:

    opening + money in - spent - reclaimed + corrections == closing

which the tests check on known journals and which holds by construction (each figure is a sum over the same lines).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.data import dp_access
from portal.extensions import db
from portal.models import (
    PERIOD_DAYS,
    DirectPaymentAccount,
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    Order,
    Organisation,
    TaxonomyTerm,
    User,
)

UK = ZoneInfo("Europe/London")
MONEY_IN_KINDS = (JournalKind.ALLOCATION, JournalKind.TOP_UP, JournalKind.CONTRIBUTION)


class NoSuchPeriod(LookupError):
    """The account has no such budget period (before it opened, or in the future)."""


@dataclass(frozen=True)
class Period:
    number: int
    starts_on: date
    ends_on: date  # the last day of the period


def uk_date(moment: datetime) -> date:
    return moment.astimezone(UK).date()


def uk_today() -> date:
    return uk_date(datetime.now(UTC))


def period(dp_account: DirectPaymentAccount, number: int) -> Period:
    starts_on = dp_account.start_date + timedelta(days=PERIOD_DAYS * number)
    return Period(number=number, starts_on=starts_on, ends_on=starts_on + timedelta(days=PERIOD_DAYS - 1))


def period_number_on(dp_account: DirectPaymentAccount, day: date) -> int:
    """The period covering ``day``; days before the account starts count as its first period."""
    return max(0, (day - dp_account.start_date).days // PERIOD_DAYS)


def journal_period(dp_account: DirectPaymentAccount, journal_period_number: int | None, occurred_at: datetime) -> int:
    if journal_period_number is not None:
        return journal_period_number
    return period_number_on(dp_account, uk_date(occurred_at))


@dataclass(frozen=True)
class StatementLine:
    """One journal as the holder sees it: its effect on their money."""

    journal_id: int
    key: str
    kind: JournalKind
    occurred_at: datetime
    memo: str
    money_in: int  # pence added to the holder's balance
    money_out: int  # pence taken from it (spent or reclaimed)
    held_change: int  # pence moved into (+) or out of (-) money held for orders
    order_reference: str = ""
    order_title: str = ""
    provider_name: str = ""

    @property
    def description(self) -> str:
        """What happened, in the reader's language."""
        order = {"reference": self.order_reference, "title": self.order_title, "provider": self.provider_name}
        match self.kind:
            case JournalKind.ALLOCATION:
                return _("Budget for the period from the council")
            case JournalKind.TOP_UP:
                return _("Extra money from the council: %(reason)s", reason=self.memo) if self.memo else _(
                    "Extra money from the council")
            case JournalKind.CONTRIBUTION:
                return _("Your contribution received")
            case JournalKind.HOLD:
                return _("Set aside for order %(reference)s: %(title)s (%(provider)s)", **order)
            case JournalKind.RELEASE:
                return _("Returned from order %(reference)s: %(title)s (%(provider)s)", **order)
            case JournalKind.CAPTURE:
                return _("Paid to %(provider)s for order %(reference)s: %(title)s", **order)
            case JournalKind.RECLAIM:
                return _("Unspent money returned to the council")
            case JournalKind.REVERSAL:
                return _("Correction: %(memo)s", memo=self.memo) if self.memo else _("Correction")
        return self.memo or self.kind.value  # pragma: no cover - every kind is named above


@dataclass(frozen=True)
class Spend:
    name: str
    name_cy: str
    pence: int

    def localised(self, language: str) -> str:
        return self.name_cy if language == "cy" and self.name_cy else self.name


@dataclass(frozen=True)
class Statement:
    dp_account: DirectPaymentAccount
    period: Period
    periods: list[Period]  # every period with a statement, newest first
    is_current: bool
    opening: int
    allocations: int
    top_ups: int
    contributions: int
    spent: int
    reclaimed: int
    corrections: int
    closing: int
    held_at_close: int
    available_at_close: int
    by_category: list[Spend] = field(default_factory=list)
    by_provider: list[Spend] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def money_in(self) -> int:
        return self.allocations + self.top_ups + self.contributions


@dataclass
class _Journal:
    id: int
    key: str
    kind: JournalKind
    occurred_at: datetime
    period_number: int
    memo: str
    order_id: uuid.UUID | None
    available: int = 0
    held: int = 0
    payable: int = 0


def _journals(dp_account: DirectPaymentAccount) -> list[_Journal]:
    """Every journal filed under the account, with its effect on the holder's two accounts, oldest first."""
    rows = db.session.execute(
        sa.select(
            Journal.id, Journal.idempotency_key, Journal.kind, Journal.occurred_at, Journal.period_number,
            Journal.memo, Journal.order_id, LedgerAccount.kind, LedgerAccount.dp_account_id, Entry.amount_pence,
        )
        .join(Entry, Entry.journal_id == Journal.id)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(Journal.dp_account_id == dp_account.id)
        .order_by(Journal.occurred_at, Journal.id)
    ).all()
    journals: dict[int, _Journal] = {}
    for journal_id, key, kind, occurred_at, period_number, memo, order_id, account_kind, owner, pence in rows:
        journal = journals.get(journal_id)
        if journal is None:
            journal = journals[journal_id] = _Journal(
                id=journal_id, key=key, kind=kind, occurred_at=occurred_at, memo=memo, order_id=order_id,
                period_number=journal_period(dp_account, period_number, occurred_at),
            )
        if account_kind is LedgerAccountKind.DP_AVAILABLE and owner == dp_account.id:
            journal.available += pence
        elif account_kind is LedgerAccountKind.DP_HELD and owner == dp_account.id:
            journal.held += pence
        elif account_kind is LedgerAccountKind.PROVIDER_PAYABLE:
            journal.payable += pence
    return list(journals.values())


def current_period_number(dp_account: DirectPaymentAccount) -> int:
    return period_number_on(dp_account, uk_today())


def statement(dp_account: DirectPaymentAccount, period_number: int | None = None) -> Statement:
    """The statement for one period (default: the current one). Raises NoSuchPeriod."""
    journals = _journals(dp_account)
    current = current_period_number(dp_account)
    last = max([current, *(journal.period_number for journal in journals)])
    number = current if period_number is None else period_number
    if not 0 <= number <= last:
        raise NoSuchPeriod(number)

    before = [journal for journal in journals if journal.period_number < number]
    within = [journal for journal in journals if journal.period_number == number]
    opening = sum(journal.available + journal.held for journal in before)
    nets: dict[JournalKind, int] = defaultdict(int)
    for journal in within:
        nets[journal.kind] += journal.available + journal.held
    orders = _orders({journal.order_id for journal in within if journal.order_id})
    captures = [journal for journal in within if journal.kind is JournalKind.CAPTURE]
    spent = sum(journal.payable for journal in captures)
    explained = sum(nets[kind] for kind in MONEY_IN_KINDS) - spent + nets[JournalKind.RECLAIM]
    closing = opening + sum(nets.values())

    return Statement(
        dp_account=dp_account,
        period=period(dp_account, number),
        periods=[period(dp_account, n) for n in range(last, -1, -1)],
        is_current=number == current,
        opening=opening,
        allocations=nets[JournalKind.ALLOCATION],
        top_ups=nets[JournalKind.TOP_UP],
        contributions=nets[JournalKind.CONTRIBUTION],
        spent=spent,
        reclaimed=-nets[JournalKind.RECLAIM],
        corrections=closing - opening - explained,  # reversals, and anything no other line names
        closing=closing,
        held_at_close=sum(journal.held for journal in before + within),
        available_at_close=sum(journal.available for journal in before + within),
        by_category=_spend_by(captures, orders, "category"),
        by_provider=_spend_by(captures, orders, "organisation"),
        lines=[_line(journal, orders.get(journal.order_id)) for journal in within],
    )


def statement_for(*, user: User, dp_account_id: uuid.UUID | None = None,
                  period_number: int | None = None) -> Statement:
    """The statement of the account ``user`` acts for. Raises NotPermitted (not theirs) or NoSuchPeriod."""
    return statement(dp_access.dp_account_for(user, dp_account_id), period_number)


@dataclass(frozen=True)
class _OrderFacts:
    reference: str
    title: str
    category: TaxonomyTerm
    organisation: Organisation


def _orders(order_ids: set[uuid.UUID]) -> dict[uuid.UUID, _OrderFacts]:
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(Order.id, Order.reference, Order.title, TaxonomyTerm, Organisation)
        .join(TaxonomyTerm, TaxonomyTerm.id == Order.category_id)
        .join(Organisation, Organisation.id == Order.organisation_id)
        .where(Order.id.in_(order_ids))
    ).all()
    return {order_id: _OrderFacts(reference, title, term, organisation)
            for order_id, reference, title, term, organisation in rows}


def _spend_by(captures: list[_Journal], orders: dict[uuid.UUID, _OrderFacts], what: str) -> list[Spend]:
    totals: dict[uuid.UUID, list] = {}
    for journal in captures:
        facts = orders.get(journal.order_id)
        if facts is None:  # pragma: no cover - the invariants refuse a capture without its order
            continue
        thing = getattr(facts, what)
        entry = totals.setdefault(thing.id, [thing.name, getattr(thing, "name_cy", "") or "", 0])
        entry[2] += journal.payable
    spends = [Spend(name=name, name_cy=name_cy, pence=pence) for name, name_cy, pence in totals.values()]
    return sorted(spends, key=lambda spend: (-spend.pence, spend.name))


def _line(journal: _Journal, facts: _OrderFacts | None) -> StatementLine:
    net = journal.available + journal.held
    return StatementLine(
        journal_id=journal.id,
        key=journal.key,
        kind=journal.kind,
        occurred_at=journal.occurred_at,
        memo=journal.memo,
        money_in=max(net, 0),
        money_out=max(-net, 0),
        held_change=journal.held,
        order_reference=facts.reference if facts else "",
        order_title=facts.title if facts else "",
        provider_name=facts.organisation.name if facts else "",
    )
