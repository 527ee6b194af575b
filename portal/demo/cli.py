"""``flask demo load [--if-empty]`` and ``flask demo logins``."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db

demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.option(
    "--if-empty", is_flag=True, help="Load only when the database has no services yet (for make run)."
)
def load_command(if_empty: bool) -> None:
    """Create the demo borough, its providers and a user for every role.

    Safe to run again: the same data is brought up to date in place, nothing is duplicated.
    """
    from portal.demo.generator import TARGET_SERVICES
    from portal.demo.loader import has_services, load_demo

    if if_empty and has_services():
        click.echo("The database already has services: demo data not loaded.")
        return
    started = time.monotonic()
    with click.progressbar(length=TARGET_SERVICES, label="Loading demo listings", file=sys.stderr) as bar:
        summary = load_demo(progress=bar.update)
    db.session.commit()
    click.echo(
        f"{current_app.config['COUNCIL_NAME']} demo: {summary.organisations} organisations, "
        f"{summary.locations} places, {summary.services} services, {summary.users} users "
        f"({time.monotonic() - started:.1f} s)."
    )
    for label, counts in (("Created", summary.created), ("Updated", summary.changed)):
        if counts:
            click.echo(f"{label}: " + ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items())))
    if not summary.created and not summary.changed:
        click.echo("Everything was already up to date.")
    print_logins()


@demo_cli.command("logins")
def logins_command() -> None:
    """Print the demo accounts and their passwords."""
    print_logins()


def print_logins() -> None:
    from portal.demo.loader import demo_logins

    logins = demo_logins()
    width = max(len(login.email) for login in logins)
    pwidth = max(len(login.password) for login in logins)
    click.echo("\nDemo logins (demonstration only: never use these passwords anywhere real):")
    click.echo(f"  {'email'.ljust(width)}  {'password'.ljust(pwidth)}  role")
    for login in logins:
        click.echo(
            f"  {login.email.ljust(width)}  {login.password.ljust(pwidth)}  {login.role.value}: {login.note}"
        )
