"""`flask orders confirm-due|renew-authorisations|retry-payments`: the marketplace's timers (run hourly).

Each order is handled and committed on its own, so one order Stripe will not answer for never holds the others
back; every step is idempotent, so a second run (or two overlapping runs) changes nothing twice."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.marketplace import authorisations
from portal.marketplace import orders as lifecycle
from portal.models import utcnow
from portal.payments.gateway import PaymentError

orders_cli = AppGroup("orders", help="Direct-payment orders: confirm, capture, renew and retry on a timer.")


def _request_context():
    # Emails need absolute links, but a command has no request to take the host from.
    return current_app.test_request_context("/", base_url=current_app.config.get("PUBLIC_BASE_URL"))


@orders_cli.command("confirm-due")
def confirm_due() -> None:
    """Confirm orders delivered over 7 days ago and not disputed, then capture every confirmed order."""
    confirmed = captured = failed = 0
    with _request_context():
        for order in lifecycle.due_for_auto_confirmation(utcnow()):
            lifecycle.confirm(actor=None, order=order, automatically=True)
            db.session.commit()
            confirmed += 1
        for order in lifecycle.due_for_capture():
            try:
                lifecycle.capture(actor=None, order=order)
            except PaymentError as error:
                db.session.rollback()
                click.echo(f"Could not capture order {order.reference} yet: {error}", err=True)
                failed += 1
                continue
            db.session.commit()
            captured += 1
    click.echo(f"Confirmed {confirmed} delivered order(s) automatically; captured {captured}; "
               f"{failed} capture(s) to try again.")


@orders_cli.command("renew-authorisations")
def renew_authorisations() -> None:
    """Renew card authorisations that would lapse within 24 hours of orders not yet delivered."""
    counts: dict = {}
    with _request_context():
        for order in authorisations.due_for_renewal(utcnow()):
            outcome = authorisations.renew(order=order)
            db.session.commit()
            counts[outcome.value] = counts.get(outcome.value, 0) + 1
    click.echo(f"Renewed {counts.get('authorised', 0)} authorisation(s); cancelled {counts.get('declined', 0)} "
               f"order(s) the card would not authorise again; {counts.get('unavailable', 0)} to try again.")


@orders_cli.command("retry-payments")
@click.option("--minutes", default=2, show_default=True, help="Only orders pending for at least this long.")
def retry_payments(minutes: int) -> None:
    """Finish card authorisations that did not complete because Stripe could not be reached."""
    with _request_context():
        counts = authorisations.retry_pending(older_than=utcnow() - timedelta(minutes=minutes))
        db.session.commit()
    click.echo("Retried pending payments: " + (", ".join(f"{outcome.value} {count}" for outcome, count in
                                                        counts.items()) or "none were due") + ".")
