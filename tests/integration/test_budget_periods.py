"""Budget periods: the budget is paid in once per 4-week period, the surplus above the contingency goes back to
the council once per period, and two timers running at once still move the money once."""

from __future__ import annotations

import threading
from datetime import date

import sqlalchemy as sa

from portal.data import budget_periods
from portal.dp_cli import _run
from portal.extensions import db
from portal.ledger import balance, check_invariants, dp_balances, ledger_account
from portal.models import (
    AuditEvent,
    DirectPaymentAccount,
    DPAccountStatus,
    Journal,
    JournalKind,
    LedgerAccountKind,
    Order,
    OrderState,
    Role,
)
from tests.conftest import make_app
from tests.support.factories import make_user
from tests.support.localstripe import make_offer, make_order
from tests.support.money_factories import make_dp_account

START = date(2026, 11, 2)  # a Monday: period 0 is 2 to 29 November, period 1 starts on 30 November


def _account(**fields) -> DirectPaymentAccount:
    return make_dp_account(funded_pence=0, start_date=START, **fields)


def _allocations(dp) -> list[tuple[int, int]]:
    journals = db.session.scalars(sa.select(Journal).where(
        Journal.dp_account_id == dp.id, Journal.kind == JournalKind.ALLOCATION).order_by(Journal.period_number))
    return [(journal.period_number, max(entry.amount_pence for entry in journal.entries)) for journal in journals]


def _hold(dp, pence: int) -> Order:
    """An order in progress with its money held, as checkout leaves it."""
    return make_order(dp, units=1, state=OrderState.REQUESTED, offer=make_offer(price_pence=pence))


def test_periods_start_every_28_days_from_the_start_date(session):
    dp = _account()

    assert budget_periods.period_number_on(dp, date(2026, 11, 1)) is None
    assert budget_periods.period_number_on(dp, START) == 0
    assert budget_periods.period_number_on(dp, date(2026, 11, 29)) == 0
    assert budget_periods.period_number_on(dp, date(2026, 11, 30)) == 1
    assert budget_periods.period(dp, 1) == budget_periods.Period(1, date(2026, 11, 30), date(2026, 12, 27))


def test_the_budget_less_the_client_contribution_is_paid_in_once_per_period(session):
    dp = _account(budget_pence=48_000, client_contribution_pence=8_000)

    first = budget_periods.allocate(dp_account_id=dp.id, on=START)
    last_day = budget_periods.allocate(dp_account_id=dp.id, on=date(2026, 11, 29))
    next_period = budget_periods.allocate(dp_account_id=dp.id, on=date(2026, 11, 30))
    again = budget_periods.allocate(dp_account_id=dp.id, on=date(2026, 12, 3))

    assert [r.outcome for r in (first, last_day, next_period, again)] == [
        budget_periods.Outcome.POSTED, budget_periods.Outcome.ALREADY_DONE, budget_periods.Outcome.POSTED,
        budget_periods.Outcome.ALREADY_DONE]
    assert _allocations(dp) == [(0, 40_000), (1, 40_000)]
    assert dp_balances(dp).available == 80_000
    assert session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "dp.budget_allocated", AuditEvent.subject_id == str(dp.id))) == 2


def test_suspended_and_not_yet_started_accounts_get_no_budget(session):
    suspended = _account(status=DPAccountStatus.SUSPENDED)
    later = make_dp_account(funded_pence=0, start_date=date(2027, 1, 4))

    assert budget_periods.allocate(dp_account_id=suspended.id, on=START).outcome is budget_periods.Outcome.SKIPPED
    assert budget_periods.allocate(dp_account_id=later.id, on=START).outcome is budget_periods.Outcome.SKIPPED
    assert _allocations(suspended) == [] and _allocations(later) == []


def test_flask_dp_allocate_pays_each_active_account_and_running_it_again_changes_nothing(app, session):
    one = _account(budget_pence=30_000)
    two = _account(budget_pence=20_000, client_contribution_pence=5_000)
    _account(status=DPAccountStatus.CLOSED)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["dp", "allocate", "--date", "2026-11-30"])
    second = runner.invoke(args=["dp", "allocate", "--date", "2026-11-30"])

    assert first.exit_code == 0, first.output
    assert f"{one.reference}: allocated £300.00 (period 2)" in first.output
    assert f"{two.reference}: allocated £150.00 (period 2)" in first.output
    assert "0 allocated, 2 already done" in second.output
    assert _allocations(one) == [(1, 30_000)] and _allocations(two) == [(1, 15_000)]


def test_reclaim_returns_what_is_above_the_contingency_and_leaves_money_held_for_orders(session):
    dp = _account(budget_pence=50_000, contingency_pence=5_000)
    budget_periods.allocate(dp_account_id=dp.id, on=START)
    _hold(dp, 10_000)  # an order still in progress: its money stays held

    during = budget_periods.reclaim(dp_account_id=dp.id, on=date(2026, 11, 29))
    result = budget_periods.reclaim(dp_account_id=dp.id, on=date(2026, 11, 30))
    again = budget_periods.reclaim(dp_account_id=dp.id, on=date(2026, 12, 1))

    assert during.outcome is budget_periods.Outcome.SKIPPED  # period 0 has not ended
    assert (result.outcome, result.pence, result.period_number) == (budget_periods.Outcome.POSTED, 35_000, 0)
    assert again.outcome is budget_periods.Outcome.ALREADY_DONE
    assert dp_balances(dp).available == 5_000 and dp_balances(dp).held == 10_000
    assert balance(ledger_account(LedgerAccountKind.COUNCIL_RECOVERED)) >= 35_000


def test_reclaim_after_the_new_periods_allocation_takes_none_of_the_new_budget(session):
    dp = _account(budget_pence=40_000, contingency_pence=0)
    budget_periods.allocate(dp_account_id=dp.id, on=START)
    _hold(dp, 30_000)  # 10,000p of period 0 left over

    budget_periods.allocate(dp_account_id=dp.id, on=date(2026, 11, 30))  # the timer ran allocate first
    result = budget_periods.reclaim(dp_account_id=dp.id, on=date(2026, 11, 30))

    assert result.pence == 10_000
    assert dp_balances(dp).available == 40_000  # exactly the new period's budget


def test_nothing_is_reclaimed_when_the_surplus_is_within_the_contingency(session):
    dp = _account(budget_pence=10_000, contingency_pence=10_000)
    budget_periods.allocate(dp_account_id=dp.id, on=START)

    result = budget_periods.reclaim(dp_account_id=dp.id, on=date(2026, 12, 1))

    assert result.outcome is budget_periods.Outcome.NOTHING_TO_DO
    assert dp_balances(dp).available == 10_000


def test_a_top_up_submitted_twice_with_the_same_form_token_is_paid_once(session):
    dp = _account(budget_pence=10_000)
    officer = make_user(roles=(Role.COUNCIL_DP_OFFICER,))
    token = budget_periods.new_top_up_token()

    first, posted = budget_periods.top_up(actor=officer, dp_account_id=dp.id, pence=2_500, reason="Carer in hospital",
                                          token=token, today=START)
    second, posted_again = budget_periods.top_up(actor=officer, dp_account_id=dp.id, pence=2_500,
                                                 reason="Carer in hospital", token=token, today=START)

    assert (posted, posted_again) == (True, False)
    assert first.id == second.id and first.period_number == 0 and first.memo == "Carer in hospital"
    assert dp_balances(dp).available == 2_500


def test_two_allocation_runs_at_once_pay_each_period_once(committed_database_url, tmp_path):
    app = make_app(committed_database_url, SEARCH_INDEX_DIR=str(tmp_path / "index"))
    with app.app_context():
        accounts = [make_dp_account(funded_pence=0, start_date=START, budget_pence=10_000 * (n + 1))
                    for n in range(3)]
        db.session.commit()
        ids = [account.id for account in accounts]

    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                _run(budget_periods.allocate, statuses=(DPAccountStatus.ACTIVE,), on=date(2026, 11, 30),
                     label="test", verb="allocated")
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=run) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with app.app_context():
        assert failures == []
        journals = db.session.scalars(sa.select(Journal).where(Journal.kind == JournalKind.ALLOCATION)).all()
        assert sorted((j.dp_account_id, j.period_number) for j in journals) == sorted((i, 1) for i in ids)
        assert [dp_balances(db.session.get(DirectPaymentAccount, i)).available for i in ids] == [
            10_000, 20_000, 30_000]
        assert check_invariants() == []
        db.session.remove()
        db.engine.dispose()
