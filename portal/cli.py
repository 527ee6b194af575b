"""Command-line groups (`flask users|demo|import|export|search|postcodes`) and `flask dev-server`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from werkzeug.serving import run_simple


def register_cli(app: Flask) -> None:
    from portal.account.cli import users_cli
    from portal.demo.cli import demo_cli
    from portal.dp_audit_cli import patterns_command
    from portal.dp_cli import dp_cli
    from portal.exporters.cli import export_cli
    from portal.importers.cli import import_cli
    from portal.listings_cli import listings_cli
    from portal.marketplace.cli import orders_cli
    from portal.payments.cli import ledger_cli
    from portal.postcodes_cli import postcodes_cli
    from search.cli import search_cli

    for group in (users_cli, demo_cli, import_cli, export_cli, search_cli, postcodes_cli, listings_cli,
                  ledger_cli):
        app.cli.add_command(group)
    app.cli.add_command(orders_cli)
    dp_cli.add_command(patterns_command)  # `flask dp patterns` (portal/dp_audit_cli.py)
    app.cli.add_command(dp_cli)
    app.cli.add_command(dev_server)


@click.command("dev-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--stripe-port", default=8420, show_default=True, help="Port for localstripe (0: any free port).")
def dev_server(host: str, port: int, stripe_port: int) -> None:
    """Start localstripe and the portal on 127.0.0.1 for development (what `make run` ends with)."""
    from portal.payments import localstripe_process

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("dev-server is for development only.")
    try:
        stripe, stripe_url = localstripe_process.start(stripe_port or None)
    except RuntimeError as error:
        raise click.ClickException(f"{error}. Is another localstripe already using port {stripe_port}?") from None
    current_app.config["STRIPE_API_BASE"] = stripe_url
    try:
        # localstripe signs its events with our webhook secret and posts them to /webhooks/stripe.
        localstripe_process.register_webhook(stripe_url, url=f"http://{host}:{port}/webhooks/stripe",
                                             secret=current_app.config["STRIPE_WEBHOOK_SECRET"])
        _print_welcome(f"http://{host}:{port}", stripe_url)
        # No reloader: it would start a second localstripe in the reloaded process. (Flask's app.run refuses
        # to run inside a `flask` command, so serve with Werkzeug directly.)
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
    finally:
        stripe.terminate()
        stripe.wait(timeout=10)


def _print_welcome(url: str, stripe_url: str) -> None:
    from portal.demo.cli import print_logins

    click.echo("")
    click.secho(f"  Care Portal is running at {url}", bold=True)
    click.echo(f"  Welsh: {url}/?lang=cy")
    click.echo(f"  localstripe (no real money moves): {stripe_url}")
    if current_app.config.get("OUTBOX_ENABLED") and not current_app.config.get("MAIL_SERVER"):
        click.echo(f"  Emails the portal sends appear at {url}/outbox")
    print_logins()
    click.echo(f"\n  Sign in at {url}/account/sign-in. Press Ctrl+C to stop.\n")
