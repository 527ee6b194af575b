"""The directory as the Open Referral UK CSV data package: ``flask export oruk DIR`` and the download."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.data import listings
from portal.demo.loader import load_demo
from portal.extensions import db
from portal.models import (
    Contact,
    CostOption,
    Location,
    Organisation,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceLanguage,
    public_services_clause,
)
from portal.models.directory import service_taxonomy_terms
from tests.support.factories import make_organisation, make_service
from tests.support.html import parse, texts

DEMO_DAY = date(2025, 6, 2)


@pytest.fixture
def demo(session):
    load_demo(today=DEMO_DAY)


def read_package(directory: Path) -> tuple[dict, dict[str, list[dict]]]:
    meta = json.loads((directory / "datapackage.json").read_text())
    tables = {}
    for resource in meta["resources"]:
        with open(directory / resource["path"], newline="", encoding="utf-8") as handle:
            tables[resource["name"]] = list(csv.DictReader(handle))
    return meta, tables


def export(app, directory: Path) -> tuple[dict, dict[str, list[dict]]]:
    result = app.test_cli_runner().invoke(args=["export", "oruk", str(directory)])
    assert result.exit_code == 0, result.output
    return read_package(directory)


def public_count(*columns, joins=()) -> int:
    """How many distinct rows of ``columns`` hang off the public services."""
    query = sa.select(*columns).select_from(Service)
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(public_services_clause()).distinct()
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def test_the_demo_borough_exports_a_row_for_every_public_service_and_what_it_refers_to(app, demo, tmp_path):
    _, tables = export(app, tmp_path / "package")
    expected = {
        "service": public_count(Service.id),
        "organization": public_count(Service.organisation_id),
        "service_at_location": public_count(ServiceAtLocation.id, joins=[(ServiceAtLocation,
                                                                          ServiceAtLocation.service_id == Service.id)]),
        "location": public_count(ServiceAtLocation.location_id, joins=[(ServiceAtLocation,
                                                                         ServiceAtLocation.service_id == Service.id)]),
        "schedule": public_count(Schedule.id, joins=[(Schedule, Schedule.service_id == Service.id)]),
        "contact": public_count(Contact.id, joins=[(Contact, Contact.service_id == Service.id)]),
        "phone": public_count(Phone.id, joins=[(Contact, Contact.service_id == Service.id),
                                               (Phone, Phone.contact_id == Contact.id)]),
        "cost_option": public_count(CostOption.id, joins=[(CostOption, CostOption.service_id == Service.id)]),
        "language": public_count(ServiceLanguage.id, joins=[(ServiceLanguage,
                                                             ServiceLanguage.service_id == Service.id)]),
        "attribute": public_count(service_taxonomy_terms.c.service_id, service_taxonomy_terms.c.taxonomy_term_id,
                                  joins=[(service_taxonomy_terms, service_taxonomy_terms.c.service_id == Service.id)]),
    }
    assert expected["service"] > 250  # the demo borough publishes most of its 300 listings
    assert {name: len(tables[name]) for name in expected} == expected
    assert len(tables["address"]) == len(tables["location"])
    unpublished = db.session.scalars(sa.select(Service.id).where(sa.not_(public_services_clause()))).all()
    assert unpublished and not {str(sid) for sid in unpublished} & {row["id"] for row in tables["service"]}


def test_every_reference_between_the_files_resolves_and_every_id_is_unique(app, demo, tmp_path):
    meta, tables = export(app, tmp_path / "package")
    ids = {name: [row["id"] for row in rows] for name, rows in tables.items()}
    for name, values in ids.items():
        assert len(values) == len(set(values)), f"duplicate ids in {name}"
    checked = 0
    for resource in meta["resources"]:
        for key in resource["schema"]["foreignKeys"]:
            known = set(ids[key["reference"]["resource"]])
            for row in tables[resource["name"]]:
                value = row[key["fields"]]
                assert value == "" or value in known, f"{resource['name']}.{key['fields']} {value} does not resolve"
                checked += value != ""
    assert checked > 1000
    terms = {row["id"]: row for row in tables["taxonomy_term"]}
    assert any(row["parent_id"] for row in terms.values())  # the hierarchy travels with the terms


def test_datapackage_json_lists_every_file_with_its_fields(app, demo, tmp_path):
    directory = tmp_path / "package"
    meta, _ = export(app, directory)
    assert meta["profile"] == "tabular-data-package"
    paths = {resource["path"] for resource in meta["resources"]}
    assert paths | {"datapackage.json"} == {path.name for path in directory.iterdir()}
    names = {resource["name"] for resource in meta["resources"]}
    assert {"organization", "service", "location", "service_at_location", "schedule", "phone", "contact",
            "cost_option", "language", "service_area", "taxonomy", "taxonomy_term", "attribute",
            "accessibility"} <= names
    for resource in meta["resources"]:
        header = next(csv.reader(io.StringIO((directory / resource["path"]).read_text(encoding="utf-8"))))
        assert header == [field["name"] for field in resource["schema"]["fields"]], resource["path"]
        assert resource["schema"]["primaryKey"] == "id" and resource["mediatype"] == "text/csv"


def test_a_hidden_address_goes_out_as_its_outward_code_only(app, session, tmp_path):
    refuge = make_service(name="Safe House Support", organisation=make_organisation(name="Safe Homes"))
    place, _ = listings.save_location(actor=None, organisation=refuge.organisation, data=listings.LocationData(
        name="Refuge", address_1="17 Hidden Lane", city="Aldermoor", postcode="AM7 9QZ", latitude=54.1234,
        longitude=-2.9876, hide_exact_address=True))
    listings.update_listing(actor=None, service=refuge, data=listings.ListingData(
        **{**listings.listing_data_of(refuge).__dict__, "locations": [place]}))
    directory = tmp_path / "package"
    _, tables = export(app, directory)
    (address,) = [row for row in tables["address"] if row["location_id"] == str(place.id)]
    assert (address["address_1"], address["city"], address["postal_code"]) == ("", "", "AM7")
    (location,) = [row for row in tables["location"] if row["id"] == str(place.id)]
    assert (location["latitude"], location["longitude"]) == ("", "")
    everything = "".join(path.read_text(encoding="utf-8") for path in directory.iterdir())
    for secret in ("Hidden Lane", "AM7 9QZ", "54.1234", "2.9876"):
        assert secret not in everything


def test_the_download_is_a_zip_made_once_until_a_listing_changes(app, client, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "OPEN_DATA_CACHE_DIR", str(tmp_path / "cache"))
    service = make_service(name="Befriending Circle")
    response = client.get("/open-data/oruk-datapackage.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert "datapackage.json" in archive.namelist()
    services = list(csv.DictReader(io.StringIO(archive.read("services.csv").decode("utf-8"))))
    assert [row["name"] for row in services] == ["Befriending Circle"]
    (cached,) = (tmp_path / "cache").iterdir()
    made = cached.stat().st_mtime_ns
    assert client.get("/open-data/oruk-datapackage.zip").status_code == 200
    assert [path.stat().st_mtime_ns for path in (tmp_path / "cache").iterdir()] == [made]
    listings.update_listing(actor=None, service=service, data=listings.ListingData(
        **{**listings.listing_data_of(service).__dict__, "name": "Befriending Circle Aldermoor"}))
    archive = zipfile.ZipFile(io.BytesIO(client.get("/open-data/oruk-datapackage.zip").data))
    services = list(csv.DictReader(io.StringIO(archive.read("services.csv").decode("utf-8"))))
    assert [row["name"] for row in services] == ["Befriending Circle Aldermoor"]
    assert len(list((tmp_path / "cache").iterdir())) == 1  # the old zip is cleared away


def test_the_open_data_page_explains_the_data_and_links_the_download(client):
    response = client.get("/open-data")
    assert response.status_code == 200
    document = parse(response)
    assert texts(document, "//h1") == ["Open data"]
    assert "/open-data/oruk-datapackage.zip" in document.xpath("//main//a/@href")
    assert "services.csv" in texts(document, "//main//code")
    welsh = client.get("/open-data?lang=cy")
    assert welsh.status_code == 200
    assert "/open-data/oruk-datapackage.zip" in parse(welsh).xpath("//main//a/@href")


def test_an_organisation_without_public_services_is_not_exported(app, session, tmp_path):
    hidden = make_organisation(name="Pending Provider", approved=False)
    make_service(name="Not yet approved", organisation=hidden)
    make_service(name="Shown")
    _, tables = export(app, tmp_path / "package")
    assert [row["name"] for row in tables["service"]] == ["Shown"]
    assert "Pending Provider" not in {row["name"] for row in tables["organization"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 2
    assert tables["location"] == [] and db.session.scalar(sa.select(sa.func.count()).select_from(Location)) == 0
