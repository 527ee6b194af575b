"""``flask search rebuild|sync|check``."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup

from portal.extensions import db
from search import indexer, store

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Build a fresh index from the database and swap it in atomically."""
    from portal.models import Service, public_services_clause

    listings = db.session.scalar(db.select(db.func.count(Service.id)).where(public_services_clause()))
    guides = indexer.published_guide_count()
    started = time.monotonic()
    with click.progressbar(length=listings + guides, label="Indexing listings and guides", file=sys.stderr) as bar:
        count = indexer.rebuild(progress=bar.update)
    click.echo(f"Indexed {count - guides} listings and {guides} guides in {time.monotonic() - started:.1f} s.")


@search_cli.command("sync")
@click.option("--follow", is_flag=True, help="Keep applying changes every --interval seconds.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between checks with --follow.")
def sync_command(follow: bool, interval: float) -> None:
    """Apply published changes that the index has not seen yet (for a timer, or --follow as the indexer)."""
    while True:
        try:
            applied = indexer.sync()
        except store.IndexUnavailable as reason:
            click.echo(f"{reason}: rebuilding.", err=True)
            applied = indexer.rebuild()
        if applied or not follow:
            click.echo(f"Applied {applied} changes.")
        if not applied or not follow:  # idle (or a one-off run): merge the small segments syncs left
            try:
                indexer.tidy()
            except store.IndexUnavailable:
                pass
        db.session.remove()
        if not follow:
            return
        time.sleep(interval)


@search_cli.command("check")
def check_command() -> None:
    """Report listings and guides missing from, extra in, or stale in the index; exits 1 when any are found."""
    try:
        status = indexer.index_status()
    except store.IndexUnavailable as reason:
        raise click.ClickException(str(reason)) from None
    click.echo(f"Index holds {status['indexed']} listings and {status['guides_indexed']} guides; the database "
               f"publishes {status['expected']} listings and {status['guides_expected']} guides.")
    for label in ("missing", "extra", "stale"):
        click.echo(f"{label.capitalize()}: {len(status[label])}")
        for listing_id in status[label][:20]:
            click.echo(f"  {listing_id}")
    if status["missing"] or status["extra"] or status["stale"]:
        sys.exit(1)
