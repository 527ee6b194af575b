"""Schemathesis against our own OpenAPI document, through the WSGI app (no network): whatever a client sends
within (or outside) the documented parameters, the API never answers with a server error, and every answer
matches the schema documented for its status code."""

from __future__ import annotations

from datetime import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from portal.models import CostUnit, Postcode, Weekday
from search import indexer
from tests.support.directory_factories import add_contact, add_cost, add_language, add_location, add_opening, file_under
from tests.support.factories import make_service, make_term

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 120  # per database; keeps the test well under a minute


@pytest.fixture
def directory(session, app):
    """A small directory with every kind of record, indexed, and no rate limit in the way."""
    session.add(Postcode(postcode="AM1 1AA", outward_code="AM1", latitude=51.5, longitude=-0.9))
    parent = make_term(name="Support at home")
    child = make_term(name="Home care", parent=parent)
    service = file_under(make_service(name="Home care agency", minimum_age=18, maximum_age=99,
                                      url="www.example.org", email="care@example.org"), child)
    add_location(service, postcode="AM1 1AB", latitude=51.501, longitude=-0.901)
    add_opening(service, Weekday.MO, time(9), time(17))
    add_cost(service, amount_pence=1850, unit=CostUnit.HOUR)
    add_contact(service, name="Sam", phones=("01632 960 123",))
    add_language(service, "cy")
    refuge = file_under(make_service(name="Safe house"), parent)
    add_location(refuge, postcode="AM1 4QT", latitude=51.6, longitude=-0.8, hide_exact_address=True)
    session.flush()
    indexer.rebuild()
    app.config["API_RATE_LIMIT"] = "1000000 per minute"
    yield {"service": service, "refuge": refuge, "term": child}
    app.config.pop("API_RATE_LIMIT")


def test_no_generated_request_gets_a_server_error_or_a_non_conforming_answer(app, client, directory):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    strategy = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()


def test_every_record_kind_conforms_to_the_documented_schema(app, client, directory):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    service = directory["service"]
    ids = {
        "/services/{id}": service.id,
        "/service_at_locations/{id}": service.locations_at[0].id,
        "/organizations/{id}": service.organisation_id,
        "/taxonomies/{id}": directory["term"].taxonomy_id,
        "/taxonomy_terms/{id}": directory["term"].id,
    }
    checked = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        path_parameters = {"id": str(ids[operation.path])} if operation.path in ids else {}
        case = operation.Case(path_parameters=path_parameters)
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 200, (operation.path, response.text)
        checked.add(operation.path)
    # Every documented path but the document's own, which schemathesis leaves out.
    assert checked == {"/", "/services", "/service_at_locations", "/organizations", "/taxonomies", "/taxonomy_terms",
                       *ids}
