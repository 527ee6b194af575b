"""The council's audit of direct payments: every journal (filtered and paged), the spending exceptions queue and
its reviews, the unusual-pattern check, and the surplus reclaimed.

Read functions take filters and return pages; ``review_exception`` and ``record_unusual_patterns`` stage their
changes with an audit event and never commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from portal.data import audit
from portal.data.paging import Page
from portal.data.statements import UK, period, uk_date
from portal.extensions import db
from portal.ledger import lock_dp_account
from portal.models import (
    DirectPaymentAccount,
    DPAccountStatus,
    Entry,
    ExceptionKind,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    Order,
    Organisation,
    SpendingException,
    User,
    utcnow,
)
from portal.payments.spending import record_exception


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the UK, as UTC."""
    return datetime.combine(day, time.min, tzinfo=UK).astimezone(UTC)


# --- Journals --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalFilters:
    account: str = ""  # a direct-payment account reference (DP-...) or a ledger account code
    kind: JournalKind | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class JournalLine:
    code: str
    kind: LedgerAccountKind
    pence: int


@dataclass(frozen=True)
class JournalRow:
    journal: Journal
    dp_reference: str | None
    order_reference: str | None
    lines: list[JournalLine] = field(default_factory=list)


def _journal_conditions(filters: JournalFilters) -> list[sa.ColumnElement[bool]]:
    conditions = []
    wanted = filters.account.strip()
    if wanted:
        by_reference = sa.select(DirectPaymentAccount.id).where(
            sa.func.upper(DirectPaymentAccount.reference) == wanted.upper())
        by_code = sa.select(Entry.journal_id).join(LedgerAccount, LedgerAccount.id == Entry.account_id).where(
            LedgerAccount.code == wanted)
        conditions.append(sa.or_(Journal.dp_account_id.in_(by_reference), Journal.id.in_(by_code)))
    if filters.kind is not None:
        conditions.append(Journal.kind == filters.kind)
    if filters.date_from:
        conditions.append(Journal.occurred_at >= _start_of(filters.date_from))
    if filters.date_to:
        conditions.append(Journal.occurred_at < _start_of(filters.date_to + timedelta(days=1)))
    return conditions


def journals(*, filters: JournalFilters, page: int = 1, per_page: int = 25) -> Page:
    """Journals matching ``filters``, newest first, with their lines."""
    base = (
        sa.select(Journal, DirectPaymentAccount.reference, Order.reference)
        .outerjoin(DirectPaymentAccount, DirectPaymentAccount.id == Journal.dp_account_id)
        .outerjoin(Order, Order.id == Journal.order_id)
        .where(*_journal_conditions(filters))
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    found = db.session.execute(
        base.order_by(Journal.occurred_at.desc(), Journal.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    account_ids = {entry.account_id for journal, _, _ in found for entry in journal.entries}
    accounts = {account.id: account for account in db.session.scalars(
        sa.select(LedgerAccount).where(LedgerAccount.id.in_(account_ids)))} if account_ids else {}
    rows = [
        JournalRow(
            journal=journal, dp_reference=dp_reference, order_reference=order_reference,
            lines=[JournalLine(code=accounts[entry.account_id].code, kind=accounts[entry.account_id].kind,
                               pence=entry.amount_pence)
                   for entry in sorted(journal.entries, key=lambda entry: entry.amount_pence)],
        )
        for journal, dp_reference, order_reference in found
    ]
    return Page(items=rows, total=total, page=page, per_page=per_page)


# --- Exceptions ------------------------------------------------------------------------------------------------


class ExceptionNotFound(LookupError):
    pass


class AlreadyReviewed(Exception):
    pass


@dataclass(frozen=True)
class ExceptionFilters:
    kind: ExceptionKind | None = None
    reviewed: bool = False  # False: waiting for review; True: reviewed


@dataclass(frozen=True)
class ExceptionRow:
    exception: SpendingException
    dp_reference: str | None
    order_reference: str | None
    reviewer_name: str | None


def exceptions(*, filters: ExceptionFilters, page: int = 1, per_page: int = 25) -> Page:
    """Spending exceptions waiting for review (oldest first: first in, first looked at) or reviewed (newest
    first)."""
    reviewer = aliased(User)
    waiting = SpendingException.reviewed_at.is_(None)
    base = (
        sa.select(SpendingException, DirectPaymentAccount.reference, Order.reference, reviewer.name)
        .outerjoin(DirectPaymentAccount, DirectPaymentAccount.id == SpendingException.dp_account_id)
        .outerjoin(Order, Order.id == SpendingException.order_id)
        .outerjoin(reviewer, reviewer.id == SpendingException.reviewed_by_id)
        .where(sa.not_(waiting) if filters.reviewed else waiting)
    )
    if filters.kind is not None:
        base = base.where(SpendingException.kind == filters.kind)
    order = (SpendingException.reviewed_at.desc(),) if filters.reviewed else (SpendingException.occurred_at,)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    found = db.session.execute(
        base.order_by(*order, SpendingException.id).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=[ExceptionRow(*row) for row in found], total=total, page=page, per_page=per_page)


def exception_row(exception_id: uuid.UUID) -> ExceptionRow | None:
    reviewer = aliased(User)
    found = db.session.execute(
        sa.select(SpendingException, DirectPaymentAccount.reference, Order.reference, reviewer.name)
        .outerjoin(DirectPaymentAccount, DirectPaymentAccount.id == SpendingException.dp_account_id)
        .outerjoin(Order, Order.id == SpendingException.order_id)
        .outerjoin(reviewer, reviewer.id == SpendingException.reviewed_by_id)
        .where(SpendingException.id == exception_id)
    ).first()
    return ExceptionRow(*found) if found else None


def waiting_exceptions_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(SpendingException.id)).where(
        SpendingException.reviewed_at.is_(None)))


def review_exception(*, actor: User, exception_id: uuid.UUID, note: str) -> SpendingException:
    """Mark an exception reviewed with the officer's note. Raises ExceptionNotFound or AlreadyReviewed."""
    exception = db.session.scalar(
        sa.select(SpendingException).where(SpendingException.id == exception_id).with_for_update())
    if exception is None:
        raise ExceptionNotFound(exception_id)
    if exception.reviewed_at is not None:
        raise AlreadyReviewed(exception_id)
    exception.reviewed_at = utcnow()
    exception.reviewed_by_id = actor.id
    exception.review_note = note
    audit.record(actor=actor, action="spending_exception.reviewed", subject=exception,
                 before={"reviewed_at": None, "review_note": ""},
                 after={"reviewed_at": exception.reviewed_at, "review_note": note},
                 details={"kind": exception.kind.value})
    return exception


# --- Unusual patterns ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternSettings:
    max_orders_per_day: int = 10  # more orders than this on one day
    provider_share_percent: int = 80  # one provider taking more than this share of a period's spend
    provider_share_min_pence: int = 10_000  # ... once the period's spend is at least this
    quiet_hours: tuple[int, int] = (0, 5)  # orders placed from midnight to 5am (UK time)
    lookback_days: int = 56

    @classmethod
    def from_config(cls) -> PatternSettings:
        config = current_app.config
        return cls(
            max_orders_per_day=int(config.get("DP_PATTERN_MAX_ORDERS_PER_DAY", cls.max_orders_per_day)),
            provider_share_percent=int(config.get("DP_PATTERN_PROVIDER_SHARE_PERCENT", cls.provider_share_percent)),
            provider_share_min_pence=int(config.get("DP_PATTERN_PROVIDER_SHARE_MIN_PENCE",
                                                    cls.provider_share_min_pence)),
        )


@dataclass(frozen=True)
class Pattern:
    key: str  # the same pattern found again has the same key, so it is recorded once
    dp_account_id: uuid.UUID
    details: dict
    order_id: uuid.UUID | None = None


def _many_orders(account: DirectPaymentAccount, orders: list, settings: PatternSettings) -> list[Pattern]:
    per_day: dict[date, list] = defaultdict(list)
    for order_id, _organisation_id, created_at in orders:
        per_day[uk_date(created_at)].append(order_id)
    return [
        Pattern(key=f"many_orders:{day.isoformat()}", dp_account_id=account.id, details={
            "pattern": "many_orders", "day": day.isoformat(), "orders": len(ids),
            "limit": settings.max_orders_per_day,
        })
        for day, ids in sorted(per_day.items()) if len(ids) > settings.max_orders_per_day
    ]


def _quiet_hours(account: DirectPaymentAccount, orders: list, settings: PatternSettings) -> list[Pattern]:
    start, end = settings.quiet_hours
    return [
        Pattern(key=f"quiet_hours:{order_id}", dp_account_id=account.id, order_id=order_id, details={
            "pattern": "quiet_hours", "placed_at": created_at.astimezone(UK).strftime("%Y-%m-%d %H:%M"),
        })
        for order_id, _organisation_id, created_at in orders if start <= created_at.astimezone(UK).hour < end
    ]


def _one_provider(account: DirectPaymentAccount, since: datetime, settings: PatternSettings) -> list[Pattern]:
    """Captured spend per period and provider; one provider above the share of a period's spend."""
    from portal.data.statements import journal_period

    rows = db.session.execute(
        sa.select(Journal.period_number, Journal.occurred_at, LedgerAccount.organisation_id, Entry.amount_pence)
        .join(Entry, Entry.journal_id == Journal.id)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(Journal.dp_account_id == account.id, Journal.kind == JournalKind.CAPTURE,
               LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE, Journal.occurred_at >= since)
    ).all()
    spend: dict[int, dict[uuid.UUID, int]] = defaultdict(lambda: defaultdict(int))
    for period_number, occurred_at, organisation_id, pence in rows:
        spend[journal_period(account, period_number, occurred_at)][organisation_id] += pence
    found = []
    for number, by_provider in sorted(spend.items()):
        total = sum(by_provider.values())
        organisation_id, top = max(by_provider.items(), key=lambda item: item[1])
        if total >= settings.provider_share_min_pence and top * 100 > total * settings.provider_share_percent:
            found.append(Pattern(key=f"one_provider:{number}:{organisation_id}", dp_account_id=account.id, details={
                "pattern": "one_provider", "period": number + 1,
                "period_starts": period(account, number).starts_on.isoformat(),
                "organisation_id": str(organisation_id),
                "organisation": db.session.get(Organisation, organisation_id).name,
                "share_percent": round(top * 100 / total), "spent_pence": total,
            }))
    return found


def find_unusual_patterns(account: DirectPaymentAccount, *, settings: PatternSettings, now: datetime) -> list[Pattern]:
    since = now - timedelta(days=settings.lookback_days)
    orders = db.session.execute(
        sa.select(Order.id, Order.organisation_id, Order.created_at)
        .where(Order.dp_account_id == account.id, Order.created_at >= since)
        .order_by(Order.created_at)
    ).all()
    return [*_many_orders(account, orders, settings), *_quiet_hours(account, orders, settings),
            *_one_provider(account, since, settings)]


def open_account_ids() -> list[uuid.UUID]:
    return list(db.session.scalars(sa.select(DirectPaymentAccount.id).where(
        DirectPaymentAccount.status != DPAccountStatus.CLOSED).order_by(DirectPaymentAccount.reference)))


def record_patterns_for_account(*, account_id: uuid.UUID, actor: User | None = None, now: datetime | None = None,
                                settings: PatternSettings | None = None) -> list[SpendingException]:
    """Record each new unusual pattern of one account once, as an UNUSUAL_PATTERN exception.

    The account is locked while its patterns are compared with those already recorded, so two runs at once record a
    pattern once. Returns the exceptions added."""
    settings = settings or PatternSettings.from_config()
    account = db.session.get(DirectPaymentAccount, account_id)
    patterns = find_unusual_patterns(account, settings=settings, now=now or utcnow())
    if not patterns:
        return []
    lock_dp_account(account_id)
    known = {(details or {}).get("key") for details in db.session.scalars(
        sa.select(SpendingException.details).where(
            SpendingException.dp_account_id == account_id,
            SpendingException.kind == ExceptionKind.UNUSUAL_PATTERN))}
    added = []
    for pattern in patterns:
        if pattern.key in known:
            continue
        order = db.session.get(Order, pattern.order_id) if pattern.order_id else None
        added.append(record_exception(ExceptionKind.UNUSUAL_PATTERN, dp_account=account, order=order, actor=actor,
                                      details={**pattern.details, "key": pattern.key}))
        known.add(pattern.key)
    if added:
        db.session.flush()
        audit.record(actor=actor, action="spending_patterns.recorded", subject=account,
                     details={"keys": [exception.details["key"] for exception in added]})
    return added


def record_unusual_patterns(*, actor: User | None = None, now: datetime | None = None,
                            settings: PatternSettings | None = None) -> list[SpendingException]:
    """Every open account's new unusual patterns, in the caller's transaction (the command line commits per
    account instead: see portal/dp_audit_cli.py)."""
    settings = settings or PatternSettings.from_config()
    now = now or utcnow()
    return [exception for account_id in open_account_ids()
            for exception in record_patterns_for_account(account_id=account_id, actor=actor, now=now,
                                                         settings=settings)]


# --- Surplus reclaimed -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReclaimRow:
    journal: Journal
    dp_reference: str
    holder_name: str
    pence: int
    period_number: int | None


def reclaims(*, page: int = 1, per_page: int = 25) -> tuple[Page, int]:
    """Surplus reclaims, newest first, and their total."""
    recovered = (
        sa.select(Entry.journal_id, Entry.amount_pence)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(LedgerAccount.kind == LedgerAccountKind.COUNCIL_RECOVERED)
        .subquery()
    )
    base = (
        sa.select(Journal, DirectPaymentAccount.reference, User.name, recovered.c.amount_pence)
        .join(recovered, recovered.c.journal_id == Journal.id)
        .join(DirectPaymentAccount, DirectPaymentAccount.id == Journal.dp_account_id)
        .join(User, User.id == DirectPaymentAccount.holder_id)
        .where(Journal.kind == JournalKind.RECLAIM)
    )
    total_rows = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    total_pence = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(recovered.c.amount_pence), 0))
        .join(Journal, Journal.id == recovered.c.journal_id).where(Journal.kind == JournalKind.RECLAIM))
    found = db.session.execute(
        base.order_by(Journal.occurred_at.desc(), Journal.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    rows = [ReclaimRow(journal=journal, dp_reference=reference, holder_name=name, pence=pence,
                       period_number=journal.period_number)
            for journal, reference, name, pence in found]
    return Page(items=rows, total=total_rows, page=page, per_page=per_page), int(total_pence)
