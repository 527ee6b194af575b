"""Command-line groups: ``flask users``, ``flask demo``, ``flask import``, ``flask search``."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from portal.account.cli import users_cli
    from portal.demo.cli import demo_cli
    from portal.importers.cli import import_cli
    from search.cli import search_cli

    for group in (users_cli, demo_cli, import_cli, search_cli):
        app.cli.add_command(group)
