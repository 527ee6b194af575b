"""The directory as open data: a page about the Open Referral UK API and the CSV data package download."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template, send_file, url_for

from portal.exporters import oruk_csv
from portal.exporters.cli import package_title
from portal.public import bp

DOWNLOAD_NAME = "oruk-datapackage.zip"


def _api_root() -> str | None:
    """The Open Referral UK API's root, when this portal serves one."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule in ("/api/", "/api") and "GET" in (rule.methods or ()):
            return rule.rule
    return None


def _cache_dir() -> Path:
    configured = current_app.config.get("OPEN_DATA_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "open-data"


@bp.get("/open-data")
def open_data():
    return render_template(
        "public/open_data.html",
        api_url=_api_root(),
        download_url=url_for("public.oruk_datapackage"),
        tables=oruk_csv.TABLES,
    )


@bp.get("/open-data/oruk-datapackage.zip")
def oruk_datapackage():
    # Built once per state of the listing change log and kept under the instance folder.
    path = oruk_csv.cached_zip(
        _cache_dir(), title=package_title(), homepage=url_for("public.open_data", _external=True)
    )
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=DOWNLOAD_NAME,
                     max_age=300)
