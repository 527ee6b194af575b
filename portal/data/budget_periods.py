"""Budget periods: the four-week periods of a direct payment and the money that moves at their edges.

Period ``n`` of an account starts on ``start_date + 28 * n`` days (PERIOD_DAYS) and ends the day before period
``n + 1`` starts. Each movement is one ledger journal with an idempotency key, so a timer may run every day, twice
at once, or again after a crash, and the money still moves once:

- allocation, ``allocate:{account}:{period}``: council funding -> available, the period budget less the client's
  contribution (the contribution arrives separately);
- client contribution received, ``contribution:{account}:{period}``: client contribution -> available;
- emergency top-up, ``top-up:{account}:{token}``: council funding -> available; the token is made once per form,
  so a double submit posts once;
- reclaim at the end of a period, ``reclaim:{account}:{period}``: available -> council recovered, whatever is
  available above the contingency. Money held for open orders sits in the held account, so it is never reclaimed;
  money credited for a later period (an allocation already posted for the new period) is left alone too, so running
  reclaim after allocate on the first day of a period takes nothing that belongs to the new one.

Every function that moves money takes the account's row lock first (``lock_dp_account``) and never commits: the
command line commits once per account, the web request once per request.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

import sqlalchemy as sa

from portal.data.audit import record
from portal.extensions import db
from portal.ledger import balance, captured_pence, ledger_account, lock_dp_account, transfer
from portal.models import (
    PERIOD_DAYS,
    DirectPaymentAccount,
    DPAccountStatus,
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    User,
)

TOP_UP_MAX_PENCE = 1_000_000  # £10,000: an emergency top-up larger than this is a plan change, not a top-up
CREDIT_KINDS = (JournalKind.ALLOCATION, JournalKind.CONTRIBUTION, JournalKind.TOP_UP)


class BudgetPeriodError(Exception):
    """A movement of money that cannot be made."""


class AccountNotActive(BudgetPeriodError):
    """The account is suspended or closed: no money is added to it."""


class NotStarted(BudgetPeriodError):
    """The date is before the account's first period."""


class NothingToRecord(BudgetPeriodError):
    """The plan has no client contribution to record."""


class AlreadyRecorded(BudgetPeriodError):
    """That period's contribution was recorded before."""


class InvalidAmount(BudgetPeriodError):
    """An amount of money that is not allowed here."""


# --- Period arithmetic ---------------------------------------------------------------------------------------


def period_number_on(dp_account: DirectPaymentAccount, day: date) -> int | None:
    """The period covering ``day``, or None when the account has not started yet."""
    if day < dp_account.start_date:
        return None
    return (day - dp_account.start_date).days // PERIOD_DAYS


def period_start(dp_account: DirectPaymentAccount, number: int) -> date:
    return dp_account.start_date + timedelta(days=PERIOD_DAYS * number)


def period_end(dp_account: DirectPaymentAccount, number: int) -> date:
    """The period's last day (inclusive)."""
    return period_start(dp_account, number + 1) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    number: int
    starts_on: date
    ends_on: date  # inclusive

    @property
    def label_number(self) -> int:  # people count from 1
        return self.number + 1


def period(dp_account: DirectPaymentAccount, number: int) -> Period:
    return Period(number, period_start(dp_account, number), period_end(dp_account, number))


def current_period(dp_account: DirectPaymentAccount, today: date | None = None) -> Period | None:
    """The period covering today, or None before the start date."""
    number = period_number_on(dp_account, today or date.today())
    return None if number is None else period(dp_account, number)


def allocation_pence(dp_account: DirectPaymentAccount) -> int:
    """What the council loads each period: the budget less the client's own contribution."""
    return max(0, dp_account.period_budget_pence - dp_account.client_contribution_pence)


# --- Reading the ledger ------------------------------------------------------------------------------------------


def journal_by_key(key: str) -> Journal | None:
    return db.session.scalar(sa.select(Journal).where(Journal.idempotency_key == key))


def allocation_key(dp_account_id: uuid.UUID, number: int) -> str:
    return f"allocate:{dp_account_id}:{number}"


def contribution_key(dp_account_id: uuid.UUID, number: int) -> str:
    return f"contribution:{dp_account_id}:{number}"


def reclaim_key(dp_account_id: uuid.UUID, number: int) -> str:
    return f"reclaim:{dp_account_id}:{number}"


def top_up_key(dp_account_id: uuid.UUID, token: str) -> str:
    return f"top-up:{dp_account_id}:{token}"


def new_top_up_token() -> str:
    """A one-time token for one top-up form: the journal's key, so submitting the form twice posts once."""
    return secrets.token_urlsafe(18)


def _credited_after(dp_account: DirectPaymentAccount, number: int) -> int:
    """Money paid into ``available`` for periods after ``number``: it belongs to those periods."""
    return int(db.session.scalar(  # int(): PostgreSQL sums bigints as numeric
        sa.select(sa.func.coalesce(sa.func.sum(Entry.amount_pence), 0))
        .join(Journal, Journal.id == Entry.journal_id)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(
            Journal.dp_account_id == dp_account.id,
            Journal.kind.in_(CREDIT_KINDS),
            Journal.period_number > number,
            LedgerAccount.kind == LedgerAccountKind.DP_AVAILABLE,
        )
    ))


def _available(dp_account: DirectPaymentAccount) -> LedgerAccount:
    return ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp_account)


def _available_balance(dp_account: DirectPaymentAccount) -> int:
    return int(balance(_available(dp_account)))  # PostgreSQL sums bigints as numeric


# --- Moving money ------------------------------------------------------------------------------------------------


class Outcome(Enum):
    POSTED = "posted"
    ALREADY_DONE = "already done"
    NOTHING_TO_DO = "nothing to do"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Result:
    reference: str
    outcome: Outcome
    pence: int = 0
    period_number: int | None = None
    journal: Journal | None = None
    note: str = ""


def allocate(*, dp_account_id: uuid.UUID, on: date, actor: User | None = None) -> Result:
    """Load the budget of the period covering ``on`` into an ACTIVE account, unless already loaded.

    Takes the account's row lock first, so two runs at once post one allocation. Never raises for an account
    that needs nothing: the Result says what happened.
    """
    dp_account = lock_dp_account(dp_account_id)
    if dp_account.status is not DPAccountStatus.ACTIVE:
        return Result(dp_account.reference, Outcome.SKIPPED, note=dp_account.status.value)
    number = period_number_on(dp_account, on)
    if number is None:
        return Result(dp_account.reference, Outcome.SKIPPED, note=f"starts on {dp_account.start_date.isoformat()}")
    key = allocation_key(dp_account.id, number)
    found = journal_by_key(key)
    if found is not None:
        return Result(dp_account.reference, Outcome.ALREADY_DONE, period_number=number, journal=found)
    pence = allocation_pence(dp_account)
    if pence == 0:
        return Result(dp_account.reference, Outcome.NOTHING_TO_DO, period_number=number,
                      note="the client contribution covers the whole budget")
    journal = transfer(
        kind=JournalKind.ALLOCATION, key=key, source=ledger_account(LedgerAccountKind.COUNCIL_FUNDING),
        destination=_available(dp_account), pence=pence, memo=f"Budget for period {number + 1}",
        actor=actor, dp_account=dp_account, period_number=number,
    )
    record(actor=actor, action="dp.budget_allocated", subject=dp_account,
           details={"period": number, "pence": pence, "journal": key})
    return Result(dp_account.reference, Outcome.POSTED, pence=pence, period_number=number, journal=journal)


def reclaim(*, dp_account_id: uuid.UUID, on: date, actor: User | None = None) -> Result:
    """Move the surplus of the last period that ended before ``on`` back to the council, once per period.

    The surplus is what is available above the contingency, less money credited for later periods. Accounts that
    are active or suspended are reclaimed; a closed account has nothing left. Nothing is posted when there is no
    surplus (a later run looks again: a released hold may have made one).
    """
    dp_account = lock_dp_account(dp_account_id)
    if dp_account.status is DPAccountStatus.CLOSED:
        return Result(dp_account.reference, Outcome.SKIPPED, note="closed")
    current = period_number_on(dp_account, on)
    if not current:  # not started, or still in its first period: no period has ended
        return Result(dp_account.reference, Outcome.SKIPPED, note="no period has ended yet")
    number = current - 1
    key = reclaim_key(dp_account.id, number)
    found = journal_by_key(key)
    if found is not None:
        return Result(dp_account.reference, Outcome.ALREADY_DONE, period_number=number, journal=found)
    surplus = _available_balance(dp_account) - dp_account.contingency_pence - _credited_after(dp_account, number)
    if surplus <= 0:
        return Result(dp_account.reference, Outcome.NOTHING_TO_DO, period_number=number,
                      note="nothing above the contingency")
    journal = transfer(
        kind=JournalKind.RECLAIM, key=key, source=_available(dp_account),
        destination=ledger_account(LedgerAccountKind.COUNCIL_RECOVERED), pence=surplus,
        memo=f"Surplus above the contingency at the end of period {number + 1}",
        actor=actor, dp_account=dp_account, period_number=number,
    )
    record(actor=actor, action="dp.surplus_reclaimed", subject=dp_account,
           details={"period": number, "pence": surplus, "contingency_pence": dp_account.contingency_pence,
                    "journal": key})
    return Result(dp_account.reference, Outcome.POSTED, pence=surplus, period_number=number, journal=journal)


def top_up(*, actor: User, dp_account_id: uuid.UUID, pence: int, reason: str, token: str,
           today: date | None = None) -> tuple[Journal, bool]:
    """An emergency top-up from council funding, with the officer's reason. Returns the journal and whether it was
    posted now (False: this form was already submitted, and the first submission's journal is returned).

    Raises AccountNotActive, NotStarted or InvalidAmount.
    """
    dp_account = lock_dp_account(dp_account_id)
    key = top_up_key(dp_account.id, token)
    found = journal_by_key(key)
    if found is not None:
        return found, False
    if dp_account.status is not DPAccountStatus.ACTIVE:
        raise AccountNotActive(dp_account.status.value)
    if not 0 < pence <= TOP_UP_MAX_PENCE:
        raise InvalidAmount(pence)
    number = period_number_on(dp_account, today or date.today())
    if number is None:
        raise NotStarted(dp_account.start_date)
    journal = transfer(
        kind=JournalKind.TOP_UP, key=key, source=ledger_account(LedgerAccountKind.COUNCIL_FUNDING),
        destination=_available(dp_account), pence=pence, memo=reason.strip(), actor=actor,
        dp_account=dp_account, period_number=number,
    )
    record(actor=actor, action="dp.topped_up", subject=dp_account,
           details={"period": number, "pence": pence, "reason": reason.strip(), "journal": key})
    return journal, True


def contribution_periods(dp_account: DirectPaymentAccount, *, today: date | None = None,
                         limit: int = 6) -> list[Period]:
    """Periods up to now whose contribution has not been recorded yet, newest first."""
    current = period_number_on(dp_account, today or date.today())
    if current is None or dp_account.client_contribution_pence == 0:
        return []
    numbers = range(current, max(-1, current - limit), -1)
    keys = {contribution_key(dp_account.id, n): n for n in numbers}
    done = set(db.session.scalars(sa.select(Journal.idempotency_key).where(Journal.idempotency_key.in_(keys))))
    return [period(dp_account, n) for key, n in keys.items() if key not in done]


def record_contribution(*, actor: User, dp_account_id: uuid.UUID, period_number: int,
                        today: date | None = None) -> Journal:
    """The client's contribution for a period has been received: it becomes available to spend.

    Raises NothingToRecord, AlreadyRecorded, NotStarted (a period that has not begun) or AccountNotActive (closed).
    """
    dp_account = lock_dp_account(dp_account_id)
    if dp_account.status is DPAccountStatus.CLOSED:
        raise AccountNotActive(dp_account.status.value)
    pence = dp_account.client_contribution_pence
    if pence == 0:
        raise NothingToRecord(dp_account.reference)
    current = period_number_on(dp_account, today or date.today())
    if current is None or not 0 <= period_number <= current:
        raise NotStarted(period_number)
    key = contribution_key(dp_account.id, period_number)
    if journal_by_key(key) is not None:
        raise AlreadyRecorded(period_number)
    journal = transfer(
        kind=JournalKind.CONTRIBUTION, key=key,
        source=ledger_account(LedgerAccountKind.CLIENT_CONTRIBUTION, dp_account=dp_account),
        destination=_available(dp_account), pence=pence,
        memo=f"Client contribution for period {period_number + 1}", actor=actor, dp_account=dp_account,
        period_number=period_number,
    )
    record(actor=actor, action="dp.contribution_recorded", subject=dp_account,
           details={"period": period_number, "pence": pence, "journal": key})
    return journal


# --- Every account at once (the command line) --------------------------------------------------------------------


def account_ids(statuses: tuple[DPAccountStatus, ...]) -> list[uuid.UUID]:
    """Ids of the accounts in these states, by reference. The caller ends this reading transaction before working
    on each account, so each account's work starts with its row lock (on SQLite a read first would make the lock
    fail instead of wait)."""
    return list(db.session.scalars(
        sa.select(DirectPaymentAccount.id).where(DirectPaymentAccount.status.in_(statuses))
        .order_by(DirectPaymentAccount.reference)
    ))


def spent_in_period(dp_account: DirectPaymentAccount, in_period: Period) -> int:
    """Pence captured for delivered care during the period (by the capture's date)."""
    starts = datetime.combine(in_period.starts_on, time.min, tzinfo=UTC)
    ends = datetime.combine(in_period.ends_on + timedelta(days=1), time.min, tzinfo=UTC)
    return captured_pence(dp_account, since=starts, until=ends)
