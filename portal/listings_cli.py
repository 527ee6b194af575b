"""``flask listings remind``: the daily job that keeps listings current.

Run it from a daily timer. It is idempotent: a reminder is recorded once per listing, kind and check date, so
running it twice (or twice at once) sends nothing twice. Operators read the output, so it is plain English.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from portal.data import reminders
from portal.extensions import db
from portal.models import utcnow

listings_cli = AppGroup("listings", help="Keep listings current: check reminders.")

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def _parse_day(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("use the form YYYY-MM-DD, for example 2025-03-31") from None


def _base_url(option: str | None) -> str:
    # Emails need absolute links but a command has no request to take the host from.
    return (option or current_app.config.get("PUBLIC_BASE_URL") or os.environ.get("PORTAL_BASE_URL")
            or DEFAULT_BASE_URL)


@listings_cli.command("remind")
@click.option("--dry-run", is_flag=True, help="List what would be sent; record and send nothing.")
@click.option("--today", callback=_parse_day, metavar="YYYY-MM-DD", help="Run as if today were this date.")
@click.option("--base-url", help=f"The site's address for links in emails (default: $PORTAL_BASE_URL or "
                                 f"{DEFAULT_BASE_URL}).")
def remind(dry_run: bool, today: date | None, base_url: str | None) -> None:
    """Remind providers to check listings after 6 months; flag listings over a year old to the council."""
    today = today or utcnow().date()
    with current_app.test_request_context("/", base_url=_base_url(base_url)):
        run = reminders.send_reminders(today=today, dry_run=dry_run)
        if not dry_run:
            db.session.commit()
    if dry_run:
        _print_dry_run(run)
        return
    click.echo(f"Reminded {len(run.reminded)} listing(s) ({run.emails_sent} email(s) sent).")
    digest = f" (digest emailed to {current_app.config['COUNCIL_EMAIL']})" if run.flagged else ""
    click.echo(f"Flagged {len(run.flagged)} listing(s) not checked for over a year to the council{digest}.")
    if run.already_done:
        click.echo(f"Skipped {run.already_done} already recorded by another run.")


def _print_dry_run(run: reminders.ReminderRun) -> None:
    click.echo("Dry run: nothing was recorded or sent.")
    for item in run.reminded:
        to = ", ".join(run.recipients.get((item.service.id, item.kind), [])) or "nobody (no members or email address)"
        click.echo(f"Would remind: {item.service.name} ({item.service.organisation.name}), "
                   f"last checked {item.checked_on.isoformat()}, to {to}")
    for item in run.flagged:
        click.echo(f"Would flag to the council: {item.service.name} ({item.service.organisation.name}), "
                   f"last checked {item.checked_on.isoformat()}")
    click.echo(f"Would remind {len(run.reminded)} listing(s) and flag {len(run.flagged)} to the council.")
