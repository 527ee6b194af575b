"""The double-entry ledger: balanced, idempotent, append-only, never below zero, safe under concurrency."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from portal.ledger import (
    InsufficientFunds,
    JournalConflict,
    UnbalancedJournal,
    balance,
    check_invariants,
    dp_balances,
    ledger_account,
    lock_dp_account,
    post_journal,
    reverse,
    transfer,
)
from portal.models import (
    DirectPaymentAccount,
    Entry,
    Journal,
    JournalKind,
    LedgerAccountKind,
    Offer,
    OfferUnit,
    Order,
    OrderState,
    Role,
)
from tests.conftest import make_app
from tests.support.factories import make_service, make_term, make_user
from tests.support.money_factories import make_dp_account


def _accounts(dp):
    return (
        ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp),
        ledger_account(LedgerAccountKind.DP_HELD, dp_account=dp),
    )


def _hold(dp, pence, key):
    available, held = _accounts(dp)
    return transfer(kind=JournalKind.HOLD, key=key, source=available, destination=held, pence=pence, dp_account=dp)


def _reclaim(dp, pence, key):
    available, _ = _accounts(dp)
    recovered = ledger_account(LedgerAccountKind.COUNCIL_RECOVERED)
    return transfer(kind=JournalKind.RECLAIM, key=key, source=available, destination=recovered, pence=pence,
                    dp_account=dp)


def _order(dp, pence, state=OrderState.REQUESTED):
    service = make_service()
    term = make_term(name="Personal assistants")
    offer = Offer(service=service, organisation=service.organisation, category=term, title="PA hours",
                  unit=OfferUnit.HOUR, price_pence=pence, min_units=1, max_units=10)
    order = Order(reference=f"ORD-{pence}", checkout_reference="CHK-1", dp_account=dp, offer=offer,
                  organisation=service.organisation, category=term, title="PA hours", unit=OfferUnit.HOUR,
                  unit_price_pence=pence, units=1, amount_pence=pence, state=state)
    db.session.add(order)
    db.session.flush()
    return order


def test_an_allocation_shows_as_available_money(session):
    dp = make_dp_account(budget_pence=48_000)

    assert dp_balances(dp).available == 48_000
    assert dp_balances(dp).held == 0
    assert balance(ledger_account(LedgerAccountKind.COUNCIL_FUNDING)) == -48_000


def test_a_balance_can_be_spent_as_it_is_read_on_either_database(session):
    """PostgreSQL sums BIGINT as NUMERIC: a balance must still come back as whole pence a journal accepts."""
    dp = make_dp_account(budget_pence=3_000)
    available = ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp)

    everything = balance(available)
    _reclaim(dp, everything, "reclaim:all")

    assert type(everything) is int and type(dp_balances(dp).spent) is int
    assert dp_balances(dp).available == 0


def test_posting_the_same_journal_twice_moves_the_money_once(session):
    dp = make_dp_account(budget_pence=10_000)
    _order(dp, 2_500)

    first = _hold(dp, 2_500, "hold:order-1")
    second = _hold(dp, 2_500, "hold:order-1")

    assert first.id == second.id
    assert dp_balances(dp) == dp_balances(dp).__class__(available=7_500, held=2_500, spent=0)
    assert session.scalar(sa.select(sa.func.count(Journal.id)).where(Journal.idempotency_key == "hold:order-1")) == 1


def test_reusing_a_key_for_a_different_movement_is_refused(session):
    dp = make_dp_account(budget_pence=10_000)
    _order(dp, 2_500)
    _hold(dp, 2_500, "hold:order-1")

    with pytest.raises(JournalConflict):
        _hold(dp, 3_000, "hold:order-1")
    assert dp_balances(dp).held == 2_500


@pytest.mark.parametrize("lines", [
    [(0, 100), (1, -99)],  # does not sum to zero
    [(0, 0), (1, 0)],  # zero lines
    [(0, 1.5), (1, -1.5)],  # not whole pence
    [],
])
def test_unbalanced_or_fractional_journals_are_refused(session, lines):
    dp = make_dp_account(budget_pence=10_000)
    accounts = _accounts(dp)

    with pytest.raises(UnbalancedJournal):
        post_journal(kind=JournalKind.HOLD, key="bad", dp_account=dp,
                     lines=[(accounts[index], pence) for index, pence in lines])
    assert session.scalar(sa.select(Journal).where(Journal.idempotency_key == "bad")) is None


def test_money_cannot_be_held_beyond_what_is_available(session):
    dp = make_dp_account(budget_pence=1_000)

    with pytest.raises(InsufficientFunds) as refused:
        _reclaim(dp, 1_001, "reclaim:too-much")

    assert refused.value.balance == 1_000
    assert dp_balances(dp).available == 1_000
    assert session.scalar(sa.select(Journal).where(Journal.idempotency_key == "reclaim:too-much")) is None


def test_the_council_funding_account_may_go_negative_as_it_funds_budgets(session):
    make_dp_account(budget_pence=5_000)
    make_dp_account(budget_pence=7_000)

    assert balance(ledger_account(LedgerAccountKind.COUNCIL_FUNDING)) == -12_000


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount_pence = amount_pence * 2",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_journals SET memo = 'changed'",
    "DELETE FROM ledger_journals",
])
def test_the_database_refuses_to_edit_or_delete_ledger_rows(session, statement):
    dp = make_dp_account(budget_pence=5_000)

    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(sa.text(statement))
    assert dp_balances(dp).available == 5_000


def test_a_reversing_journal_puts_a_mistake_right_without_editing_history(session):
    dp = make_dp_account(budget_pence=5_000)
    mistake = _reclaim(dp, 2_000, "reclaim:mistake")

    correction = reverse(mistake, key="reverse:reclaim:mistake", memo="Reclaimed in error")

    assert correction.reverses_id == mistake.id
    assert dp_balances(dp).available == 5_000
    assert session.scalar(sa.select(sa.func.count(Journal.id)).where(Journal.dp_account_id == dp.id)) == 3


def test_spent_counts_only_captured_money(session):
    dp = make_dp_account(budget_pence=10_000)
    order = _order(dp, 4_000)
    _hold(dp, 4_000, "hold:1")
    available, held = _accounts(dp)
    payable = ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=order.organisation)
    post_journal(kind=JournalKind.CAPTURE, key="capture:1", dp_account=dp, order=order, stripe_object_id="pi_1",
                 lines=[(held, -4_000), (payable, 3_000), (available, 1_000)])
    order.state, order.captured_pence, order.payment_intent_id = OrderState.CAPTURED, 3_000, "pi_1"
    session.flush()

    assert dp_balances(dp) == dp_balances(dp).__class__(available=7_000, held=0, spent=3_000)
    assert check_invariants() == []


@pytest.mark.breaks_ledger
def test_the_invariant_checks_catch_an_unbalanced_journal(session):
    dp = make_dp_account(budget_pence=1_000)
    available, _ = _accounts(dp)
    journal = Journal(idempotency_key="forged", kind=JournalKind.TOP_UP, dp_account_id=dp.id)
    session.add(journal)
    session.flush()
    session.add(Entry(journal_id=journal.id, account_id=available.id, amount_pence=500))
    session.flush()

    problems = check_invariants()

    assert any("journal forged" in problem for problem in problems)


@pytest.mark.breaks_ledger
def test_the_invariant_checks_catch_an_account_below_zero_and_a_hold_without_an_order(session):
    dp = make_dp_account(budget_pence=1_000)
    available, held = _accounts(dp)
    journal = Journal(idempotency_key="forged-hold", kind=JournalKind.HOLD, dp_account_id=dp.id)
    session.add(journal)
    session.flush()
    session.add_all([Entry(journal_id=journal.id, account_id=available.id, amount_pence=-3_000),
                     Entry(journal_id=journal.id, account_id=held.id, amount_pence=3_000)])
    session.flush()

    problems = "\n".join(check_invariants())

    assert f"dp:{dp.id}:available is below zero" in problems
    assert "open orders total 0p" in problems


@pytest.mark.breaks_ledger
def test_the_invariant_checks_catch_a_capture_that_matches_no_order_amount(session):
    dp = make_dp_account(budget_pence=10_000)
    order = _order(dp, 4_000)
    _hold(dp, 4_000, "hold:1")
    _, held = _accounts(dp)
    payable = ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=order.organisation)
    post_journal(kind=JournalKind.CAPTURE, key="capture:1", dp_account=dp, order=order, stripe_object_id="pi_1",
                 lines=[(held, -4_000), (payable, 4_000)])
    order.state, order.captured_pence, order.payment_intent_id = OrderState.CAPTURED, 3_500, "pi_1"
    session.flush()

    problems = "\n".join(check_invariants())

    assert "does not match order ORD-4000" in problems


def test_fifty_concurrent_spends_never_take_an_account_below_zero(committed_database_url, tmp_path):
    """Each worker locks the account, checks the balance and spends 1,000p; 20,000p allows exactly 20."""
    app = make_app(committed_database_url, SEARCH_INDEX_DIR=str(tmp_path / "index"))
    with app.app_context():
        holder = make_user(roles=(Role.DP_HOLDER,))
        dp = make_dp_account(holder=holder, budget_pence=20_000, start_date=date(2026, 11, 2))
        db.session.commit()
        dp_id = dp.id

    outcomes: list[str] = []
    start = threading.Barrier(50)

    def spend(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                account = lock_dp_account(dp_id)
                available, _ = _accounts(account)
                if balance(available) < 1_000:
                    db.session.rollback()
                    outcomes.append("refused")
                    return
                _reclaim(account, 1_000, f"spend:{n}")
                db.session.commit()
                outcomes.append("spent")
            except InsufficientFunds:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    workers = [threading.Thread(target=spend, args=(n,)) for n in range(50)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with app.app_context():
        account = db.session.get(DirectPaymentAccount, dp_id)
        assert outcomes.count("spent") == 20
        assert outcomes.count("refused") == 30
        assert dp_balances(account).available == 0
        assert check_invariants() == []
        db.session.remove()
        db.engine.dispose()


def test_flask_ledger_check_reports_a_sound_ledger(app, session):
    make_dp_account(budget_pence=2_000)
    session.flush()

    result = app.test_cli_runner().invoke(args=["ledger", "check"])

    assert result.exit_code == 0, result.output
    assert "The ledger is sound." in result.output


@pytest.mark.breaks_ledger
def test_flask_ledger_check_fails_on_a_hold_without_an_order(app, session):
    dp = make_dp_account(budget_pence=2_000)
    _hold(dp, 500, "hold:no-order")
    session.flush()

    result = app.test_cli_runner().invoke(args=["ledger", "check"])

    assert result.exit_code == 1
    assert "open orders total 0p" in result.output
