"""``flask dp allocate`` and ``flask dp reclaim``: the budget-period timers (run daily: reclaim, then allocate).

Each account is its own transaction, started by taking its row lock and committed before the next, so a run that
stops halfway loses nothing and two runs at once post each journal once.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from datetime import date

import click
from flask.cli import AppGroup

from portal.data import budget_periods
from portal.data.audit import record
from portal.extensions import db
from portal.models import DPAccountStatus

dp_cli = AppGroup("dp", help="Direct-payment budget periods.")

DATE_OPTION = click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                           help="Act as if today were this date (YYYY-MM-DD). Default: today.")


def _run(step: Callable, *, statuses: tuple[DPAccountStatus, ...], on: date, label: str, verb: str) -> Counter:
    ids = budget_periods.account_ids(statuses)
    db.session.commit()  # end the reading transaction: each account's own starts with its row lock
    outcomes: Counter = Counter()
    lines: list[str] = []
    with click.progressbar(ids, label=label, file=sys.stderr) as bar:
        for dp_account_id in bar:
            try:
                result = step(dp_account_id=dp_account_id, on=on)
                db.session.commit()
            except Exception as error:  # one account's failure must not stop the others: report it, exit 1
                db.session.rollback()
                outcomes["failed"] += 1
                lines.append(f"  account {dp_account_id}: FAILED ({error.__class__.__name__}: {error})")
                continue
            outcomes[result.outcome] += 1
            if result.outcome is budget_periods.Outcome.POSTED:
                period = result.period_number + 1
                lines.append(f"  {result.reference}: {verb} {_pounds(result.pence)} (period {period})")
    for line in lines:
        click.echo(line)
    return outcomes


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"  # the terminal has no reader's locale: British format


def _summary(outcomes: Counter, posted: str) -> str:
    parts = [f"{outcomes[budget_periods.Outcome.POSTED]} {posted}"]
    for outcome, words in ((budget_periods.Outcome.ALREADY_DONE, "already done"),
                           (budget_periods.Outcome.NOTHING_TO_DO, "nothing to move"),
                           (budget_periods.Outcome.SKIPPED, "skipped")):
        if outcomes[outcome]:
            parts.append(f"{outcomes[outcome]} {words}")
    if outcomes["failed"]:
        parts.append(f"{outcomes['failed']} FAILED")
    return ", ".join(parts) + "."


@dp_cli.command("allocate")
@DATE_OPTION
def allocate_command(on) -> None:
    """Pay each active account the budget of the period covering the date, once per period."""
    day = on.date() if on else date.today()
    outcomes = _run(budget_periods.allocate, statuses=(DPAccountStatus.ACTIVE,), on=day,
                    label=f"Allocating budgets for {day.isoformat()}", verb="allocated")
    _audit_run("dp.allocation_run", day, outcomes)
    click.echo(f"Allocation for {day.isoformat()}: " + _summary(outcomes, "allocated"))
    if outcomes["failed"]:
        sys.exit(1)


@dp_cli.command("reclaim")
@DATE_OPTION
def reclaim_command(on) -> None:
    """Return to the council each account's surplus above its contingency from the last period that ended."""
    day = on.date() if on else date.today()
    outcomes = _run(budget_periods.reclaim, statuses=(DPAccountStatus.ACTIVE, DPAccountStatus.SUSPENDED), on=day,
                    label=f"Reclaiming surpluses for {day.isoformat()}", verb="reclaimed")
    _audit_run("dp.reclaim_run", day, outcomes)
    click.echo(f"Reclaim for {day.isoformat()}: " + _summary(outcomes, "reclaimed"))
    if outcomes["failed"]:
        sys.exit(1)


def _audit_run(action: str, day: date, outcomes: Counter) -> None:
    record(actor=None, action=action, subject_type="system",
           details={"date": day, "via": "command line", **{getattr(o, "value", o): n for o, n in outcomes.items()}})
    db.session.commit()
