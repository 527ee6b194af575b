"""The Open Referral UK API as a developer uses it: finding services, paging, errors, caching, CORS, limits."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta

from portal.api.openapi import openapi_document
from portal.models import CostUnit, Postcode, ServiceStatus, Weekday
from search import indexer
from tests.support.directory_factories import add_contact, add_cost, add_location, add_opening, file_under
from tests.support.factories import make_organisation, make_service, make_term


def contents(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["contents"]


def names(response) -> list[str]:
    return [item["name"] for item in contents(response)]


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


# --- the root and the document ------------------------------------------------------------------------------


def test_the_api_root_states_its_version_profile_and_openapi_url(client):
    body = client.get("/api/").get_json()
    assert body["version"] == "3.0"
    assert body["profile"].startswith("https://")
    assert body["openapi_url"] == "http://localhost/api/openapi.json"
    assert client.get(body["openapi_url"]).get_json()["openapi"] == "3.1.0"


def test_the_openapi_document_describes_exactly_the_api_routes(app, client):
    document = client.get("/api/openapi.json").get_json()
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            routes.add(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api")))
    assert set(document["paths"]) == routes
    assert document["servers"] == [{"url": "http://localhost/api"}]


def test_the_openapi_document_documents_every_parameter_the_services_list_reads(app, client):
    document = openapi_document("http://localhost/api", app.config["ORUK_SCHEMA_DIR"])
    documented = {parameter["name"] for parameter in document["paths"]["/services"]["get"]["parameters"]}
    assert documented == {"text", "search", "page", "per_page", "taxonomy_term_id", "taxonomy_id", "organization_id",
                          "modified_after", "minimum_age", "maximum_age", "day", "start_time", "end_time", "postcode",
                          "proximity"}


# --- what is listed ---------------------------------------------------------------------------------------


def test_only_public_services_of_approved_organisations_are_listed_or_found(client):
    shown = make_service(name="Shown service")
    hidden = [
        make_service(name="Draft service", published_at=None),
        make_service(name="Unpublished service", unpublished_at=datetime.now(UTC)),
        make_service(name="Closed service", status=ServiceStatus.INACTIVE),
        make_service(name="Pending provider's service", organisation=make_organisation(approved=False)),
    ]
    assert names(client.get("/api/services")) == ["Shown service"]
    assert client.get(f"/api/services/{shown.id}").status_code == 200
    for service in hidden:
        response = client.get(f"/api/services/{service.id}")
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
    organisations = [item["name"] for item in contents(client.get("/api/organizations?per_page=200"))]
    assert "Pending provider's service" not in organisations
    assert hidden[3].organisation.name not in organisations


def test_a_cost_in_pence_is_published_in_pounds(client):
    service = make_service(name="Sitting service")
    add_cost(service, amount_pence=1850, unit=CostUnit.HOUR, option="Weekdays")
    add_cost(service, amount_pence=2000, unit=CostUnit.DAY)
    body = client.get(f"/api/services/{service.id}").get_json()
    assert [(option.get("option"), option["amount"], option["currency"], option["amount_description"])
            for option in body["cost_options"]] == [("Weekdays", 18.5, "GBP", "per hour"),
                                                      (None, 20, "GBP", "per day")]


def test_a_full_service_carries_its_places_times_contacts_and_categories(client):
    term = make_term(name="Carers' support")
    service = file_under(make_service(name="Carers' café"), term)
    add_location(service, postcode="AM1 1AA", address_1="1 High Street", latitude=51.5, longitude=-0.9)
    add_opening(service, Weekday.WE, time(10), time(12))
    add_contact(service, name="Sam", phones=("01632 960 123",))
    body = client.get(f"/api/services/{service.id}").get_json()
    address = body["service_at_locations"][0]["location"]["addresses"][0]
    assert (address["address_1"], address["postal_code"]) == ("1 High Street", "AM1 1AA")
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in body["schedules"]] == [("WE", "10:00", "12:00")]
    assert body["contacts"][0]["phones"][0]["number"] == "01632 960 123"
    assert [a["taxonomy_term"]["name"] for a in body["attributes"]] == ["Carers' support"]
    assert body["attributes"][0]["taxonomy_term_id"] == str(term.id)


# --- filters ---------------------------------------------------------------------------------------------


def test_a_category_filter_includes_services_in_its_sub_categories(client):
    parent = make_term(name="Support at home")
    child = make_term(name="Home care", parent=parent)
    file_under(make_service(name="Home care agency"), child)
    file_under(make_service(name="Handyperson"), parent)
    make_service(name="Lunch club")
    assert names(client.get(f"/api/services?taxonomy_term_id={parent.id}")) == ["Handyperson", "Home care agency"]
    assert names(client.get(f"/api/services?taxonomy_term_id={child.id}")) == ["Home care agency"]
    assert names(client.get(f"/api/services?taxonomy_id={parent.taxonomy_id}")) == ["Handyperson", "Home care agency"]


def test_age_filters_return_services_whose_range_lies_within_the_one_asked(client):
    make_service(name="Toddlers", minimum_age=0, maximum_age=4)
    make_service(name="Teens", minimum_age=13, maximum_age=17)
    make_service(name="Adults", minimum_age=18)
    assert names(client.get("/api/services?minimum_age=10&maximum_age=18")) == ["Teens"]
    assert names(client.get("/api/services?minimum_age=13")) == ["Adults", "Teens"]


def test_day_and_time_filters_need_one_opening_that_meets_them_all(client):
    morning = make_service(name="Morning club")
    add_opening(morning, Weekday.MO, time(9), time(12))
    evening = make_service(name="Evening club")
    add_opening(evening, Weekday.MO, time(18), time(21))
    add_opening(evening, Weekday.TU, time(9), time(12))
    assert names(client.get("/api/services?day=MO")) == ["Evening club", "Morning club"]
    assert names(client.get("/api/services?day=MO&end_time=13:00")) == ["Morning club"]
    assert names(client.get("/api/services?day=monday&start_time=17:00")) == ["Evening club"]


def test_organization_and_modified_after_filters(client):
    provider = make_organisation(name="Provider")
    make_service(name="Theirs", organisation=provider)
    make_service(name="Someone else's")
    assert names(client.get(f"/api/services?organization_id={provider.id}")) == ["Theirs"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert names(client.get(f"/api/services?modified_after={tomorrow}")) == []
    assert len(names(client.get("/api/services?modified_after=2000-01-01"))) == 2


def test_a_postcode_with_proximity_finds_places_within_that_many_metres_nearest_first(client, session):
    session.add(Postcode(postcode="AM1 1AA", outward_code="AM1", latitude=51.5, longitude=-0.9))
    near = make_service(name="Next door")
    add_location(near, postcode="AM1 1AB", latitude=51.5045, longitude=-0.9)  # ~500 m north
    far = make_service(name="Across town")
    add_location(far, postcode="AM2 1AA", latitude=51.53, longitude=-0.9)  # ~3.3 km north
    make_service(name="Online only", in_person=False, online=True)
    assert names(client.get("/api/services?postcode=AM1 1AA&proximity=1000")) == ["Next door"]
    assert names(client.get("/api/services?postcode=am11aa&proximity=5000")) == ["Next door", "Across town"]
    assert names(client.get("/api/services?postcode=AM1 1AA")) == ["Next door", "Across town", "Online only"]
    saved = contents(client.get("/api/service_at_locations?postcode=AM1 1AA&proximity=1000"))
    assert [item["service"]["name"] for item in saved] == ["Next door"]


def test_text_search_uses_the_site_search_index_with_its_synonyms(client):
    make_service(name="Short breaks for carers", summary="Respite while you rest")
    make_service(name="Lunch club")
    indexer.rebuild()
    assert names(client.get("/api/services?text=respite")) == ["Short breaks for carers"]
    assert names(client.get("/api/services?search=lunch")) == ["Lunch club"]
    assert names(client.get("/api/services?text=lunch&minimum_age=0")) == ["Lunch club"]


def test_text_search_still_answers_from_the_database_while_the_index_is_missing(client):
    make_service(name="Dementia café")
    make_service(name="Lunch club")
    assert names(client.get("/api/services?text=dementia")) == ["Dementia café"]
    assert names(client.get("/api/services?text=dementia&day=MO")) == []
    assert names(client.get("/api/services?text=lunch&minimum_age=0")) == ["Lunch club"]


def test_taxonomy_terms_filter_by_taxonomy_parent_vocabulary_and_top_level(client):
    top = make_term(name="Advice")
    make_term(name="Benefits advice", parent=top)
    names_of = lambda query: [t["name"] for t in contents(client.get(f"/api/taxonomy_terms?{query}"))]  # noqa: E731
    assert names_of(f"parent_id={top.id}") == ["Benefits advice"]
    assert names_of("top_only=true") == ["Advice"]
    assert names_of("vocabulary=test categories") == ["Advice", "Benefits advice"]
    assert names_of(f"taxonomy_id={uuid.uuid4()}") == []
    taxonomy = client.get(f"/api/taxonomies/{top.taxonomy_id}").get_json()
    assert [t["name"] for t in taxonomy["taxonomy_terms"]] == ["Advice", "Benefits advice"]


# --- paging ------------------------------------------------------------------------------------------------


def test_pages_cover_every_service_once_in_a_stable_order_with_links(client):
    for number in range(7):
        make_service(name=f"Club {number % 3}")  # repeated names: ties broken by id
    seen, url = [], "/api/services?per_page=3"
    while url:
        response = client.get(url)
        body = response.get_json()
        seen.extend(item["id"] for item in body["contents"])
        assert body["total_items"] == 7 and body["total_pages"] == 3
        url = links(response).get("next")
    assert len(seen) == len(set(seen)) == 7
    last = client.get("/api/services?per_page=3&page=3")
    assert last.get_json() | {"contents": None} == {
        "total_items": 7, "total_pages": 3, "page_number": 3, "size": 1, "first_page": False, "last_page": True,
        "empty": False, "contents": None}
    assert set(links(last)) == {"first", "prev", "last"}
    assert links(last)["prev"] == "http://localhost/api/services?per_page=3&page=2"


def test_a_page_past_the_end_is_empty_not_an_error(client):
    make_service()
    body = client.get("/api/services?page=5").get_json()
    assert (body["empty"], body["size"], body["last_page"]) == (True, 0, True)


# --- errors --------------------------------------------------------------------------------------------------


def test_bad_parameters_get_a_400_with_a_json_error_naming_the_parameter(client):
    for query, parameter in [
        ("per_page=201", "per_page"), ("page=0", "page"), ("page=abc", "page"), ("minimum_age=old", "minimum_age"),
        ("minimum_age=40&maximum_age=20", "minimum_age"), ("day=someday", "day"), ("start_time=25:00", "start_time"),
        ("taxonomy_term_id=not-a-uuid", "taxonomy_term_id"), ("modified_after=yesterday", "modified_after"),
        ("proximity=1000", "proximity"), ("postcode=nowhere", "postcode"), ("postcode=ZZ9 9ZZ", "postcode"),
        ("proximity=-5&postcode=AM1", "proximity"), ("minimum_age=nan", "minimum_age"), ("text=a%00b", "text"),
    ]:
        response = client.get(f"/api/services?{query}")
        assert response.status_code == 400, query
        assert response.content_type == "application/json"
        body = response.get_json()
        assert (body["error"], body["parameter"]) == ("bad_parameter", parameter), query
        assert body["detail"]


def test_an_unknown_or_malformed_id_is_a_json_error(client):
    assert client.get(f"/api/services/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/api/taxonomy_terms/{uuid.uuid4()}").get_json()["error"] == "not_found"
    assert client.get("/api/organizations/12").get_json()["error"] == "bad_parameter"


def test_the_api_refuses_writes(client):
    response = client.post("/api/services")
    assert response.status_code == 405


# --- caching, CORS, limits ---------------------------------------------------------------------------------


def test_responses_carry_an_etag_and_an_unchanged_resource_answers_304(client):
    make_service(name="Lunch club")
    first = client.get("/api/services")
    assert first.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    etag = first.headers["ETag"]
    again = client.get("/api/services", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    make_service(name="Men's shed")
    changed = client.get("/api/services", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_last_modified_is_the_newest_record_and_if_modified_since_answers_304(client):
    service = make_service(name="Lunch club")
    service.updated_at = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    service.organisation.updated_at = datetime(2025, 2, 1, tzinfo=UTC)
    response = client.get(f"/api/services/{service.id}")
    assert response.headers["Last-Modified"] == "Sat, 01 Mar 2025 12:30:00 GMT"
    later = client.get(f"/api/services/{service.id}", headers={"If-Modified-Since": "Sun, 02 Mar 2025 00:00:00 GMT"})
    assert later.status_code == 304
    earlier = client.get(f"/api/services/{service.id}", headers={"If-Modified-Since": "Fri, 28 Feb 2025 00:00:00 GMT"})
    assert earlier.status_code == 200


def test_any_website_may_call_the_api_from_a_browser(client):
    response = client.get("/api/services", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/api/services", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def test_a_client_making_too_many_requests_is_told_to_wait_in_json(app, client):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [client.get(path).status_code for path in ("/api/", "/api/services", "/api/taxonomies",
                                                              "/api/organizations")]
        refused = client.get("/api/")
    finally:
        app.config.pop("API_RATE_LIMIT")
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests"
    assert refused.headers["Retry-After"]


def test_without_the_profile_schemas_on_disk_the_document_links_the_published_ones(tmp_path):
    """A deployment without the shared schema folder still serves a complete, resolvable document."""
    from portal.api.openapi import PUBLISHED_SCHEMAS

    document = openapi_document("http://localhost/api", str(tmp_path / "missing"))
    components = document["components"]["schemas"]
    assert components["Service"] == {"$ref": PUBLISHED_SCHEMAS + "service.json"}
    assert components["Page"]["type"] == "object"


def test_an_unknown_api_path_or_method_answers_json_not_a_web_page(client):
    for response in (client.get("/api/no-such-thing"), client.post("/api/services")):
        assert response.status_code in (404, 405)
        assert response.is_json and set(response.get_json()) >= {"error", "detail"}
