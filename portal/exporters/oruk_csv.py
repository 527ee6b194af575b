"""The directory as an Open Referral UK tabular data package: one CSV per HSDS table and a datapackage.json.

The package follows HSDS 3.0's tabular form (a Frictionless "tabular-data-package"): each resource names its
CSV file, its fields (name, type, format, whether required) and its primary and foreign keys. Resource names
and file names are the UK profile's (``schedule.csv``, ``service_at_location.csv``, ``attribute.csv``...).

Only public services are exported, with what they refer to: their organisations, places, categories (and the
categories' parents), hours, contacts, prices, languages, areas and accessibility. A place whose exact address
is hidden (a refuge) goes out as its outward postcode only, without street, town or coordinates.

``package_files`` builds the files in memory; ``write_directory`` and ``write_zip`` store them; ``cached_zip``
keeps one zip per state of the listing change log, so repeated downloads are cheap.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import (
    Contact,
    ListingChange,
    Location,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
    public_services_clause,
)

NAMESPACE = uuid.UUID("0c7e6a5e-44c8-4c3b-9a0e-6f3bb1c0d2a4")  # ids of rows we have no table for


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    format: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    path: str
    description: str
    fields: tuple[Field, ...]
    foreign_keys: tuple[tuple[str, str], ...] = ()  # (field, referenced resource's id)


def _f(name: str, type_: str = "string", format_: str | None = None, required: bool = False) -> Field:
    return Field(name, type_, format_, required)


ID = _f("id", format_="uuid", required=True)

TABLES: tuple[Table, ...] = (
    Table("organization", "organizations.csv", "The organisations that provide the services.", (
        ID, _f("name", required=True), _f("description", required=True), _f("email", format_="email"),
        _f("website", format_="uri"), _f("logo"), _f("uri", format_="uri"),
        _f("parent_organization_id", format_="uuid"),
    ), (("parent_organization_id", "organization"),)),
    Table("service", "services.csv", "The services organisations provide.", (
        ID, _f("organization_id", format_="uuid", required=True), _f("name", required=True), _f("description"),
        _f("url", format_="uri"), _f("email", format_="email"), _f("status", required=True), _f("fees"),
        _f("accreditations"), _f("minimum_age", "number"), _f("maximum_age", "number"), _f("assured_date"),
        _f("assurer_email", format_="email"), _f("alert"), _f("last_modified", "datetime"),
    ), (("organization_id", "organization"),)),
    Table("location", "locations.csv", "Places where services are delivered.", (
        ID, _f("location_type", required=True), _f("name"), _f("description"), _f("latitude", "number"),
        _f("longitude", "number"), _f("external_identifier"), _f("external_identifier_type"),
    )),
    Table("address", "address.csv", "The address of each place (only the outward postcode when it is hidden).", (
        ID, _f("location_id", format_="uuid"), _f("attention"), _f("address_1", required=True), _f("address_2"),
        _f("city", required=True), _f("region"), _f("state_province", required=True),
        _f("postal_code", required=True), _f("country", required=True), _f("address_type", required=True),
    ), (("location_id", "location"),)),
    Table("service_at_location", "service_at_location.csv", "Which service is delivered at which place.", (
        ID, _f("service_id", format_="uuid", required=True), _f("location_id", format_="uuid", required=True),
        _f("description"),
    ), (("service_id", "service"), ("location_id", "location"))),
    Table("schedule", "schedule.csv", "Weekly opening times (RFC 5545 recurrence: WEEKLY on BYDAY).", (
        ID, _f("service_id", format_="uuid"), _f("service_at_location_id", format_="uuid"), _f("valid_from"),
        _f("valid_to"), _f("dtstart"), _f("freq"), _f("interval", "number"), _f("byday"), _f("bymonthday"),
        _f("description"), _f("opens_at"), _f("closes_at"), _f("schedule_link", format_="uri"),
        _f("attending_type"), _f("notes"),
    ), (("service_id", "service"), ("service_at_location_id", "service_at_location"))),
    Table("contact", "contacts.csv", "Named contacts for services.", (
        ID, _f("service_id", format_="uuid"), _f("name"), _f("title"), _f("email", format_="email"),
    ), (("service_id", "service"),)),
    Table("phone", "phones.csv", "Telephone numbers of contacts.", (
        ID, _f("contact_id", format_="uuid"), _f("number", required=True), _f("extension"), _f("description"),
    ), (("contact_id", "contact"),)),
    Table("cost_option", "cost_options.csv", "Prices of services, in pounds.", (
        ID, _f("service_id", format_="uuid", required=True), _f("valid_from"), _f("valid_to"), _f("option"),
        _f("amount", "number"), _f("amount_description"),
    ), (("service_id", "service"),)),
    Table("language", "languages.csv", "Languages services are offered in (BCP 47 codes).", (
        ID, _f("service_id", format_="uuid"), _f("phone_id", format_="uuid"), _f("name"), _f("code"), _f("note"),
    ), (("service_id", "service"), ("phone_id", "phone"))),
    Table("service_area", "service_areas.csv", "Areas where services are available.", (
        ID, _f("service_id", format_="uuid"), _f("name"), _f("extent"), _f("extent_type"), _f("uri"),
        _f("service_area"),
    ), (("service_id", "service"),)),
    Table("taxonomy", "taxonomies.csv", "The vocabularies categories come from.", (
        ID, _f("name", required=True), _f("description", required=True), _f("uri", format_="uri"), _f("version"),
    )),
    Table("taxonomy_term", "taxonomy_terms.csv", "Categories, in a hierarchy through parent_id.", (
        ID, _f("code"), _f("name", required=True), _f("description", required=True),
        _f("parent_id", format_="uuid"), _f("taxonomy"), _f("taxonomy_id", format_="uuid"),
        _f("term_uri", format_="uri"),
    ), (("parent_id", "taxonomy_term"), ("taxonomy_id", "taxonomy"))),
    Table("attribute", "attribute.csv", "Links services to their categories (link_entity service).", (
        ID, _f("link_id", format_="uuid", required=True), _f("taxonomy_term_id", format_="uuid", required=True),
        _f("link_type"), _f("link_entity", required=True), _f("value"), _f("label"),
    ), (("taxonomy_term_id", "taxonomy_term"),)),
    Table("accessibility", "accessibility.csv", "Accessibility of the places services are delivered at.", (
        ID, _f("location_id", format_="uuid"), _f("description"), _f("details"), _f("url", format_="uri"),
    ), (("location_id", "location"),)),
)
TABLE_BY_NAME = {table.name: table for table in TABLES}


# --- rows ------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _pounds(pence: int | None) -> str:
    return "" if pence is None else str(Decimal(pence) / 100)


def _derived(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(map(str, parts))))


def public_services() -> list[Service]:
    return list(db.session.scalars(
        sa.select(Service).where(public_services_clause()).order_by(Service.name, Service.id).options(
            selectinload(Service.organisation),
            selectinload(Service.taxonomy_terms).selectinload(TaxonomyTerm.taxonomy),
            selectinload(Service.accessibility_features), selectinload(Service.languages),
            selectinload(Service.cost_options), selectinload(Service.schedules),
            selectinload(Service.contacts).selectinload(Contact.phones),
            selectinload(Service.service_areas),
            selectinload(Service.locations_at).selectinload(ServiceAtLocation.location),
        )
    ))


class _Rows:
    """Collects every table's rows for a list of services, each row once."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict]] = {table.name: {} for table in TABLES}

    def add(self, table: str, row: dict) -> None:
        self.tables[table].setdefault(row["id"], row)

    def rows(self, table: str) -> list[dict]:
        return list(self.tables[table].values())


def collect(services: list[Service]) -> _Rows:
    rows = _Rows()
    for service in services:
        _organisation(rows, service)
        _service(rows, service)
        for link in service.locations_at:
            _location(rows, link.location)
            rows.add("service_at_location", {"id": str(link.id), "service_id": str(service.id),
                                             "location_id": str(link.location_id), "description": link.description})
            for feature in service.accessibility_features:
                rows.add("accessibility", {"id": _derived("accessibility", link.location_id, feature.id),
                                           "location_id": str(link.location_id), "description": feature.name})
        _service_details(rows, service)
        for term in service.taxonomy_terms:
            _term(rows, term)
            rows.add("attribute", {"id": _derived("attribute", service.id, term.id), "link_id": str(service.id),
                                   "taxonomy_term_id": str(term.id), "link_type": "service_type",
                                   "link_entity": "service", "value": "", "label": ""})
    return rows


def _organisation(rows: _Rows, service: Service) -> None:
    organisation = service.organisation
    rows.add("organization", {"id": str(organisation.id), "name": organisation.name,
                              "description": organisation.description, "email": organisation.email,
                              "website": organisation.website, "logo": "", "uri": "", "parent_organization_id": ""})


def _service(rows: _Rows, service: Service) -> None:
    rows.add("service", {
        "id": str(service.id), "organization_id": str(service.organisation_id), "name": service.name,
        "description": service.description, "url": service.url, "email": service.email,
        "status": service.status.value, "fees": service.fees_description or ("Free" if service.is_free else ""),
        "accreditations": "", "minimum_age": service.minimum_age, "maximum_age": service.maximum_age,
        "assured_date": service.assured_date.isoformat() if service.assured_date else "",
        "assurer_email": "", "alert": "", "last_modified": service.updated_at,
    })


def _location(rows: _Rows, location: Location) -> None:
    hidden = location.hide_exact_address
    rows.add("location", {
        "id": str(location.id), "location_type": "physical", "name": location.name,
        "description": location.description,
        # A hidden address must not be found on a map either: no coordinates at all.
        "latitude": None if hidden else location.latitude, "longitude": None if hidden else location.longitude,
        "external_identifier": "", "external_identifier_type": "",
    })
    rows.add("address", {
        "id": _derived("address", location.id), "location_id": str(location.id), "attention": "",
        "address_1": "" if hidden else location.address_1, "address_2": "" if hidden else location.address_2,
        "city": "" if hidden else location.city, "region": "",
        "state_province": "" if hidden else location.state_province,
        "postal_code": location.outward_code if hidden else location.postcode, "country": location.country,
        "address_type": "physical",
    })


def _service_details(rows: _Rows, service: Service) -> None:
    sid = str(service.id)
    for row in service.schedules:
        rows.add("schedule", {
            "id": str(row.id), "service_id": sid,
            "service_at_location_id": str(row.service_at_location_id) if row.service_at_location_id else "",
            "freq": "WEEKLY", "interval": 1, "byday": row.byday.value,
            "opens_at": row.opens_at.strftime("%H:%M") if row.opens_at else "",
            "closes_at": row.closes_at.strftime("%H:%M") if row.closes_at else "", "notes": row.notes,
        })
    for contact in service.contacts:
        rows.add("contact", {"id": str(contact.id), "service_id": sid, "name": contact.name, "title": contact.title,
                             "email": contact.email})
        for phone in contact.phones:
            rows.add("phone", {"id": str(phone.id), "contact_id": str(contact.id), "number": phone.number,
                               "extension": phone.extension, "description": phone.description})
    for cost in service.cost_options:
        unit = f"per {cost.unit.value}" if cost.unit else ""
        rows.add("cost_option", {"id": str(cost.id), "service_id": sid, "option": cost.option,
                                 "amount": _pounds(cost.amount_pence),
                                 "amount_description": cost.amount_description or unit})
    for language in service.languages:
        rows.add("language", {"id": str(language.id), "service_id": sid, "name": _language_name(language.code),
                              "code": language.code, "note": language.note})
    for area in service.service_areas:
        name = area.locality.name if area.locality else area.name
        rows.add("service_area", {"id": str(area.id), "service_id": sid, "name": name, "service_area": name})


def _term(rows: _Rows, term: TaxonomyTerm) -> None:
    # A term's parents go out too, so every parent_id resolves within the package.
    while term is not None and str(term.id) not in rows.tables["taxonomy_term"]:
        taxonomy = term.taxonomy
        rows.add("taxonomy", {"id": str(taxonomy.id), "name": taxonomy.name, "description": taxonomy.description,
                              "uri": taxonomy.uri, "version": taxonomy.version})
        rows.add("taxonomy_term", {"id": str(term.id), "code": term.code, "name": term.name,
                                   "description": term.description,
                                   "parent_id": str(term.parent_id) if term.parent_id else "",
                                   "taxonomy": taxonomy.name, "taxonomy_id": str(taxonomy.id), "term_uri": ""})
        term = term.parent


def _language_name(code: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or ""
    except (ValueError, UnknownLocaleError):
        return ""


# --- files -----------------------------------------------------------------------------------------------------


def _csv(table: Table, rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([field.name for field in table.fields])
    for row in rows:
        writer.writerow([_text(row.get(field.name)) for field in table.fields])
    return out.getvalue().encode("utf-8")


def _field_descriptor(field: Field) -> dict:
    descriptor: dict[str, Any] = {"name": field.name, "type": field.type}
    if field.format:
        descriptor["format"] = field.format
    descriptor["constraints"] = {"required": field.required, **({"unique": True} if field.name == "id" else {})}
    return descriptor


def descriptor(*, title: str, homepage: str | None, created: datetime) -> dict:
    """datapackage.json: the package and, for every file, its fields and keys."""
    return {
        "profile": "tabular-data-package",
        "name": "open-referral-uk-directory",
        "title": title,
        "description": "The public services of the directory in the Open Referral UK (HSDS 3.0 UK profile) "
                       "tabular format.",
        "homepage": homepage,
        "created": _text(created),
        "licenses": [{"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0",
                      "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}],
        "resources": [
            {
                "name": table.name, "path": table.path, "description": table.description, "format": "csv",
                "mediatype": "text/csv", "encoding": "utf-8", "profile": "tabular-data-resource",
                "schema": {
                    "fields": [_field_descriptor(field) for field in table.fields],
                    "primaryKey": "id",
                    "foreignKeys": [{"fields": name, "reference": {"resource": resource, "fields": "id"}}
                                    for name, resource in table.foreign_keys],
                    "missingValues": [""],
                },
            }
            for table in TABLES
        ],
    }


def package_files(*, title: str, homepage: str | None = None) -> dict[str, bytes]:
    """Every file of the package by name, built from the database now."""
    rows = collect(public_services())
    files = {table.path: _csv(table, rows.rows(table.name)) for table in TABLES}
    meta = descriptor(title=title, homepage=homepage, created=datetime.now(UTC))
    files["datapackage.json"] = json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8")
    return files


def write_directory(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)


def write_zip(path: Path, files: dict[str, bytes]) -> None:
    """Write the zip next to its final name and move it in place, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".oruk-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _cache_key() -> str:
    """Which state of the directory a zip shows: the latest change-log row (its id and time) in this database."""
    latest = db.session.execute(
        sa.select(ListingChange.id, ListingChange.created_at).order_by(ListingChange.id.desc()).limit(1)
    ).first()
    state = f"{db.engine.url.render_as_string(hide_password=True)}|{latest[0] if latest else 0}|" \
            f"{latest[1].isoformat() if latest else ''}"
    return hashlib.sha256(state.encode()).hexdigest()[:20]


def cached_zip(cache_dir: Path, *, title: str, homepage: str | None = None) -> Path:
    """The package as a zip for the directory as it is now: reused until a listing changes."""
    path = cache_dir / f"oruk-datapackage-{_cache_key()}.zip"
    if not path.is_file():
        write_zip(path, package_files(title=title, homepage=homepage))
        for old in cache_dir.glob("oruk-datapackage-*.zip"):
            if old != path:
                old.unlink(missing_ok=True)
    return path
