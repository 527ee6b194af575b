"""Posting to the double-entry ledger, and reading balances from it.

Every movement of money is one Journal whose Entries sum to zero, under a unique idempotency key: posting the same
key again returns the journal already there, so a retried request, a replayed webhook or a second run of a daily
timer moves nothing twice. Balances are sums of entries, never stored totals. The tables refuse UPDATE and DELETE
(triggers in migration 0005): a mistake is put right by a reversing journal.

Spending from a holder's account is safe under concurrency only when the caller first takes the account's row lock
(`lock_dp_account`), then checks and posts in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    DirectPaymentAccount,
    Entry,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerAccountKind,
    Order,
    Organisation,
    User,
)


class LedgerError(Exception):
    """A journal that must not be posted."""


class UnbalancedJournal(LedgerError):
    pass


class JournalConflict(LedgerError):
    """The idempotency key is already used by a journal with different lines: a bug, never a retry."""


class InsufficientFunds(LedgerError):
    def __init__(self, account: LedgerAccount, balance: int, change: int):
        super().__init__(f"{account.code} holds {balance}p; {-change}p cannot be taken from it")
        self.account = account
        self.balance = balance
        self.change = change


def _code(kind: LedgerAccountKind, dp_account_id: uuid.UUID | None, organisation_id: uuid.UUID | None) -> str:
    if kind in {LedgerAccountKind.DP_AVAILABLE, LedgerAccountKind.DP_HELD}:
        if dp_account_id is None:
            raise LedgerError(f"a {kind.value} account belongs to a direct-payment account")
        return f"dp:{dp_account_id}:{kind.value.removeprefix('dp_')}"
    if kind in {LedgerAccountKind.PROVIDER_PAYABLE, LedgerAccountKind.PROVIDER_PAID}:
        if organisation_id is None:
            raise LedgerError(f"a {kind.value} account belongs to an organisation")
        return f"provider:{organisation_id}:{kind.value.removeprefix('provider_')}"
    if kind is LedgerAccountKind.CLIENT_CONTRIBUTION:
        if dp_account_id is None:
            raise LedgerError("a client contribution account belongs to a direct-payment account")
        return f"dp:{dp_account_id}:contribution"
    return kind.value.replace("_", ":", 1)  # council:funding, council:recovered, stripe:clearing


def ledger_account(
    kind: LedgerAccountKind,
    *,
    dp_account: DirectPaymentAccount | None = None,
    organisation: Organisation | None = None,
) -> LedgerAccount:
    """The ledger account of this kind (for this holder or provider), created the first time it is needed."""
    dp_account_id = dp_account.id if dp_account is not None else None
    organisation_id = organisation.id if organisation is not None else None
    code = _code(kind, dp_account_id, organisation_id)
    found = db.session.scalar(sa.select(LedgerAccount).where(LedgerAccount.code == code))
    if found is not None:
        return found
    account = LedgerAccount(code=code, kind=kind, dp_account_id=dp_account_id, organisation_id=organisation_id)
    try:
        with db.session.begin_nested():  # another transaction may create the same account at the same moment
            db.session.add(account)
    except IntegrityError:
        return db.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.code == code)).one()
    return account


def balance(account: LedgerAccount) -> int:
    """The account's balance in pence: the sum of its entries (an int: PostgreSQL sums BIGINT as NUMERIC)."""
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Entry.amount_pence), 0)).where(Entry.account_id == account.id)
    ))


def _same_lines(journal: Journal, lines: list[tuple[LedgerAccount, int]]) -> bool:
    posted = sorted((entry.account_id, entry.amount_pence) for entry in journal.entries)
    return posted == sorted((account.id, pence) for account, pence in lines)


def post_journal(
    *,
    kind: JournalKind,
    key: str,
    lines: list[tuple[LedgerAccount, int]],
    memo: str = "",
    actor: User | None = None,
    dp_account: DirectPaymentAccount | None = None,
    order: Order | None = None,
    period_number: int | None = None,
    stripe_object_id: str | None = None,
    reverses: Journal | None = None,
) -> Journal:
    """Post one journal, or return the one already posted under ``key``.

    Raises UnbalancedJournal, JournalConflict, or InsufficientFunds when an account that may not go below zero
    would. Never commits.
    """
    if not lines or any(not isinstance(pence, int) or isinstance(pence, bool) for _, pence in lines):
        raise UnbalancedJournal("a journal needs lines of whole pence")
    if any(pence == 0 for _, pence in lines) or sum(pence for _, pence in lines) != 0:
        raise UnbalancedJournal(f"journal {key!r}: lines must be non-zero and sum to zero")
    db.session.flush()  # accounts created just now need their ids
    existing = db.session.scalar(sa.select(Journal).where(Journal.idempotency_key == key))
    if existing is not None:
        if not _same_lines(existing, lines):
            raise JournalConflict(f"journal {key!r} was already posted with different lines")
        return existing

    for account, pence in _net_by_account(lines):
        if pence < 0 and not account.kind.may_go_negative:
            current = balance(account)
            if current + pence < 0:
                raise InsufficientFunds(account, current, pence)

    journal = Journal(
        idempotency_key=key,
        kind=kind,
        memo=memo[:500],
        actor_id=actor.id if actor is not None else None,
        dp_account_id=dp_account.id if dp_account is not None else None,
        order_id=order.id if order is not None else None,
        period_number=period_number,
        stripe_object_id=stripe_object_id,
        reverses_id=reverses.id if reverses is not None else None,
    )
    journal.entries = [Entry(account_id=account.id, amount_pence=pence) for account, pence in lines]
    try:
        with db.session.begin_nested():  # the same key posted concurrently: the loser finds the winner's journal
            db.session.add(journal)
    except IntegrityError:
        existing = db.session.scalars(sa.select(Journal).where(Journal.idempotency_key == key)).one()
        if not _same_lines(existing, lines):
            raise JournalConflict(f"journal {key!r} was already posted with different lines") from None
        return existing
    return journal


def _net_by_account(lines: list[tuple[LedgerAccount, int]]) -> list[tuple[LedgerAccount, int]]:
    net: dict[int, list] = {}
    for account, pence in lines:
        net.setdefault(account.id, [account, 0])[1] += pence
    return [(account, pence) for account, pence in net.values()]


def transfer(
    *,
    kind: JournalKind,
    key: str,
    source: LedgerAccount,
    destination: LedgerAccount,
    pence: int,
    **details,
) -> Journal:
    """Move ``pence`` from one account to another as a two-line journal."""
    if pence <= 0:
        raise UnbalancedJournal("a transfer moves a positive amount")
    return post_journal(kind=kind, key=key, lines=[(source, -pence), (destination, pence)], **details)


def reverse(journal: Journal, *, key: str, memo: str, actor: User | None = None) -> Journal:
    """A journal that undoes ``journal`` exactly (the ledger is never edited)."""
    accounts = {account.id: account for account in db.session.scalars(
        sa.select(LedgerAccount).where(LedgerAccount.id.in_([entry.account_id for entry in journal.entries]))
    )}
    return post_journal(
        kind=JournalKind.REVERSAL,
        key=key,
        lines=[(accounts[entry.account_id], -entry.amount_pence) for entry in journal.entries],
        memo=memo,
        actor=actor,
        dp_account=db.session.get(DirectPaymentAccount, journal.dp_account_id) if journal.dp_account_id else None,
        order=db.session.get(Order, journal.order_id) if journal.order_id else None,
        period_number=journal.period_number,
        stripe_object_id=journal.stripe_object_id,
        reverses=journal,
    )


@dataclass(frozen=True)
class DPBalances:
    available: int  # free to spend
    held: int  # authorised for orders not yet captured
    spent: int  # captured for delivered care, all time


def dp_balances(dp_account: DirectPaymentAccount) -> DPBalances:
    available = ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp_account)
    held = ledger_account(LedgerAccountKind.DP_HELD, dp_account=dp_account)
    return DPBalances(available=balance(available), held=balance(held), spent=captured_pence(dp_account))


def captured_pence(dp_account: DirectPaymentAccount, *, since: datetime | None = None,
                   until: datetime | None = None) -> int:
    """Pence captured from the holder for delivered care (paid to providers), optionally in [since, until)."""
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(Entry.amount_pence), 0))
        .join(Journal, Journal.id == Entry.journal_id)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(
            Journal.kind == JournalKind.CAPTURE,
            Journal.dp_account_id == dp_account.id,
            LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE,
        )
    )
    if since is not None:
        query = query.where(Journal.occurred_at >= since)
    if until is not None:
        query = query.where(Journal.occurred_at < until)
    return int(db.session.scalar(query))


def lock_dp_account(dp_account_id: uuid.UUID) -> DirectPaymentAccount:
    """Take the account's row lock for the rest of the transaction and return it freshly loaded.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: a no-op UPDATE takes the database's write lock
    now, before anything is read, so the balance read next cannot be stale.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(DirectPaymentAccount)
            .where(DirectPaymentAccount.id == dp_account_id)
            .values(reference=DirectPaymentAccount.reference)
            .execution_options(synchronize_session=False)
        )
    account = db.session.scalar(
        sa.select(DirectPaymentAccount)
        .where(DirectPaymentAccount.id == dp_account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if account is None:
        raise LookupError(dp_account_id)
    return account
