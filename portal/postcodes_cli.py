"""``flask postcodes load FILE`` and ``flask postcodes from-listings``: the table that turns a typed postcode
into a place for distance search.

Operators run these on the server, so the messages are plain English and not translated.
"""

from __future__ import annotations

import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import AppGroup

from portal.data import postcodes
from portal.extensions import db

postcodes_cli = AppGroup("postcodes", help="Postcodes and their positions, for searching near a postcode.")


class _CountedLines:
    """The decoded lines of a binary stream, counting the bytes read so a progress bar can follow."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.bytes_read += len(raw)
            yield raw.decode("utf-8", errors="replace")  # a BOM is stripped from the header


@contextmanager
def _open_directory(file: Path) -> Iterator[tuple[BinaryIO, int, str]]:
    """(binary stream, its size in bytes, its name): the CSV itself, or the national CSV inside the ONSPD
    zip as downloaded: Data/ONSPD_<MONTH>_<YEAR>_UK.csv, by far the largest CSV outside Data/multi_csv (the
    same rows split by area); the other CSVs are small code lists under Documents/."""
    if not zipfile.is_zipfile(file):
        with file.open("rb") as stream:
            yield stream, file.stat().st_size, file.name
        return
    with zipfile.ZipFile(file) as archive:
        members = [
            info for info in archive.infolist()
            if info.filename.lower().endswith(".csv") and "multi_csv" not in info.filename.lower()
        ]
        if not members:
            raise click.ClickException(f"{file.name} holds no CSV file.")
        member = max(members, key=lambda info: info.file_size)
        with archive.open(member) as stream:
            yield stream, member.file_size, f"{file.name}:{member.filename}"


@postcodes_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--batch-size", default=postcodes.BATCH_SIZE, show_default=True, help="Rows written per commit."
)
def load_command(file: Path, batch_size: int) -> None:
    """Load or update postcodes from the ONS Postcode Directory: its CSV, or the zip as downloaded.

    Rows without a grid reference are skipped; terminated postcodes are kept (they still resolve). Running it
    again with a newer directory updates what moved and adds what is new.
    """
    started = time.monotonic()
    with _open_directory(file) as (stream, size, name):
        lines = _CountedLines(stream)
        with click.progressbar(length=size, label=f"Loading {file.name}", file=sys.stderr) as bar:

            def after_batch(_report: postcodes.LoadReport) -> None:
                db.session.commit()  # each batch is kept: an interrupted load resumes by running it again
                bar.update(lines.bytes_read - bar.pos)

            try:
                report = postcodes.load_onspd(
                    lines=lines, file_name=name, actor=None, batch_size=batch_size, after_batch=after_batch
                )
            except postcodes.PostcodeFileError as error:
                raise click.ClickException(str(error)) from None
            bar.update(size - bar.pos)
    db.session.commit()
    _print_report(report, time.monotonic() - started)


@postcodes_cli.command("from-listings")
def from_listings_command() -> None:
    """Copy listings' own postcodes into the table (useful before the ONS file is loaded).

    Listings' postcodes resolve without this; copying makes outward-code centres cheaper to work out.
    Postcodes from the ONS file are never overwritten, and hidden addresses are never copied.
    """
    started = time.monotonic()
    report = postcodes.copy_listing_postcodes(actor=None)
    db.session.commit()
    _print_report(report, time.monotonic() - started)


def _print_report(report: postcodes.LoadReport, seconds: float) -> None:
    click.echo(
        f"Read {report.read:,} rows in {seconds:.1f} s: loaded {report.loaded:,} new postcodes, "
        f"updated {report.updated:,}, unchanged {report.unchanged:,}, skipped {report.skipped_total:,}."
    )
    if report.terminated:
        click.echo(f"{report.terminated:,} of them are terminated postcodes (kept: they still resolve).")
    for reason, count in report.skipped.most_common():
        click.echo(f"  Skipped {count:,}: {reason}")
