"""Staying current: `flask listings remind`, the one-click "still accurate" link, the provider's own button,
"last checked over a year ago" in search results and the council's stale listings page. Both databases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from portal.data import reminders
from portal.models import (
    AuditEvent,
    ListingChange,
    ListingReminder,
    MembershipRole,
    OutboxMessage,
    Role,
    Service,
    utcnow,
)
from search import indexer
from tests.support.factories import make_organisation, make_service, make_user, sign_in
from tests.support.html import csrf_token, parse, texts

COUNCIL = "care.information@aldermoor.example.gov.uk"
LINK = re.compile(r"https?://\S+/listings/\S+/still-accurate/\S+")


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 30, tzinfo=UTC)


def remind(app, *args: str):
    result = app.test_cli_runner().invoke(args=["listings", "remind", *args])
    assert result.exit_code == 0, result.output
    return result.output


def emails(session, to: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.recipient)
    if to is not None:
        query = query.where(OutboxMessage.recipient == to)
    return list(session.scalars(query))


def provider_with_listing(checked: datetime, **service_fields):
    organisation = make_organisation(name="Riverside Carers")
    owner = make_user(email="owner@riverside.example", roles=(Role.PROVIDER,), organisations=[organisation])
    editor = make_user(email="editor@riverside.example", roles=(Role.PROVIDER,), organisations=[organisation],
                       membership_role=MembershipRole.EDITOR)
    service = make_service(organisation=organisation, name="Carers' lunch club", last_checked_at=checked,
                           **service_fields)
    return organisation, owner, editor, service


def still_accurate_path(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return urlsplit(found.group(0)).path


# --- flask listings remind ------------------------------------------------------------------------------------


def test_remind_emails_every_member_once_per_check_date_however_often_it_runs(app, session):
    _organisation, owner, editor, service = provider_with_listing(at(2024, 1, 10))
    make_service(name="Checked recently", last_checked_at=at(2024, 5, 1))
    make_service(name="Never approved", last_checked_at=at(2023, 1, 1), published_at=None)

    first = remind(app, "--today", "2024-07-15")
    second = remind(app, "--today", "2024-07-16")

    assert "Reminded 1 listing(s) (2 email(s) sent)." in first
    assert "Reminded 0 listing(s) (0 email(s) sent)." in second
    assert sorted(message.recipient for message in emails(session)) == [editor.email, owner.email]
    reminder = session.scalar(sa.select(ListingReminder))
    assert (reminder.service_id, reminder.kind, reminder.checked_on) == (service.id, "six_months", date(2024, 1, 10))
    assert sorted(reminder.recipients) == [editor.email, owner.email]
    body = emails(session, owner.email)[0].body
    assert "Carers' lunch club" in body and "10 January 2024" in body
    assert still_accurate_path(body).startswith(f"/listings/{service.id}/still-accurate/")


def test_remind_waits_until_six_months_after_the_last_check(app, session):
    provider_with_listing(at(2024, 1, 10))

    assert "Reminded 0 listing(s)" in remind(app, "--today", "2024-07-09")
    assert emails(session) == []
    assert "Reminded 1 listing(s)" in remind(app, "--today", "2024-07-10")


def test_a_listing_checked_again_is_reminded_again_six_months_after_the_new_check(app, session):
    _organisation, owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    remind(app, "--today", "2024-07-15")
    service.last_checked_at = at(2024, 7, 20)
    session.flush()

    remind(app, "--today", "2025-01-20")

    assert len(emails(session, owner.email)) == 2
    assert sorted(session.scalars(sa.select(ListingReminder.checked_on))) == [date(2024, 1, 10), date(2024, 7, 20)]


def test_a_year_old_listing_is_flagged_to_the_council_once_in_a_single_digest(app, session):
    _organisation, owner, _editor, first = provider_with_listing(at(2023, 1, 5))
    second = make_service(organisation=first.organisation, name="Sitting service", last_checked_at=at(2023, 2, 1))

    output = remind(app, "--today", "2024-03-01")
    again = remind(app, "--today", "2024-03-02")

    assert f"Flagged 2 listing(s) not checked for over a year to the council (digest emailed to {COUNCIL})." in output
    assert "Flagged 0 listing(s)" in again
    digests = emails(session, COUNCIL)
    assert len(digests) == 1
    assert "Carers' lunch club (Riverside Carers), last checked on 5 January 2023" in digests[0].body
    assert "Sitting service (Riverside Carers), last checked on 1 February 2023" in digests[0].body
    assert "/council/listings/stale" in digests[0].body
    kinds = {tuple(row) for row in session.execute(sa.select(ListingReminder.service_id, ListingReminder.kind))}
    assert kinds == {(first.id, "six_months"), (first.id, "twelve_months"),
                     (second.id, "six_months"), (second.id, "twelve_months")}
    assert len(emails(session, owner.email)) == 2  # the providers are still asked to check each listing


def test_dry_run_lists_what_would_be_sent_and_records_and_sends_nothing(app, session):
    _organisation, owner, editor, _service = provider_with_listing(at(2023, 1, 5))

    output = remind(app, "--dry-run", "--today", "2024-03-01")

    assert "Dry run: nothing was recorded or sent." in output
    assert (f"Would remind: Carers' lunch club (Riverside Carers), last checked 2023-01-05, "
            f"to {editor.email}, {owner.email}") in output
    assert "Would flag to the council: Carers' lunch club" in output
    assert emails(session) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(ListingReminder)) == 0


def test_remind_refuses_a_badly_written_date(app, session):
    result = app.test_cli_runner().invoke(args=["listings", "remind", "--today", "31/03/2024"])

    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_a_reminder_row_already_recorded_by_another_run_is_not_sent_again(app, session):
    # Two runs at once: the other one inserted the row after this one looked. The unique constraint wins.
    _organisation, _owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    with app.test_request_context():
        due = reminders.due_reminders(today=date(2024, 7, 15))
        session.add(ListingReminder(service_id=service.id, kind="six_months", checked_on=date(2024, 1, 10)))
        session.flush()
        assert [reminders._claim(item, []) for item in due] == [False]
    assert emails(session) == []


# --- the one-click link ---------------------------------------------------------------------------------------


def emailed_link(app, session, service: Service, owner) -> str:
    remind(app, "--today", (service.last_checked_at + timedelta(days=200)).date().isoformat())
    return still_accurate_path(emails(session, owner.email)[-1].body)


def test_opening_the_emailed_link_shows_one_button_and_changes_nothing(app, client, session):
    _organisation, owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    path = emailed_link(app, session, service, owner)

    page = parse(client.get(path))

    assert texts(page, "//h1") == ["Is Carers' lunch club still accurate?"]
    assert texts(page, "//main//form//button") == ["Yes, it is still accurate"]
    assert service.last_checked_at == at(2024, 1, 10)


def test_the_button_confirms_the_listing_once_and_then_the_link_is_refused(app, client, session):
    _organisation, owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    path = emailed_link(app, session, service, owner)
    token = csrf_token(parse(client.get(path)))

    response = client.post(path, data={"csrf_token": token})

    assert response.status_code == 302
    done = parse(client.get(response.headers["Location"]))
    assert texts(done, "//h1") == ["Listing confirmed as still accurate"]
    assert service.last_checked_at.date() == utcnow().date()
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing.confirmed_accurate"))
    assert event.actor_id is None
    assert event.details == {"confirmed_by": "email link"}
    assert event.before == {"last_checked_at": at(2024, 1, 10).isoformat()}
    assert session.scalar(sa.select(ListingChange).where(ListingChange.subject_id == service.id)) is not None

    again = client.get(path)
    assert again.status_code == 400
    assert texts(parse(again), "//h1") == ["This link has already been used"]
    refused = client.post(path, data={"csrf_token": token})
    assert refused.status_code == 400
    assert session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "listing.confirmed_accurate")
    ) == 1


def test_a_post_without_the_form_token_does_not_confirm(app, client, session):
    _organisation, owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    path = emailed_link(app, session, service, owner)

    response = client.post(path, data={})

    assert response.status_code == 400
    assert service.last_checked_at == at(2024, 1, 10)


def test_a_link_older_than_30_days_has_expired(app, client, session, monkeypatch):
    _organisation, _owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    sent = datetime.now(UTC) - timedelta(days=31)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: sent.timestamp())
    with app.test_request_context():
        token = reminders.still_accurate_token(service)
    monkeypatch.undo()

    response = client.get(f"/listings/{service.id}/still-accurate/{token}")

    assert response.status_code == 400
    assert texts(parse(response), "//h1") == ["This link has expired"]


def test_a_link_for_another_listing_or_altered_does_not_work(app, client, session):
    _organisation, _owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    other = make_service(name="Other", last_checked_at=at(2024, 1, 10))
    with app.test_request_context():
        token = reminders.still_accurate_token(service)

    for path in (f"/listings/{other.id}/still-accurate/{token}", f"/listings/{service.id}/still-accurate/{token}x"):
        response = client.get(path)
        assert response.status_code == 400
        assert texts(parse(response), "//h1") == ["This link does not work"]


# --- the provider's own button --------------------------------------------------------------------------------


def test_a_provider_marks_their_own_listing_as_still_accurate(client, session):
    _organisation, owner, _editor, service = provider_with_listing(at(2024, 1, 10))
    sign_in(client, owner)
    page = parse(client.get("/provider/listings/check"))
    assert "Last checked: 10 January 2024" in texts(page, "//p[contains(@class, 'app-listing-checks__date')]")

    response = client.post(f"/provider/listings/{service.id}/still-accurate", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 302
    assert service.last_checked_at.date() == utcnow().date()
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing.confirmed_accurate"))
    assert event.actor_id == owner.id
    assert event.details == {"confirmed_by": "provider user"}


def test_a_provider_cannot_mark_another_organisations_listing(client, session):
    _organisation, owner, _editor, _service = provider_with_listing(at(2024, 1, 10))
    theirs = make_service(name="Someone else's", last_checked_at=at(2024, 1, 10))
    sign_in(client, owner)
    token = csrf_token(parse(client.get("/provider/listings/check")))

    response = client.post(f"/provider/listings/{theirs.id}/still-accurate", data={"csrf_token": token})

    assert response.status_code == 404
    assert theirs.last_checked_at == at(2024, 1, 10)
    assert "Someone else's" not in texts(parse(client.get("/provider/listings/check")), "//main//h2")


# --- over a year: search results and the council ----------------------------------------------------------------


def test_search_results_say_when_a_listing_was_last_checked_over_a_year_ago(client, session):
    make_service(name="Old lunch club", last_checked_at=utcnow() - timedelta(days=400))
    make_service(name="New lunch club", last_checked_at=utcnow() - timedelta(days=30))
    indexer.rebuild()

    page = parse(client.get("/services?q=lunch"))

    tag = ".//strong[contains(@class, 'govuk-tag')][normalize-space()='Last checked over a year ago']"
    tagged = texts(page, f"//li[contains(@class, 'directory-results__item')][{tag}]//h2")
    assert tagged == ["Old lunch club"]


def test_moderators_see_listings_not_checked_for_over_a_year_with_the_reminders_sent(app, client, session):
    _organisation, _owner, _editor, old = provider_with_listing(utcnow() - timedelta(days=500))
    make_service(name="Fresh", last_checked_at=utcnow() - timedelta(days=30))
    remind(app)
    moderator = make_user(roles=(Role.COUNCIL_MODERATOR,))
    sign_in(client, moderator)

    page = parse(client.get("/council/listings/stale"))

    rows = page.xpath("//table[contains(@class, 'app-stale-listings')]/tbody/tr")
    assert [" ".join(row.xpath("string(./*[1])").split()) for row in rows] == [old.name]
    cells = [" ".join(cell.text_content().split()) for cell in rows[0].xpath("./*")]
    assert cells[1] == "Riverside Carers"
    assert "6-month reminder" in cells[3] and "Flagged to the council" in cells[3]


def test_only_moderators_see_the_stale_listings_page(client, session):
    sign_in(client, make_user(roles=(Role.COUNCIL_DP_OFFICER,)))

    assert client.get("/council/listings/stale").status_code == 403
