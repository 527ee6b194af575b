"""``flask users``: create the first council administrator, grant roles, list users.

Operators run these on the server, so the messages are plain English and not translated.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from portal import passwords
from portal.data import accounts
from portal.extensions import db
from portal.models import Role

users_cli = AppGroup("users", help="Manage user accounts.")

ROLE_NAMES = [role.value for role in Role]


def _read_password(from_stdin: bool, email: str) -> str:
    if from_stdin:
        # For scripts: the first line of standard input, so the password never shows in `ps` or shell history.
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    try:
        passwords.check_password_rules(password, email=email)
    except passwords.PasswordRuleError as broken:
        with force_locale("en"):  # no request here to choose a language from
            raise click.ClickException(str(broken.message)) from None
    return password


@users_cli.command("create-admin")
@click.option("--email", required=True, help="The administrator's email address (their sign-in).")
@click.option("--name", required=True, help="The administrator's full name.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)
def create_admin(email: str, name: str, password_stdin: bool) -> None:
    """Create a council administrator whose email address is already confirmed."""
    email = accounts.normalise_email(email)
    if accounts.find_user(email=email) is not None:
        raise click.ClickException(
            f"A user with the email address {email} already exists. "
            f"To make them an administrator: flask users grant {email} council_admin"
        )
    password = _read_password(password_stdin, email)
    try:
        user = accounts.create_admin(email=email, name=name, password=password)
    except accounts.EmailTaken:  # created by someone else while we waited for the password
        raise click.ClickException(f"A user with the email address {email} already exists.") from None
    db.session.commit()
    click.echo(f"Created council administrator {user.email}. They can sign in now.")


@users_cli.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLE_NAMES, case_sensitive=False))
def grant(email: str, role: str) -> None:
    """Give the user with EMAIL a ROLE."""
    try:
        user, changed = accounts.grant_role(email=email, role=Role(role.lower()))
    except accounts.UnknownUser:
        raise click.ClickException(
            f"No user has the email address {accounts.normalise_email(email)}."
        ) from None
    db.session.commit()
    if changed:
        click.echo(f"Granted {role.lower()} to {user.email}.")
    else:
        click.echo(f"{user.email} already has the role {role.lower()}: nothing changed.")


@users_cli.command("list")
def list_users() -> None:
    """List every user with their roles and whether they can sign in."""
    users = accounts.list_users()
    db.session.commit()  # the audit event for reading everyone's details
    if not users:
        click.echo("No users yet. Create the first with: flask users create-admin --email ... --name ...")
        return
    click.echo(f"{'EMAIL':<40} {'NAME':<28} {'STATUS':<12} ROLES")
    for user in users:
        status = (
            "deactivated" if not user.active else ("active" if user.email_confirmed_at else "unconfirmed")
        )
        roles = ", ".join(sorted(role.value for role in user.roles)) or "-"
        click.echo(f"{user.email:<40} {user.name[:28]:<28} {status:<12} {roles}")
