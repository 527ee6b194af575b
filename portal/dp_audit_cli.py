"""``flask dp patterns``: look for unusual patterns of spending and record each new one once for the council
(run daily after the budget timers; the officers' "check now" button does the same)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.data import dp_audit
from portal.extensions import db
from portal.models import utcnow


@click.command("patterns")
@with_appcontext
def patterns_command() -> None:
    """Record new unusual patterns (many orders in a day, one provider taking most of a period's spend, orders at
    night) as spending exceptions. Each account is its own transaction; a pattern is recorded once."""
    settings = dp_audit.PatternSettings.from_config()
    now = utcnow()
    found = 0
    account_ids = dp_audit.open_account_ids()
    with click.progressbar(account_ids, label="Checking accounts for unusual patterns") as accounts:
        for account_id in accounts:
            found += len(dp_audit.record_patterns_for_account(account_id=account_id, now=now, settings=settings))
            db.session.commit()
    click.echo(f"Checked {len(account_ids)} accounts: {found} new unusual patterns recorded.")
