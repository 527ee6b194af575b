"""The postcode table: loading the ONS Postcode Directory, and copying listings' own postcodes into it.

The ONS Postcode Directory (ONSPD) is one CSV row per postcode the UK has ever had (2.7 million), with dozens
of geography columns; we keep only the postcode, its centre and whether it is terminated. Column names moved
over the years (``pcd``/``pcd2`` became ``pcd7``/``pcd8``; ``pcds`` stayed), so columns are found by name.
Terminated postcodes stay: people still type the postcode they have always had.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.data.audit import record
from portal.extensions import db
from portal.models import Location, Postcode
from search import geo

SOURCE_ONSPD = "onspd"
SOURCE_LISTING = "listing"
BATCH_SIZE = 5000
NO_GRID_LATITUDE = 99.999999  # what ONSPD puts in ``lat`` when a postcode has no grid reference

# Why a row was not stored, as reported to the operator.
SKIP_NO_GRID = "no grid reference"
SKIP_BAD_POSTCODE = "not a valid postcode"
SKIP_BAD_COORDINATES = "coordinates unreadable or impossible"
SKIP_SHORT_ROW = "row has too few columns"
SKIP_REPEATED = "repeated in the file (the last one kept)"

# Column names in order of preference: the tidy form ("AB1 0AA") first.
_POSTCODE_COLUMNS = ("pcds", "pcd8", "pcd2", "pcd7", "pcd", "postcode")
_LATITUDE_COLUMNS = ("lat", "latitude")
_LONGITUDE_COLUMNS = ("long", "longitude", "lon")
_TERMINATED_COLUMNS = ("doterm",)
_POSITION_EPSILON = 1e-9  # degrees: a coordinate that moved less than this has not moved


class PostcodeFileError(Exception):
    """The file is not in the ONS Postcode Directory's CSV format."""


@dataclass
class LoadReport:
    """What a load did: ``loaded`` are new postcodes, ``updated`` moved or changed, ``unchanged`` already
    stored as given; ``skipped`` counts rows not stored, by reason."""

    read: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    terminated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read, "loaded": self.loaded, "updated": self.updated, "unchanged": self.unchanged,
            "terminated": self.terminated, "skipped": dict(self.skipped),
        }


@dataclass(frozen=True)
class _Row:
    postcode: str
    latitude: float
    longitude: float
    terminated: bool
    source: str

    def values(self) -> dict[str, Any]:
        return {
            "postcode": self.postcode, "outward_code": self.postcode.split(" ")[0], "latitude": self.latitude,
            "longitude": self.longitude, "source": self.source, "terminated": self.terminated,
        }


@dataclass(frozen=True)
class _Columns:
    postcode: int
    latitude: int
    longitude: int
    terminated: int | None

    @property
    def needed(self) -> int:
        return max(self.postcode, self.latitude, self.longitude, self.terminated or 0) + 1


def load_onspd(
    *,
    lines: Iterable[str],
    file_name: str,
    actor: Any | None,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[LoadReport], None] | None = None,
) -> LoadReport:
    """Upsert every postcode with a grid reference from ONSPD CSV ``lines`` (header first), in batches;
    ``after_batch`` runs after each batch is written (the command line commits there and moves its progress
    bar). Records an audit event. Raises PostcodeFileError when the header lacks a needed column."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise PostcodeFileError(f"{file_name} is empty")
    columns = _find_columns(header, file_name)
    report = LoadReport()
    batch: dict[str, _Row] = {}
    for fields in reader:
        if not fields or fields == [""]:
            continue  # a blank line, often the last one
        report.read += 1
        row = _parse(fields, columns)
        if isinstance(row, str):
            report.skipped[row] += 1
            continue
        if row.postcode in batch:
            report.skipped[SKIP_REPEATED] += 1
        batch[row.postcode] = row
        if len(batch) >= batch_size:
            _store(list(batch.values()), report)
            batch.clear()
            if after_batch is not None:
                after_batch(report)
    if batch:
        _store(list(batch.values()), report)
        if after_batch is not None:
            after_batch(report)
    record(
        actor=actor, action="postcodes.loaded", subject_type="postcodes",
        details={"file": file_name, "via": "command line", **report.as_dict()},
    )
    geo.clear_cache()
    return report


def copy_listing_postcodes(*, actor: Any | None, batch_size: int = BATCH_SIZE) -> LoadReport:
    """Add listings' own postcodes (each at the mean of its locations' coordinates) to the table with
    source "listing", so they resolve like ONSPD postcodes. Postcodes already loaded from ONSPD are left as
    they are; hidden addresses are left out. Records an audit event."""
    points: dict[str, list[tuple[float, float]]] = {}
    report = LoadReport()
    query = sa.select(Location.postcode, Location.latitude, Location.longitude).where(
        Location.postcode != "", Location.latitude.is_not(None), Location.longitude.is_not(None),
        Location.hide_exact_address.is_(False),
    )
    for postcode, latitude, longitude in db.session.execute(query):
        report.read += 1
        code = geo.normalise_postcode(postcode)
        if code is None or " " not in code:
            report.skipped[SKIP_BAD_POSTCODE] += 1
            continue
        points.setdefault(code, []).append((latitude, longitude))
    rows = [
        _Row(code, *_mean(spots), terminated=False, source=SOURCE_LISTING)
        for code, spots in sorted(points.items())
    ]
    for start in range(0, len(rows), batch_size):
        _store(rows[start:start + batch_size], report)
    record(
        actor=actor, action="postcodes.copied_from_listings", subject_type="postcodes",
        details={"via": "command line", **report.as_dict()},
    )
    geo.clear_cache()
    return report


def _mean(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _find_columns(header: list[str], file_name: str) -> _Columns:
    names = {name.strip().lstrip("\ufeff").lower(): position for position, name in enumerate(header)}

    def first(candidates: tuple[str, ...], required: bool = True) -> int | None:
        for name in candidates:
            if name in names:
                return names[name]
        if required:
            raise PostcodeFileError(
                f"{file_name} has no {candidates[0]} column: is it the ONS Postcode Directory CSV? "
                f"(its first line should name columns such as pcds, doterm, lat, long)"
            )
        return None

    return _Columns(
        postcode=first(_POSTCODE_COLUMNS),
        latitude=first(_LATITUDE_COLUMNS),
        longitude=first(_LONGITUDE_COLUMNS),
        terminated=first(_TERMINATED_COLUMNS, required=False),
    )


def _parse(fields: list[str], columns: _Columns) -> _Row | str:
    """A storable row, or the reason the row is skipped."""
    if len(fields) < columns.needed:
        return SKIP_SHORT_ROW
    code = geo.normalise_postcode(fields[columns.postcode])
    if code is None or " " not in code:
        return SKIP_BAD_POSTCODE
    raw_latitude, raw_longitude = fields[columns.latitude].strip(), fields[columns.longitude].strip()
    if not raw_latitude:
        return SKIP_NO_GRID
    try:
        latitude, longitude = float(raw_latitude), float(raw_longitude)
    except ValueError:
        return SKIP_BAD_COORDINATES
    if abs(latitude - NO_GRID_LATITUDE) < 1e-6:
        return SKIP_NO_GRID
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return SKIP_BAD_COORDINATES
    terminated = columns.terminated is not None and bool(fields[columns.terminated].strip())
    return _Row(code, latitude, longitude, terminated, SOURCE_ONSPD)


def _store(rows: list[_Row], report: LoadReport) -> None:
    """Write the rows that are new or changed, counting each in ``report``. One indexed look-up of the
    batch first, so a repeated load writes nothing and the counts say what actually changed."""
    dialect = db.session.connection().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"postcode loading supports SQLite and PostgreSQL, not {dialect}")
    existing = {found.postcode: found for found in db.session.execute(_existing_query(rows, dialect))}
    changed: list[_Row] = []
    for row in rows:
        old = existing.get(row.postcode)
        if old is not None and row.source == SOURCE_LISTING and old.source != SOURCE_LISTING:
            report.unchanged += 1  # the ONS position outranks a listing's
            continue
        report.terminated += row.terminated
        if old is None:
            report.loaded += 1
        elif (
            abs(old.latitude - row.latitude) < _POSITION_EPSILON
            and abs(old.longitude - row.longitude) < _POSITION_EPSILON
            and old.source == row.source
            and old.terminated == row.terminated
        ):
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        changed.append(row)
    if changed:
        _upsert(changed, dialect, listing=rows[0].source == SOURCE_LISTING)


_COLUMNS = ("postcode", "outward_code", "latitude", "longitude", "source", "terminated")
_ARRAY_TYPES = {
    "postcode": sa.String, "outward_code": sa.String, "latitude": sa.Double, "longitude": sa.Double,
    "source": sa.String, "terminated": sa.Boolean,
}


def _existing_query(rows: list[_Row], dialect: str) -> sa.Select:
    keys = [row.postcode for row in rows]
    query = sa.select(
        Postcode.postcode, Postcode.latitude, Postcode.longitude, Postcode.source, Postcode.terminated
    )
    if dialect == "postgresql":
        # One array parameter rather than 5,000 expanded ones: far less to compile and send.
        array = sa.bindparam("keys", keys, type_=postgresql.ARRAY(sa.String))
        return query.where(Postcode.postcode == sa.any_(array))
    return query.where(Postcode.postcode.in_(keys))


def _upsert(rows: list[_Row], dialect: str, *, listing: bool) -> None:
    """INSERT ... ON CONFLICT (postcode) DO UPDATE in the session's dialect (SQLite and PostgreSQL share the
    syntax but not the SQLAlchemy construct). A listing's position never overwrites an ONSPD one, even if
    the file was loaded between our look-up and this write."""
    table = Postcode.__table__
    values = [row.values() for row in rows]
    if dialect == "postgresql":
        # The whole batch as one statement over unnest()ed column arrays: psycopg would otherwise send
        # one INSERT per row.
        arrays = [
            sa.bindparam(name, [value[name] for value in values], type_=postgresql.ARRAY(_ARRAY_TYPES[name]))
            for name in _COLUMNS
        ]
        unnested = sa.func.unnest(*arrays).table_valued(*_COLUMNS).render_derived(name="batch")
        statement = postgresql.insert(table).from_select(list(_COLUMNS), sa.select(*unnested.c))
        parameters = None
    else:
        statement = sqlite.insert(table)  # sqlite3's executemany reuses one prepared statement
        parameters = values
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.postcode],
        set_={name: statement.excluded[name] for name in _COLUMNS[1:]},
        where=(table.c.source == SOURCE_LISTING) if listing else None,
    )
    db.session.execute(statement, parameters)
