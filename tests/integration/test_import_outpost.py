"""``flask import outpost``: Outpost JSON from a council directory becomes real, searchable listings."""

from __future__ import annotations

import copy
import json
from datetime import time

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.importers.outpost import import_records, import_taxonomy_tree, read_records
from portal.models import (
    AuditEvent,
    Contact,
    ListingChange,
    Location,
    Need,
    Organisation,
    Phone,
    Schedule,
    Service,
    TaxonomyTerm,
    Weekday,
)
from tests.conftest import count


@pytest.fixture
def sample(shared_dir):
    return shared_dir / "data" / "buckinghamshire-sample"


@pytest.fixture
def records(sample):
    return read_records(sample / "services.json")


def service_named(name: str) -> Service:
    return db.session.scalar(sa.select(Service).where(Service.name == name))


def table_counts() -> dict[str, int]:
    return {
        model.__name__: count(model)
        for model in (
            Service,
            Organisation,
            Location,
            TaxonomyTerm,
            Need,
            Schedule,
            Contact,
            Phone,
            ListingChange,
        )
    }


def test_the_twenty_sample_services_become_listings(app, session, sample):
    result = app.test_cli_runner().invoke(args=["import", "outpost", str(sample / "services.json")])
    assert result.exit_code == 0, result.output
    assert "Created 20, updated 0, unchanged 0, rejected 0." in result.output
    assert session.scalar(sa.select(sa.func.count()).where(Service.source == "outpost")) == 20
    assert count(ListingChange) == 20
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import.outpost"))
    assert event.actor_id is None and event.details["created"] == 20


def test_an_imported_service_keeps_its_place_hours_needs_and_categories(session, records):
    import_records(records)
    brownies = service_named("12th Aylesbury Brownies")
    (place,) = brownies.locations
    assert place.postcode == "HP21 7JF"
    # GeoJSON is [longitude, latitude]: Aylesbury is at about 51.8 N, 0.79 W.
    assert (place.latitude, place.longitude) == (pytest.approx(51.811001), pytest.approx(-0.790659))
    assert place.address_1 == "Hazell Avenue"
    assert [(s.byday, s.opens_at, s.closes_at) for s in brownies.schedules] == [
        (Weekday.MO, time(10), time(17))
    ]
    assert {need.slug for need in brownies.needs} == {
        "autism",
        "hearing",
        "sensory-and-physical-needs",
        "visual",
    }
    assert all(need.send for need in brownies.needs)
    assert (brownies.minimum_age, brownies.maximum_age) == (5, 11)
    clubs = next(term for term in brownies.taxonomy_terms if term.code == "clubs-and-groups")
    assert clubs.parent.code == "things-to-do" and clubs.taxonomy.name == "Outpost directory categories"
    assert brownies.local_offer and brownies.local_offer_description == "Example sentence"
    assert brownies.local_offer_answers == []  # every answer in the sample is empty


def test_an_organisation_without_a_name_is_filed_under_a_placeholder(session, records):
    report = import_records(records)
    brownies = service_named("12th Aylesbury Brownies")
    assert brownies.organisation.name == "12th Aylesbury Brownies"
    assert brownies.organisation.source_id == "1883"
    assert "12th Aylesbury Brownies (Outpost organisation 1883)" in report.placeholder_organisations
    assert service_named("13 plus days | Tuesdays and Thursdays").organisation.name == "Thomley"


def test_contacts_accessibility_and_online_services_come_across(session, records):
    import_records(records)
    horizons = service_named("ABA Horizons")
    phones = {(p.number, p.extension) for c in horizons.contacts for p in c.phones}
    assert ("0203 289 6420", "303") in phones
    assert {c.name for c in horizons.contacts} >= {"Jamie Spencer"}
    # A place at 0,0 with no postcode is Outpost's way of saying "online or nationwide".
    assert horizons.locations == [] and horizons.online and not horizons.in_person
    preschool = service_named("Abbotsbrook Pre-School")
    assert {f.slug for f in preschool.accessibility_features} == {
        "accessible-toilet-facilities",
        "wheelchair-accessible-entrance",
    }
    assert "\r" not in service_named("12th Aylesbury Brownies").description


def test_importing_the_same_file_twice_creates_nothing_new(session, records):
    import_records(records)
    before = table_counts()
    report = import_records(copy.deepcopy(records))
    assert len(report.unchanged) == 20 and not report.created and not report.updated
    assert table_counts() == before


def test_a_changed_record_updates_the_same_listing_in_place(session, records):
    import_records(records)
    original = service_named("12th Aylesbury Brownies")
    changed = copy.deepcopy(records[0])
    changed["description"] = "Brownies meet on Mondays in term time."
    changed["regular_schedules"][0]["weekday"] = "Tuesday"
    changes_before = count(ListingChange)
    report = import_records([changed])
    assert report.updated == ["12th Aylesbury Brownies (id 1)"]
    session.expire_all()
    again = service_named("12th Aylesbury Brownies")
    assert again.id == original.id
    assert again.description == "Brownies meet on Mondays in term time."
    assert [s.byday for s in again.schedules] == [Weekday.TU]
    assert count(ListingChange) == changes_before + 1


def test_a_broken_record_is_rejected_with_its_reason_and_the_rest_import(app, session, records, tmp_path):
    nameless = copy.deepcopy(records[0]) | {"id": 9001, "name": "  "}
    off_the_map = copy.deepcopy(records[2]) | {"id": 9002, "name": "Somewhere impossible"}
    off_the_map["organisation"] = {"id": 9002, "name": "Impossible Places Trust"}
    off_the_map["locations"][0] = off_the_map["locations"][0] | {
        "id": 9002,
        "geometry": {"type": "Point", "coordinates": [-200.5, 95.0]},
    }
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"content": [nameless, off_the_map, records[1]]}), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["import", "outpost", str(path)])

    assert result.exit_code == 0, result.output
    assert "Created 1, updated 0, unchanged 0, rejected 2." in result.output
    assert "Rejected unnamed (id 9001): the service has no name" in result.output
    assert (
        "Rejected Somewhere impossible (id 9002): location 9002 has impossible coordinates" in result.output
    )
    assert service_named("13 plus days | Tuesdays and Thursdays") is not None
    # Never half-imported: nothing of the rejected records is left behind.
    assert (
        session.scalar(sa.select(Organisation).where(Organisation.name == "Impossible Places Trust")) is None
    )
    assert session.scalar(sa.select(Location).where(Location.source_id == "9002")) is None


def test_a_reversed_age_range_is_swapped_with_a_warning(session, records):
    reversed_ages = copy.deepcopy(records[0]) | {"min_age": 11, "max_age": 5}
    report = import_records([reversed_ages])
    brownies = service_named("12th Aylesbury Brownies")
    assert (brownies.minimum_age, brownies.maximum_age) == (5, 11)
    assert any("reversed" in warning for warning in report.warnings)


def test_a_single_record_file_and_the_category_tree_import(session, sample):
    import_taxonomy_tree(read_records(sample / "taxonomies.json"))
    youth_clubs = session.scalar(sa.select(TaxonomyTerm).where(TaxonomyTerm.code == "youth-clubs"))
    assert youth_clubs.parent.code == "clubs-and-groups" and youth_clubs.parent.parent.code == "things-to-do"
    report = import_records(read_records(sample / "service.json"))
    assert report.created == ["12th Aylesbury Brownies (id 1)"]


def test_a_file_that_is_not_outpost_json_is_refused_clearly(app, session, tmp_path):
    path = tmp_path / "nonsense.json"
    path.write_text("this is not json", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", "outpost", str(path)])
    assert result.exit_code != 0
    assert "cannot read" in result.output
