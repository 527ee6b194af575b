"""Checks that must hold for the whole ledger at any committed moment. The test suite runs them after every test;
`flask ledger check` runs them against a live database. Each returns plain-English problems, empty when sound."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Entry, Journal, JournalKind, LedgerAccount, LedgerAccountKind, Order, OrderState

# Orders whose money is still held on the card: the hold is posted at checkout and released or captured at the end.
HOLDING_STATES = [state for state in OrderState if not state.is_final]


def check_invariants() -> list[str]:
    return [
        *_journals_balance(),
        *_accounts_not_below_zero(),
        *_entries_belong_to_their_journal_account(),
        *_captures_match_orders(),
        *_holds_match_open_orders(),
    ]


def _journals_balance() -> list[str]:
    total = sa.func.coalesce(sa.func.sum(Entry.amount_pence), 0)
    rows = db.session.execute(
        sa.select(Journal.idempotency_key, sa.func.count(Entry.id), total)
        .outerjoin(Entry, Entry.journal_id == Journal.id)
        .group_by(Journal.id, Journal.idempotency_key)
        .having(sa.or_(total != 0, sa.func.count(Entry.id) < 2))
    )
    return [f"journal {key} has {lines} lines summing to {total}p, not zero" for key, lines, total in rows]


def _accounts_not_below_zero() -> list[str]:
    protected = [kind for kind in LedgerAccountKind if not kind.may_go_negative]
    rows = db.session.execute(
        sa.select(LedgerAccount.code, sa.func.sum(Entry.amount_pence))
        .join(Entry, Entry.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind.in_(protected))
        .group_by(LedgerAccount.id, LedgerAccount.code)
        .having(sa.func.sum(Entry.amount_pence) < 0)
    )
    return [f"account {code} is below zero: {total}p" for code, total in rows]


def _entries_belong_to_their_journal_account() -> list[str]:
    """A holder's ledger accounts move only in journals filed under that holder, so statements miss nothing."""
    rows = db.session.execute(
        sa.select(Journal.idempotency_key, LedgerAccount.code)
        .join(Entry, Entry.journal_id == Journal.id)
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(
            LedgerAccount.dp_account_id.is_not(None),
            sa.or_(Journal.dp_account_id.is_(None), Journal.dp_account_id != LedgerAccount.dp_account_id),
        )
    )
    return [f"journal {key} moves {code} but is not filed under that direct-payment account" for key, code in rows]


def _captures_match_orders() -> list[str]:
    """Every captured payment matches exactly one capture journal for the amount captured, and vice versa."""
    problems = []
    captured = sa.func.coalesce(
        sa.select(sa.func.sum(Entry.amount_pence))
        .join(LedgerAccount, LedgerAccount.id == Entry.account_id)
        .where(Entry.journal_id == Journal.id, LedgerAccount.kind == LedgerAccountKind.PROVIDER_PAYABLE)
        .scalar_subquery(),
        0,
    )
    journals = db.session.execute(
        sa.select(Journal.order_id, Journal.stripe_object_id, Journal.idempotency_key, captured).where(
            Journal.kind == JournalKind.CAPTURE
        )
    ).all()
    by_order: dict = {}
    for order_id, intent_id, key, pence in journals:
        by_order.setdefault(order_id, []).append((intent_id, key, pence))
    orders = db.session.execute(
        sa.select(Order.id, Order.reference, Order.payment_intent_id, Order.captured_pence).where(
            sa.or_(Order.captured_pence > 0, Order.id.in_([order_id for order_id in by_order if order_id]))
        )
    ).all()
    known = set()
    for order_id, reference, intent_id, captured_pence in orders:
        known.add(order_id)
        found = by_order.get(order_id, [])
        if (captured_pence or 0) > 0 and len(found) != 1:
            problems.append(f"order {reference} captured {captured_pence}p but has {len(found)} capture journals")
            continue
        for journal_intent, key, pence in found:
            if pence != (captured_pence or 0) or journal_intent != intent_id:
                problems.append(
                    f"capture journal {key} ({pence}p, {journal_intent}) does not match order {reference} "
                    f"({captured_pence}p, {intent_id})"
                )
    for order_id, entries in by_order.items():
        if order_id not in known:
            problems.extend(f"capture journal {key} belongs to no order" for _, key, _ in entries)
    return problems


def _holds_match_open_orders() -> list[str]:
    """Each holder's held balance is exactly the total of their orders still in progress."""
    held = (
        sa.select(LedgerAccount.dp_account_id, sa.func.sum(Entry.amount_pence).label("pence"))
        .join(Entry, Entry.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == LedgerAccountKind.DP_HELD)
        .group_by(LedgerAccount.dp_account_id)
    )
    open_orders = (
        sa.select(Order.dp_account_id, sa.func.sum(Order.amount_pence).label("pence"))
        .where(Order.state.in_(HOLDING_STATES))
        .group_by(Order.dp_account_id)
    )
    held_by_account = {dp_id: pence for dp_id, pence in db.session.execute(held)}
    open_by_account = {dp_id: pence for dp_id, pence in db.session.execute(open_orders)}
    problems = []
    for dp_id in held_by_account.keys() | open_by_account.keys():
        if held_by_account.get(dp_id, 0) != open_by_account.get(dp_id, 0):
            problems.append(
                f"direct-payment account {dp_id} holds {held_by_account.get(dp_id, 0)}p but its open orders total "
                f"{open_by_account.get(dp_id, 0)}p"
            )
    return problems
