"""``flask import outpost FILE``: import listings from another directory's export."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.extensions import db

import_cli = AppGroup("import", help="Import listings from other directories.")

SHOWN_WARNINGS = 30


@import_cli.command("outpost")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--taxonomies",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Outpost taxonomies.json: load the whole category tree first.",
)
def outpost_command(file: Path, taxonomies: Path | None) -> None:
    """Import Outpost JSON: a results page ({"content": [...]}), one service, or a list of services.

    Running it again updates the same listings in place; a record that cannot be imported is reported
    with its reason and skipped, the others still import.
    """
    from portal.importers import outpost

    try:
        records = outpost.read_records(file)
        tree = outpost.read_records(taxonomies) if taxonomies else []
    except outpost.ImportFileError as error:
        raise click.ClickException(str(error)) from None
    if tree:
        click.echo(f"Categories: {outpost.import_taxonomy_tree(tree)} from {taxonomies.name}.")
    with click.progressbar(length=len(records), label=f"Importing {file.name}", file=sys.stderr) as bar:
        report = outpost.import_records(records, file_name=file.name, progress=bar.update)
    db.session.commit()
    _print_report(report)


def _print_report(report) -> None:
    click.echo(
        f"Created {len(report.created)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"rejected {len(report.rejected)}."
    )
    for label, reason in report.rejected:
        click.echo(f"  Rejected {label}: {reason}")
    if report.placeholder_organisations:
        click.echo(
            "Organisations without a name, filed under a placeholder named after their service "
            "(give them their real name):"
        )
        for name in report.placeholder_organisations:
            click.echo(f"  {name}")
    if report.warnings:
        click.echo(f"Warnings ({len(report.warnings)}):")
        for warning in report.warnings[:SHOWN_WARNINGS]:
            click.echo(f"  {warning}")
        if len(report.warnings) > SHOWN_WARNINGS:
            click.echo(f"  ... and {len(report.warnings) - SHOWN_WARNINGS} more")
