"""`flask ledger reconcile`: compare Stripe with our orders and ledger (a daily timer; exits 1 on differences).
`flask ledger check`: the ledger's own invariants over the live database (exits 1 on any problem)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db

ledger_cli = AppGroup("ledger", help="The direct-payment ledger: check it, reconcile it with Stripe.")


@ledger_cli.command("reconcile")
def reconcile_command() -> None:
    """Compare every order's PaymentIntent at Stripe with the order and its capture journals."""
    from portal.payments import gateway, reconcile

    try:
        differences = reconcile.reconcile()
    except gateway.PaymentUnavailable as error:
        raise click.ClickException(f"Stripe could not be reached: {error}. Nothing was compared.") from None
    db.session.commit()  # the spending exceptions, for the council's review
    for difference in differences:
        click.echo(str(difference))
    if differences:
        click.echo(f"{len(differences)} difference(s) between Stripe and the ledger.", err=True)
        raise SystemExit(1)
    click.echo("Stripe and the ledger agree.")


@ledger_cli.command("check")
def check_command() -> None:
    """Every journal balances, no protected account is below zero, holds match open orders, captures match orders."""
    from portal.ledger import check_invariants

    problems = check_invariants()
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) in the ledger.", err=True)
        raise SystemExit(1)
    click.echo("The ledger is sound.")
