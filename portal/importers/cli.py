"""``flask import outpost FILE`` and ``flask import oruk URL|FILE``: import listings from other directories."""

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


@import_cli.command("oruk")
@click.argument("source")
@click.option("--publish", is_flag=True, help="A trusted feed: publish at once instead of queueing for moderation.")
@click.option("--feed", "feed_name", help="Name of the feed for provenance (default: the URL, or the file's name).")
@click.option("--per-page", default=50, show_default=True, help="Page size when reading an API.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for each HTTP answer.")
@click.option("--retries", default=3, show_default=True, help="Retries of a failed HTTP request.")
def oruk_command(source: str, publish: bool, feed_name: str | None, per_page: int, timeout: float,
                 retries: int) -> None:
    """Import an Open Referral UK feed: an API's base URL (paged /services) or a JSON file (one service,
    a list, or a page with "contents").

    Each record is validated against the UK profile's schema; invalid ones are listed with their reasons and
    nothing of them is imported. New and changed listings wait in the moderation queue unless --publish.
    Running it again changes only what changed in the feed.
    """
    from portal.importers import oruk, oruk_feed

    fetch_organisation = None
    try:
        if oruk_feed.is_url(source):
            api = oruk_feed.OrukApi(source, per_page=per_page, timeout=timeout, retries=retries)
            click.echo(f"Reading the list of services from {api.base_url} ...", err=True)
            items = api.items()
            fetch_organisation = api.organisation
            feed = feed_name or api.base_url
        else:
            path = Path(source)
            if not path.is_file():
                raise click.ClickException(f"{source} is neither an http(s) address nor a file")
            items = oruk_feed.read_file(path)
            feed = feed_name or path.name
    except oruk_feed.FeedError as error:
        raise click.ClickException(str(error)) from None
    with click.progressbar(length=len(items), label=f"Importing {feed}", file=sys.stderr) as bar:
        report = oruk.import_feed(
            items, feed=feed, publish=publish, schema_dir=oruk_schema_dir(),
            fetch_organisation=fetch_organisation, progress=bar.update,
        )
    db.session.commit()
    _print_oruk_report(report, publish)


def oruk_schema_dir() -> Path:
    """The UK profile's compiled schemas (config ORUK_SCHEMA_DIR; by default ../shared beside the project)."""
    from flask import current_app

    return Path(current_app.config["ORUK_SCHEMA_DIR"])


def _print_oruk_report(report, publish: bool) -> None:
    for note in report.notes:
        click.echo(note)
    click.echo(
        f"Created {len(report.created)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"rejected {len(report.rejected)}."
    )
    if (report.created or report.updated) and not publish:
        click.echo("New and changed listings are waiting in the moderation queue.")
    for label, reasons in report.rejected:
        click.echo(f"  Rejected {label}:")
        for reason in reasons:
            click.echo(f"    - {reason}")
    if report.warnings:
        click.echo(f"Warnings ({len(report.warnings)}):")
        for warning in report.warnings[:SHOWN_WARNINGS]:
            click.echo(f"  {warning}")
        if len(report.warnings) > SHOWN_WARNINGS:
            click.echo(f"  ... and {len(report.warnings) - SHOWN_WARNINGS} more")
