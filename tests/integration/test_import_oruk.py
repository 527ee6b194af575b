"""``flask import oruk``: other directories' Open Referral UK feeds become listings, through moderation.

Uses the official ORUK validator's cases in ../shared/oruk/validator-cases: its 128 passing services (which
all reuse one id: each is given its own here, so they are 128 services) and its failing ones.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from portal.data import moderation
from portal.data.drafts import start_draft
from portal.extensions import db
from portal.importers.oruk import import_feed
from portal.importers.oruk_feed import FeedItem, OrukApi
from portal.models import (
    AuditEvent,
    FeedRecord,
    ListingChange,
    ListingRevision,
    ListingVersion,
    Location,
    Organisation,
    RevisionState,
    Role,
    Service,
    TaxonomyTerm,
)
from tests.conftest import count
from tests.support.factories import make_user, sign_in
from tests.support.html import parse, texts

FEED = "neighbours.example/api"


@pytest.fixture(scope="session")
def cases(shared_dir):
    return shared_dir / "oruk" / "validator-cases"


@pytest.fixture(scope="session")
def schema_dir(shared_dir):
    return shared_dir / "oruk" / "uk-profile" / "schema" / "compiled"


@pytest.fixture(scope="session")
def passing(cases) -> list[dict]:
    """The validator's 128 passing services, each with an id of its own."""
    contents = json.loads((cases / "pass" / "service_list.json").read_text())["contents"]
    assert len(contents) == 128
    return [{**record, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"case-{n}"))} for n, record in enumerate(contents)]


@pytest.fixture(scope="session")
def full_service(cases) -> dict:
    return json.loads((cases / "pass" / "service_full.json").read_text())


@pytest.fixture(scope="session")
def failing(cases) -> list[dict]:
    listed = json.loads((cases / "fail" / "service_list.json").read_text())["contents"]
    return [*listed, json.loads((cases / "fail" / "service_full.json").read_text())]


def items_of(records: list[dict]) -> list[FeedItem]:
    return [FeedItem(label=f"record {n}", load=lambda record=record: record) for n, record in enumerate(records)]


def run_import(records, schema_dir, **options):
    return import_feed(items_of(records), feed=FEED, schema_dir=schema_dir, **options)


def imported_services() -> list[Service]:
    return list(db.session.scalars(sa.select(Service).where(Service.source == f"oruk:{FEED}")))


def work_counts() -> dict[str, int]:
    """What an import run leaves behind besides its own audit event."""
    return {
        "services": count(Service),
        "organisations": count(Organisation),
        "places": count(Location),
        "revisions": count(ListingRevision),
        "versions": count(ListingVersion),
        "changes": count(ListingChange),
        "events": db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action != "import.oruk")
        ),
    }


# --- the validator's passing cases -------------------------------------------------------------------------------


def test_the_128_validator_services_wait_unpublished_in_the_moderation_queue(app, session, passing, tmp_path):
    feed_file = tmp_path / "services.json"
    feed_file.write_text(json.dumps({"total_items": 128, "total_pages": 1, "contents": passing}))
    result = app.test_cli_runner().invoke(args=["import", "oruk", str(feed_file), "--feed", FEED])
    assert result.exit_code == 0, result.output
    assert "Created 128, updated 0, unchanged 0, rejected 0." in result.output
    services = imported_services()
    assert len(services) == 128 and all(service.published_at is None for service in services)
    assert not any(service.is_public for service in services)
    queue = moderation.submitted_revisions(per_page=200)
    assert queue.total == 128 and all(item.is_new for item in queue.items)
    revisions = session.scalars(sa.select(ListingRevision)).all()
    assert {revision.source for revision in revisions} == {f"oruk:{FEED}"}
    assert count(ListingVersion) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(FeedRecord).where(
        FeedRecord.record_type == "service")) == 128


def test_the_128_validator_services_are_published_at_once_from_a_trusted_feed(session, passing, schema_dir):
    report = run_import(passing, schema_dir, publish=True)
    assert (len(report.created), len(report.updated), report.rejected) == (128, 0, [])
    services = imported_services()
    assert len(services) == 128 and all(service.is_public for service in services)
    assert count(ListingVersion) == 128 and count(ListingRevision) == 0
    changed = {change.subject_id for change in session.scalars(sa.select(ListingChange))}
    assert changed == {service.id for service in services}
    counselling = next(service for service in services if service.id == uuid.UUID(passing[0]["id"]))
    # The ORUK id is kept as ours, and the organisation is matched by its id across records.
    assert counselling.organisation.name == "Example Organization Inc."
    assert counselling.organisation.id == uuid.UUID("d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610")
    assert (counselling.minimum_age, counselling.maximum_age) == (12, 100)


def test_importing_the_same_feed_again_changes_nothing(session, passing, schema_dir):
    run_import(passing, schema_dir)
    before = work_counts()
    report = run_import(passing, schema_dir)
    assert (len(report.created), len(report.updated), len(report.unchanged), report.rejected) == (0, 0, 128, [])
    assert work_counts() == before
    run_import(passing[:10], schema_dir, publish=True)
    published = work_counts()
    assert run_import(passing[:10], schema_dir, publish=True).unchanged and work_counts() == published


def test_a_changed_record_replaces_its_waiting_revision(session, passing, schema_dir):
    run_import(passing[:5], schema_dir)
    changed = copy.deepcopy(passing[:5])
    changed[2]["name"] = "Community Counselling for Young People"
    report = run_import(changed, schema_dir)
    assert (len(report.updated), len(report.unchanged)) == (1, 4)
    revisions = session.scalars(
        sa.select(ListingRevision).where(ListingRevision.service_id == uuid.UUID(changed[2]["id"]))
        .order_by(ListingRevision.created_at)
    ).all()
    assert [revision.state for revision in revisions] == [RevisionState.WITHDRAWN, RevisionState.SUBMITTED]
    assert revisions[-1].data["name"] == "Community Counselling for Young People"


def test_a_changed_record_from_a_trusted_feed_is_a_new_published_version(session, passing, schema_dir):
    run_import(passing[:3], schema_dir, publish=True)
    changed = copy.deepcopy(passing[:3])
    changed[0]["minimum_age"] = 16
    report = run_import(changed, schema_dir, publish=True)
    assert (len(report.updated), len(report.unchanged)) == (1, 2)
    service = db.session.get(Service, uuid.UUID(changed[0]["id"]))
    assert service.minimum_age == 16
    versions = session.scalars(sa.select(ListingVersion.number).where(ListingVersion.service_id == service.id))
    assert sorted(versions) == [1, 2]


def test_a_moderator_approving_an_imported_listing_publishes_it_with_its_place_hours_and_categories(
    app, session, full_service, schema_dir
):
    report = run_import([full_service], schema_dir)
    assert len(report.created) == 1
    assert any("impossible coordinates" in warning for warning in report.warnings)
    revision = session.scalar(sa.select(ListingRevision))
    moderator = make_user(roles=(Role.COUNCIL_MODERATOR,))
    with app.test_request_context():
        moderation.decide(actor=moderator, revision_id=revision.id, decision=moderation.Decision.APPROVE_ALL)
    service = revision.service
    assert service.is_public and revision.state is RevisionState.APPROVED
    (place,) = service.locations
    assert (place.name, place.address_1, place.city, place.latitude) == (
        "MyCity Civic Center", "1-30 Main Street", "MyCity", None)
    assert sorted((row.byday.value, row.opens_at.isoformat()) for row in service.schedules) == [
        ("FR", "10:00:00"), ("TH", "10:00:00")]
    assert [(row.option, row.amount_pence) for row in service.cost_options] == [("Under 18s and Over 60s", 3500)]
    (term,) = service.taxonomy_terms
    assert (term.name, term.taxonomy.name) == ("name", "taxonomy")
    assert [feature.name for feature in service.accessibility_features] == [
        "The building is equipped with induction loops for hearing aids. Wheelchair access is possible on all levels."
    ]
    assert service.organisation.company_number == "1234567"


# --- rejections --------------------------------------------------------------------------------------------------


def test_every_failing_validator_case_is_rejected_with_its_reasons_and_imports_nothing(session, failing, schema_dir):
    before = work_counts()
    report = run_import(failing, schema_dir)
    assert len(report.rejected) == len(failing) == 5 and not report.created
    reasons = [reasons for _, reasons in report.rejected]
    assert "name: missing, and it is required" in reasons[0]
    assert "email: 'email-example_com' is not a valid email address" in reasons[0]
    assert "url: 'example_counselling' is not a valid web address (URL)" in reasons[0]
    assert "email: should be text, not a number (12345)" in reasons[3]
    assert "url: 'example/counselling' is not a valid web address (URL)" in reasons[4]
    assert work_counts() == before and count(FeedRecord) == 0


def test_a_reversed_age_range_or_a_bad_email_is_rejected_with_a_clear_reason(app, session, full_service, tmp_path):
    reversed_ages = {**full_service, "minimum_age": 65, "maximum_age": 18}
    bad_email = {**full_service, "id": str(uuid.uuid4()), "email": "not-an-email"}
    feed_file = tmp_path / "feed.json"
    feed_file.write_text(json.dumps([reversed_ages, bad_email]))
    result = app.test_cli_runner().invoke(args=["import", "oruk", str(feed_file), "--publish"])
    assert result.exit_code == 0, result.output
    assert "Created 0, updated 0, unchanged 0, rejected 2." in result.output
    assert "minimum_age 65 is above maximum_age 18: the age range is reversed" in result.output
    assert "email: 'not-an-email' is not a valid email address" in result.output
    assert count(Service) == 0 and count(Organisation) == 0


def test_without_the_schemas_our_own_checks_still_reject_the_failing_cases(session, failing, tmp_path):
    report = run_import(failing, tmp_path / "no-schemas-here")
    assert len(report.rejected) == 5 and not report.created
    assert "structural checks" in report.notes[0]
    assert "name: missing, and it is required" in report.rejected[0][1]
    assert count(Service) == 0


def test_a_listing_with_a_providers_draft_waiting_is_left_alone_and_nothing_of_the_record_stays(
    session, full_service, schema_dir
):
    run_import([full_service], schema_dir, publish=True)
    service = session.scalar(sa.select(Service))
    start_draft(actor=make_user(), service=service)
    places, terms = count(Location), count(TaxonomyTerm)
    changed = {**full_service, "name": "Renamed by the feed",
               "service_at_locations": [{"id": str(uuid.uuid4()), "location": {
                   "id": str(uuid.uuid4()), "location_type": "physical", "name": "A new hall"}}]}
    report = run_import([changed], schema_dir, publish=False)
    (_, reasons), = report.rejected
    assert "a change of its own waiting" in reasons[0]
    assert service.name == "Community Counselling"
    assert (count(Location), count(TaxonomyTerm)) == (places, terms)  # the new place was rolled back


# --- reading a paged API -----------------------------------------------------------------------------------------


class _FeedServer:
    """An ORUK API on 127.0.0.1 serving the validator's cases: a paged list, full records, organisations."""

    def __init__(self, listed: list[dict], full: dict[str, dict], organisations: dict[str, dict]) -> None:
        self.requests: list[str] = []
        self.fail_once = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                server.requests.append(self.path)
                if url.path in server.fail_once:
                    server.fail_once.discard(url.path)
                    return self.answer(503, {"error": "busy"})
                if url.path == "/api/services":
                    query = parse_qs(url.query)
                    page, per_page = int(query["page"][0]), int(query["per_page"][0])
                    pages = -(-len(listed) // per_page)
                    contents = listed[(page - 1) * per_page: page * per_page]
                    return self.answer(200, {"total_items": len(listed), "total_pages": pages, "page_number": page,
                                             "size": len(contents), "first_page": page == 1,
                                             "last_page": page == pages, "empty": not contents,
                                             "contents": contents})
                kind, _, key = url.path.removeprefix("/api/").partition("/")
                found = {"services": full, "organizations": organisations}.get(kind, {}).get(key)
                return self.answer(200, found) if found else self.answer(404, {"error": "not found"})

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server(passing, full_service, cases):
    full = {}
    for record in passing:
        # The list view is short; the full record adds places, hours, costs and categories.
        detail = {key: value for key, value in full_service.items() if key != "organization"}
        full[record["id"]] = {**detail, **record}
    organisation = json.loads((cases / "pass" / "organization_full.json").read_text())
    with _FeedServer(passing, full, {organisation["id"]: organisation}) as server:
        yield server


def test_a_paged_api_is_read_page_by_page_and_each_full_record_imported(app, session, feed_server):
    result = app.test_cli_runner().invoke(args=["import", "oruk", feed_server.url, "--per-page", "50", "--publish"])
    assert result.exit_code == 0, result.output
    assert "Created 128, updated 0, unchanged 0, rejected 0." in result.output
    pages = [path for path in feed_server.requests if path.startswith("/api/services?")]
    assert pages == [f"/api/services?page={n}&per_page=50" for n in (1, 2, 3)]
    services = session.scalars(sa.select(Service).where(Service.source == f"oruk:{feed_server.url}")).all()
    assert len(services) == 128
    assert all(len(service.locations) == 1 and service.taxonomy_terms for service in services)
    # Every record's organisation, given in full or by id only, is the validator's example organisation.
    assert {service.organisation.name for service in services} <= {
        "Example Organization Inc.", "Community Counselling"}
    result = app.test_cli_runner().invoke(args=["import", "oruk", feed_server.url, "--per-page", "50"])
    assert "Created 0, updated 0, unchanged 128, rejected 0." in result.output


def test_a_busy_api_is_retried_and_a_missing_record_is_rejected_with_the_reason(
    session, feed_server, passing, schema_dir
):
    feed_server.fail_once = {"/api/services", f"/api/services/{passing[0]['id']}"}
    api = OrukApi(feed_server.url, per_page=100, retries=2, backoff=0, timeout=5)
    items = api.items()
    assert len(items) == 128
    missing = FeedItem(label="gone", load=lambda: api.service(str(uuid.uuid4())))
    report = import_feed([*items[:3], missing], feed=api.base_url, publish=True, schema_dir=schema_dir,
                         fetch_organisation=api.organisation)
    assert len(report.created) == 3
    (label, reasons), = report.rejected
    assert label == "gone" and "answered 404" in reasons[0]


def test_a_moderator_sees_an_imported_listing_in_the_queue_and_its_proposed_details(client, session, full_service,
                                                                                     schema_dir):
    run_import([full_service], schema_dir)
    revision = session.scalar(sa.select(ListingRevision))
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))
    queue = client.get("/council/moderation")
    assert queue.status_code == 200
    assert "Community Counselling" in " ".join(texts(parse(queue), "//main//td | //main//a"))
    review = client.get(f"/council/moderation/{revision.id}")
    assert review.status_code == 200
    page = " ".join(texts(parse(review), "//main//dd | //main//td | //main//li"))
    assert "MyCity Civic Center" in page and "Under 18s and Over 60s" in page


def test_a_feed_file_may_hold_one_service_a_list_or_a_page(tmp_path, full_service):
    from portal.importers.oruk_feed import read_file

    shapes = {"one.json": full_service, "list.json": [full_service, full_service],
              "page.json": {"total_items": 3, "contents": [full_service] * 3}}
    for name, payload in shapes.items():
        (tmp_path / name).write_text(json.dumps(payload))
    assert [len(read_file(tmp_path / name)) for name in shapes] == [1, 2, 3]
    assert read_file(tmp_path / "one.json")[0].load()["name"] == "Community Counselling"
