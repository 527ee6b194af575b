"""The API against the Open Referral UK profile itself: every record of the demo borough validates against
the profile's compiled schemas (Draft 2020-12, formats checked, URLs included), every page envelope against
the profile's ``Page``, and the profile's behaviour checks hold. A consumer such as the official ORUK
validator would otherwise reject the feed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from portal.demo.loader import load_demo
from portal.extensions import db
from portal.models import Location, Postcode, Service, ServiceAtLocation, public_services_clause
from search import indexer
from tests.support.directory_factories import add_location
from tests.support.factories import make_service

DEMO_DAY = date(2025, 4, 1)
PROFILE = Path(__file__).resolve().parents[3] / "shared" / "oruk" / "uk-profile" / "schema"


def _resource(path: Path) -> Resource:
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012)


REGISTRY = Registry().with_resources([
    ("openapi.json", _resource(PROFILE / "openapi.json")),
    ("taxonomy_term.json", _resource(PROFILE / "taxonomy_term.json")),
])
FORMATS = FormatChecker()


def validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMATS)


def compiled(name: str) -> Draft202012Validator:
    return validator(json.loads((PROFILE / "compiled" / name).read_text()))


SCHEMAS = {
    "service": compiled("service.json"),
    "service_list": compiled("service_list.json"),
    "service_at_location": compiled("service_at_location.json"),
    "service_at_location_list": compiled("service_at_location_list.json"),
    "organization": compiled("organization.json"),
    "organization_list": compiled("organization_list.json"),
    "taxonomy": validator(json.loads((PROFILE / "taxonomy.json").read_text())),
    "taxonomy_term": validator(json.loads((PROFILE / "taxonomy_term.json").read_text())),
}
PAGE = validator({"$ref": "openapi.json#/components/schemas/Page"})


def test_the_format_checks_really_check_urls_and_uuids():
    # Without rfc3987 installed, "uri" would pass anything and this suite would prove less than it says.
    assert not FORMATS.conforms("not a url", "uri")
    assert not FORMATS.conforms("12", "uuid")
    assert not SCHEMAS["service_list"].is_valid({"id": "12", "name": "x", "status": "active"})


def conforming(body: dict, schema: str) -> dict:
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in SCHEMAS[schema].iter_errors(body)]
    assert not errors, errors
    return body


def every_item(client, path: str, schema: str) -> list[dict]:
    """Every item of every page of a list, each validated, and each page's envelope validated."""
    items, page = [], 1
    while True:
        response = client.get(f"{path}{'&' if '?' in path else '?'}per_page=200&page={page}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert not list(PAGE.iter_errors(body))
        items.extend(conforming(item, schema) for item in body["contents"])
        if body["last_page"]:
            assert body["total_items"] == len(items)
            return items
        page += 1


@pytest.fixture(autouse=True)
def unlimited(app):
    """These tests read the whole directory: far more requests than one client may make a minute."""
    app.config["API_RATE_LIMIT"] = "1000000 per minute"
    yield
    app.config.pop("API_RATE_LIMIT")


@pytest.fixture
def demo(session):
    load_demo(today=DEMO_DAY)
    session.flush()
    indexer.rebuild()


def test_every_record_of_the_demo_borough_conforms_to_the_uk_profile(client, demo):
    services = every_item(client, "/api/services", "service_list")
    public = db.session.scalar(sa.select(sa.func.count()).select_from(Service).where(public_services_clause()))
    assert len(services) == public > 200
    # Each organisation's record holds its services in full: validating those validates every full service
    # record in a few dozen requests; /services/{id} must then give the same record.
    in_full = {}
    for organisation in every_item(client, "/api/organizations", "organization_list"):
        body = conforming(client.get(f"/api/organizations/{organisation['id']}").get_json(), "organization")
        in_full.update({service["id"]: service for service in body.get("services", [])})
    assert set(in_full) == {item["id"] for item in services}
    for item in services[::7]:
        full = conforming(client.get(f"/api/services/{item['id']}").get_json(), "service")
        assert full == in_full[item["id"]]
    links = every_item(client, "/api/service_at_locations", "service_at_location_list")
    for link in links[::15]:
        conforming(client.get(f"/api/service_at_locations/{link['id']}").get_json(), "service_at_location")
    terms = every_item(client, "/api/taxonomy_terms", "taxonomy_term")
    assert len(terms) > 20
    for term in terms[::10]:
        conforming(client.get(f"/api/taxonomy_terms/{term['id']}").get_json(), "taxonomy_term")
    for taxonomy in every_item(client, "/api/taxonomies", "taxonomy"):
        conforming(client.get(f"/api/taxonomies/{taxonomy['id']}").get_json(), "taxonomy")


def _found(client, service_id: str, query: str) -> bool:
    """Whether ``service_id`` is among every result of /api/services?``query``."""
    ids = {item["id"] for item in every_item(client, f"/api/services?{query}", "service_list")}
    return service_id in ids


def _sample(demo_services: list[Service], count: int = 12) -> list[Service]:
    step = max(1, len(demo_services) // count)
    return demo_services[::step][:count]


def test_the_profile_behaviour_checks_hold_for_demo_services(client, demo):
    services = db.session.scalars(sa.select(Service).where(public_services_clause()).order_by(Service.id)).all()
    checked = {"text": 0, "postcode": 0, "term": 0, "age": 0, "day": 0}
    for service in _sample(list(services)):
        sid = str(service.id)
        assert _found(client, sid, f"text={service.name}"), service.name
        checked["text"] += 1
        places = [place for place in service.locations if place.postcode and not place.hide_exact_address]
        if places:
            assert _found(client, sid, f"postcode={places[0].postcode}&proximity=1000"), service.name
            checked["postcode"] += 1
        if service.taxonomy_terms:
            assert _found(client, sid, f"taxonomy_term_id={service.taxonomy_terms[0].id}"), service.name
            checked["term"] += 1
        if service.maximum_age is not None:
            assert _found(client, sid, f"minimum_age={service.minimum_age or 0}&maximum_age={service.maximum_age}")
            checked["age"] += 1
        if service.schedules:
            assert _found(client, sid, f"day={service.schedules[0].byday.value}"), service.name
            checked["day"] += 1
    assert all(checked.values()), checked


def _everything_said_about(client, service: Service) -> str:
    texts = [client.get(f"/api/services/{service.id}").get_data(as_text=True),
             client.get(f"/api/organizations/{service.organisation_id}").get_data(as_text=True),
             client.get(f"/api/services?text={service.name}&per_page=200").get_data(as_text=True),
             client.get("/api/service_at_locations?per_page=200").get_data(as_text=True)]
    for link in service.locations_at:
        texts.append(client.get(f"/api/service_at_locations/{link.id}").get_data(as_text=True))
    return "\n".join(texts)


def test_a_hidden_address_is_never_published_only_its_outward_code_and_area(client, session):
    session.add(Postcode(postcode="AM1 9ZZ", outward_code="AM1", latitude=51.61234, longitude=-0.81234))
    refuge = make_service(name="Safe house")
    add_location(refuge, postcode="AM1 4QT", address_1="7 Secret Lane", city="Aldermoor",
                         latitude=51.60123, longitude=-0.80123, hide_exact_address=True)
    said = _everything_said_about(client, refuge)
    for secret in ("7 Secret Lane", "AM1 4QT", "51.60123", "-0.80123", "Aldermoor"):
        assert secret not in said
    location = client.get(f"/api/services/{refuge.id}").get_json()["service_at_locations"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (51.61, -0.81)
    assert location["addresses"][0]["postal_code"] == "AM1"
    conforming(client.get(f"/api/services/{refuge.id}").get_json(), "service")
    # A search at the place's own postcode cannot single it out either.
    assert client.get("/api/services?postcode=AM1 4QT&proximity=50").status_code == 400


def test_no_demo_refuge_or_childminder_address_is_published(client, demo):
    hidden = db.session.scalars(
        sa.select(Location).join(ServiceAtLocation).join(Service)
        .where(Location.hide_exact_address.is_(True), public_services_clause())).unique().all()
    assert hidden
    for place in hidden[:5]:
        for link in place.services_at:
            body = client.get(f"/api/services/{link.service_id}").get_data(as_text=True)
            assert place.postcode not in body
            if place.address_1:
                assert place.address_1 not in body
            if place.latitude is not None:
                assert repr(place.latitude) not in body
