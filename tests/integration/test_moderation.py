"""Council moderation: the queue, field-level decisions with emails, version history with restore, emergency
unpublish, and who may do any of it. Through the test client, on both databases, with the real search index."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from portal.data import revision_format as fmt
from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostUnit,
    ListingRevision,
    ListingVersion,
    OutboxMessage,
    RevisionState,
    Role,
    Weekday,
)
from search import indexer
from tests.support.directory_factories import add_cost, add_location, add_opening
from tests.support.factories import make_organisation, make_service, make_term, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, text_of, texts


def make_moderator(**fields):
    return make_user(name="Morgan Moderator", roles=(Role.COUNCIL_MODERATOR,), **fields)


def provider_listing(name: str = "Riverside day centre", **fields):
    organisation = make_organisation(name="Riverside Trust")
    owner = make_user(email="owner@riverside.example", roles=(Role.PROVIDER,), organisations=[organisation])
    service = make_service(organisation=organisation, name=name, summary="Day activities for older people",
                           **fields)
    return service, owner


def submit(service, *, author=None, submitted_at=None, base_version=None, **changes) -> ListingRevision:
    """What the provider editor does on "submit for review": the whole listing, modified, waiting in the queue."""
    revision = ListingRevision(
        service=service,
        organisation=service.organisation,
        author=author,
        state=RevisionState.SUBMITTED,
        data=dict(fmt.snapshot(service), **changes),
        base_version=fmt.latest_version_number(service) if base_version is None else base_version,
        submitted_at=submitted_at or datetime.now(UTC),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def review_url(revision) -> str:
    return f"/council/moderation/{revision.id}"


def decide(client, revision, button: str, **fields):
    page = parse(client.get(review_url(revision)))
    data = form_data(page, f"//form[@action='{review_url(revision)}']", **fields)
    data[button] = "y"
    return client.post(review_url(revision), data=data)


def outbox_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)))


def search_names(client, words: str) -> list[str]:
    page = parse(client.get("/services", query_string={"q": words}))
    return texts(page, "//ul[contains(@class, 'directory-results')]/li//h2/a")


def difference_rows(page) -> dict[str, tuple[str, str]]:
    """Each changed field's row: field name -> (before text, after text)."""
    rows = {}
    for row in page.xpath("//table[contains(@class, 'app-moderation-differences')]/tbody/tr"):
        rows[row.get("data-field")] = (
            text_of(row.xpath("./td[contains(@class, 'app-moderation-before')]")[0]),
            text_of(row.xpath("./td[contains(@class, 'app-moderation-after')]")[0]),
        )
    return rows


# --- the queue -------------------------------------------------------------------------------------------------


def test_the_queue_lists_submitted_changes_oldest_first_with_organisation_and_new_listings_marked(client):
    older, _ = provider_listing("Older change")
    newer = make_service(name="Brand new befriending", published_at=None,
                         organisation=make_organisation(name="Befrienders"))
    draft = make_service(name="Still a draft")
    now = datetime.now(UTC)
    submit(newer, submitted_at=now - timedelta(hours=1))
    submit(older, submitted_at=now - timedelta(days=2))
    revision = submit(draft)
    revision.state = RevisionState.DRAFT
    sign_in(client, make_moderator())

    page = parse(client.get("/council/moderation"))

    rows = page.xpath("//table[contains(@class, 'app-moderation-queue')]/tbody/tr")
    assert [text_of(row.xpath("./td[1]//a")[0]) for row in rows] == ["Older change", "Brand new befriending"]
    assert [text_of(row.xpath("./td[2]")[0]) for row in rows] == ["Riverside Trust", "Befrienders"]
    assert [text_of(row.xpath("./td[4]")[0]) for row in rows] == ["Change", "New listing"]


def test_the_queue_is_paged(client):
    service, _ = provider_listing()
    start = datetime.now(UTC) - timedelta(days=30)
    for day in range(27):
        submit(service, submitted_at=start + timedelta(days=day), summary=f"Version {day}")
    sign_in(client, make_moderator())

    first = parse(client.get("/council/moderation"))
    second = parse(client.get("/council/moderation?page=2"))

    assert len(first.xpath("//table[contains(@class, 'app-moderation-queue')]/tbody/tr")) == 25
    assert len(second.xpath("//table[contains(@class, 'app-moderation-queue')]/tbody/tr")) == 2
    assert first.xpath("//nav[contains(@class, 'govuk-pagination')]//a[@rel='next']/@href")


# --- who may moderate ------------------------------------------------------------------------------------------


def test_moderation_refuses_providers_council_staff_in_other_roles_and_sends_visitors_to_sign_in(client):
    service, owner = provider_listing()
    revision = submit(service, summary="Changed")
    editor = make_user(roles=(Role.COUNCIL_EDITOR,))

    assert client.get("/council/moderation").status_code == 302
    assert "/sign-in" in client.get(review_url(revision)).headers["Location"]

    sign_in(client, owner)
    assert client.get("/council/moderation").status_code == 403
    assert client.get(review_url(revision)).status_code == 403

    sign_in(client, editor)
    assert client.get("/council/moderation").status_code == 403
    assert client.get(f"/council/listings/{service.id}/versions").status_code == 403
    assert client.get(f"/council/listings/{service.id}/unpublish").status_code == 403


def test_the_approve_form_refuses_a_post_without_its_csrf_token(client, session):
    service, _ = provider_listing()
    revision = submit(service, summary="Changed")
    sign_in(client, make_moderator())

    response = client.post(review_url(revision), data={"approve_all": "y", "fields": ["summary"]})

    assert response.status_code == 400
    session.refresh(revision)
    assert revision.state is RevisionState.SUBMITTED
    assert service.summary == "Day activities for older people"


# --- reviewing -------------------------------------------------------------------------------------------------


def test_the_review_shows_each_change_before_and_after_in_plain_words(client):
    service, _ = provider_listing()
    add_opening(service, Weekday.MO, time(9, 30), time(16, 0))
    add_cost(service, amount_pence=1850, unit=CostUnit.HOUR)
    add_location(service, address_1="1 Mill Lane", city="Ambridge", postcode="AM1 1AA")
    lunch = make_term(name="Lunch clubs")
    data = fmt.snapshot(service)
    submit(service)  # an unrelated older revision
    revision = submit(
        service,
        description="Now with **gardening**.\n\nOpen on <strong>Saturdays</strong>.",
        schedules=[{"byday": "TU", "opens_at": "10:00", "closes_at": "15:00", "notes": ""}],
        cost_options=[dict(data["cost_options"][0], amount_pence=2000)],
        taxonomy_terms=[lunch.slug],
        locations=[dict(data["locations"][0], address_1="2 Mill Lane")],
    )
    sign_in(client, make_moderator())

    page = parse(client.get(review_url(revision)))

    rows = difference_rows(page)
    assert list(rows) == ["description", "locations", "schedules", "cost_options", "taxonomy_terms"]
    assert rows["description"] == ("Not given", "Now with gardening. Open on Saturdays.")
    after = page.xpath("//tr[@data-field='description']/td[contains(@class, 'app-moderation-after')]/p")
    assert [text_of(paragraph) for paragraph in after] == ["Now with gardening.", "Open on Saturdays."]
    assert rows["schedules"] == ("Monday 09:30 to 16:00", "Tuesday 10:00 to 15:00")
    assert rows["cost_options"] == ("£18.50 per hour", "£20.00 per hour")
    assert rows["taxonomy_terms"] == ("None", "Lunch clubs")
    assert rows["locations"] == ("1 Mill Lane, Ambridge, AM1 1AA", "2 Mill Lane, Ambridge, AM1 1AA")
    # Every change starts ticked: unticking is how a moderator rejects part of it.
    assert page.xpath("//input[@name='fields'][@checked]/@value") == list(rows)


def test_a_moderator_is_warned_when_the_listing_changed_since_the_provider_started(client):
    service, _ = provider_listing()
    moderator = make_moderator()
    revision = submit(service, summary="Based on the old version")
    fmt.publish(actor=moderator, service=service, data=dict(fmt.snapshot(service), name="Renamed meanwhile"))
    sign_in(client, moderator)

    page = parse(client.get(review_url(revision)))

    warning = " ".join(texts(page, "//div[contains(@class, 'govuk-warning-text')]"))
    assert "version 1 is now published" in warning
    # Compared with what is live now, the name looks like a change back: the moderator can see that.
    assert difference_rows(page)["name"] == ("Renamed meanwhile", "Riverside day centre")


# --- deciding --------------------------------------------------------------------------------------------------


def test_approving_everything_publishes_the_change_emails_the_provider_and_it_is_found_by_search(client, session):
    service, owner = provider_listing()
    revision = submit(service, author=owner, summary="Gardening and woodwork for older people")
    indexer.rebuild()
    assert search_names(client, "woodwork") == []
    sign_in(client, make_moderator())

    response = decide(client, revision, "approve_all")

    assert response.status_code == 302 and response.headers["Location"].endswith("/council/moderation")
    session.refresh(revision)
    assert revision.state is RevisionState.APPROVED
    assert service.summary == "Gardening and woodwork for older people"
    versions = session.scalars(sa.select(ListingVersion).where(ListingVersion.service_id == service.id)).all()
    assert [(v.number, v.note, v.revision_id) for v in versions] == [(1, "approved", revision.id)]
    assert search_names(client, "woodwork") == ["Riverside day centre"]
    [email] = outbox_to("owner@riverside.example")
    assert "approved" in email.subject and "Riverside day centre" in email.subject
    assert f"/services/{service.id}" in email.body


def test_approving_a_new_listing_makes_it_public(client, session):
    organisation = make_organisation(name="Befrienders")
    make_user(email="team@befrienders.example", roles=(Role.PROVIDER,), organisations=[organisation])
    service = make_service(organisation=organisation, name="Telephone befriending", published_at=None)
    revision = submit(service, summary="A weekly call")
    sign_in(client, make_moderator())
    assert client.get(f"/services/{service.id}").status_code == 404

    decide(client, revision, "approve_all")

    assert client.get(f"/services/{service.id}").status_code == 200
    assert len(outbox_to("team@befrienders.example")) == 1


def test_approving_only_ticked_fields_publishes_them_and_emails_the_reason_for_the_rest(client, session):
    service, owner = provider_listing()
    revision = submit(service, summary="Gardening club", eligibility_description="Anyone at all", is_free=True)
    sign_in(client, make_moderator())

    response = decide(client, revision, "approve_selected", fields=["summary", "is_free"],
                      reason="Eligibility must mention the referral route.")

    assert response.status_code == 302
    session.refresh(revision)
    assert revision.state is RevisionState.PARTLY_APPROVED
    assert sorted(revision.approved_fields) == ["is_free", "summary"]
    assert service.summary == "Gardening club" and service.is_free is True
    assert service.eligibility_description == ""
    [email] = outbox_to("owner@riverside.example")
    assert "Some of your changes" in email.subject
    assert "Eligibility must mention the referral route." in email.body
    assert "- Who can use it" in email.body  # the rejected field, by its label


def test_approving_some_fields_without_a_reason_for_the_rest_changes_nothing(client, session):
    service, owner = provider_listing()
    revision = submit(service, summary="Gardening club", eligibility_description="Anyone at all")
    sign_in(client, make_moderator())

    page = parse(decide(client, revision, "approve_selected", fields=["summary"]))

    assert texts(page, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter a reason for rejecting the changes you did not tick"
    ]
    assert page.xpath("//input[@name='fields'][@checked]/@value") == ["summary"]  # the ticks are kept
    session.refresh(revision)
    assert revision.state is RevisionState.SUBMITTED and service.summary == "Day activities for older people"
    assert outbox_to("owner@riverside.example") == []


def test_rejecting_needs_a_reason_and_then_leaves_the_published_listing_as_it_was(client, session):
    service, owner = provider_listing()
    revision = submit(service, summary="Cheapest care in town!!!")
    sign_in(client, make_moderator())

    refused = parse(decide(client, revision, "reject"))
    assert texts(refused, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter a reason for rejecting the changes"
    ]

    decide(client, revision, "reject", reason="Listings must not make price claims.")

    session.refresh(revision)
    assert revision.state is RevisionState.REJECTED
    assert revision.decision_reason == "Listings must not make price claims."
    assert service.summary == "Day activities for older people"
    assert session.scalar(sa.select(sa.func.count(ListingVersion.id))
                          .where(ListingVersion.service_id == service.id)) == 0
    [email] = outbox_to("owner@riverside.example")
    assert "not approved" in email.subject and "Listings must not make price claims." in email.body
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing_revision.rejected"))
    assert event.before == {"state": "submitted"} and event.after["state"] == "rejected"


def test_pressing_approve_twice_publishes_once(client, session):
    service, owner = provider_listing()
    revision = submit(service, summary="Gardening club")
    sign_in(client, make_moderator())
    page = parse(client.get(review_url(revision)))
    data = dict(form_data(page, f"//form[@action='{review_url(revision)}']"), approve_all="y")

    first = client.post(review_url(revision), data=data)
    second = client.post(review_url(revision), data=data)

    assert first.status_code == 302 and second.status_code == 302
    assert second.headers["Location"].endswith(review_url(revision))
    assert session.scalar(sa.select(sa.func.count(ListingVersion.id))
                          .where(ListingVersion.service_id == service.id)) == 1
    assert len(outbox_to("owner@riverside.example")) == 1
    decided = parse(client.get(review_url(revision)))
    assert not decided.xpath(f"//form[@action='{review_url(revision)}']")
    assert "Approved" in texts(decided, "//dl//strong[contains(@class, 'govuk-tag')]")


def test_a_decision_taken_on_an_outdated_review_is_refused(client, session):
    service, _ = provider_listing()
    moderator = make_moderator()
    revision = submit(service, summary="Gardening club")
    sign_in(client, moderator)
    page = parse(client.get(review_url(revision)))
    data = dict(form_data(page, f"//form[@action='{review_url(revision)}']"), approve_all="y")
    fmt.publish(actor=moderator, service=service, data=dict(fmt.snapshot(service), name="Renamed meanwhile"))

    response = client.post(review_url(revision), data=data)

    assert response.headers["Location"].endswith(review_url(revision))
    session.refresh(revision)
    assert revision.state is RevisionState.SUBMITTED and service.name == "Renamed meanwhile"


# --- version history and restore -------------------------------------------------------------------------------


def test_version_history_lists_who_published_each_version_and_restore_publishes_an_old_one_again(client, session):
    service, _ = provider_listing()
    moderator = make_moderator()
    fmt.publish(actor=moderator, service=service, data=fmt.snapshot(service), note="approved")
    fmt.publish(actor=moderator, service=service, data=dict(fmt.snapshot(service), summary="Woodwork only"),
                note="approved")
    sign_in(client, moderator)

    history = parse(client.get(f"/council/listings/{service.id}/versions"))
    rows = history.xpath("//table[contains(@class, 'app-versions')]/tbody/tr")
    assert [text_of(row.xpath("./td[1]")[0]) for row in rows] == ["Version 2 Current", "Version 1"]
    assert {text_of(row.xpath("./td[3]")[0]) for row in rows} == {"Morgan Moderator"}

    old = parse(client.get(f"/council/listings/{service.id}/versions/1"))
    assert "Day activities for older people" in texts(old, "//dd")
    response = client.post(f"/council/listings/{service.id}/versions/1/restore",
                           data={"csrf_token": csrf_token(old)})

    assert response.status_code == 302
    assert service.summary == "Day activities for older people"
    latest = session.scalar(sa.select(ListingVersion).where(ListingVersion.service_id == service.id)
                            .order_by(ListingVersion.number.desc()).limit(1))
    assert (latest.number, latest.note) == (3, "restored from version 1")
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing.restored"))
    assert event.after == {"version": 3, "restored_from": 1}


def test_an_unknown_version_is_not_found(client):
    service, _ = provider_listing()
    sign_in(client, make_moderator())
    assert client.get(f"/council/listings/{service.id}/versions/7").status_code == 404


# --- emergency unpublish ---------------------------------------------------------------------------------------


def test_unpublishing_takes_a_listing_off_the_site_and_out_of_search_and_republishing_brings_it_back(
    client, session
):
    service, _ = provider_listing(name="Riverside woodwork club")
    indexer.rebuild()
    sign_in(client, make_moderator())
    assert search_names(client, "woodwork") == ["Riverside woodwork club"]
    url = f"/council/listings/{service.id}/unpublish"

    form = parse(client.get(url))
    refused = parse(client.post(url, data={"csrf_token": csrf_token(form), "reason": "  "}))
    assert texts(refused, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter why you are unpublishing this listing"
    ]
    client.post(url, data={"csrf_token": csrf_token(form), "reason": "Safeguarding concern raised"})

    assert client.get(f"/services/{service.id}").status_code == 404
    assert search_names(client, "woodwork") == []
    assert service.unpublished_reason == "Safeguarding concern raised"
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing.unpublished"))
    assert event.after["unpublished_reason"] == "Safeguarding concern raised"

    page = parse(client.get(url))
    assert "Safeguarding concern raised" in texts(page, "//dd")
    client.post(f"/council/listings/{service.id}/republish", data={"csrf_token": csrf_token(page)})

    assert client.get(f"/services/{service.id}").status_code == 200
    assert search_names(client, "woodwork") == ["Riverside woodwork club"]
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing.republished")) is not None


# --- the council home ------------------------------------------------------------------------------------------


def test_the_council_home_links_only_to_pages_the_staff_members_roles_allow(client):
    sign_in(client, make_moderator())
    moderator_links = texts(parse(client.get("/council")), "//ul[contains(@class, 'app-council-tasks')]//a")

    sign_in(client, make_user(roles=(Role.COUNCIL_DP_OFFICER,)))
    officer_page = parse(client.get("/council"))

    officer_links = texts(officer_page, "//ul[contains(@class, 'app-council-tasks')]//a")
    assert "Changes waiting for review" in moderator_links and "Audit trail" in moderator_links
    assert "Direct payment accounts" not in moderator_links and "Provider payments" not in moderator_links
    assert "Changes waiting for review" not in officer_links and "Audit trail" not in officer_links
    assert {"Direct payment accounts", "Provider bank details", "Spending exceptions", "Provider payments"} <= set(
        officer_links)
