"""``flask export oruk DIR [--zip FILE]``: the directory as the Open Referral UK tabular data package."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

export_cli = AppGroup("export", help="Export the directory in open formats.")


def package_title() -> str:
    config = current_app.config
    return f"{config['COUNCIL_NAME']}: {config['SERVICE_NAME']}"


@export_cli.command("oruk")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the package as one zip file.")
def oruk_command(directory: Path, zip_path: Path | None) -> None:
    """Write the public services as ORUK CSV files and datapackage.json into DIRECTORY."""
    from portal.exporters import oruk_csv

    files = oruk_csv.package_files(title=package_title(), homepage=current_app.config.get("PUBLIC_BASE_URL"))
    oruk_csv.write_directory(directory, files)
    click.echo(f"Wrote {len(files)} files to {directory}.")
    for table in oruk_csv.TABLES:
        rows = sum(1 for _ in csv.reader(io.StringIO(files[table.path].decode("utf-8")))) - 1
        click.echo(f"  {table.path}: {rows} rows")
    if zip_path is not None:
        oruk_csv.write_zip(zip_path, files)
        click.echo(f"Wrote {zip_path}.")
