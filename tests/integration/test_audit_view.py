"""The council's audit trail: newest first, filtered by organisation, user, action and dates, values escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.data import audit
from portal.models import AuditEvent, Role
from tests.support.factories import make_organisation, make_user, sign_in
from tests.support.html import parse, text_of, texts


def event_titles(page) -> list[str]:
    return texts(page, "//div[contains(@class, 'app-audit-event')]//h2")


def event_values(page, index: int = 0) -> dict[str, str]:
    card = page.xpath("//div[contains(@class, 'app-audit-event')]")[index]
    return {text_of(row.xpath("./dt")[0]): text_of(row.xpath("./dd")[0])
            for row in card.xpath(".//div[contains(@class, 'govuk-summary-list__row')]")}


def recorded(*, actor, action: str, organisation=None, days_ago: int = 0, **values) -> AuditEvent:
    event = audit.record(actor=actor, action=action, subject_type="services", subject_id="42",
                         organisation_id=organisation.id if organisation else None, **values)
    event.occurred_at = datetime.now(UTC) - timedelta(days=days_ago)
    return event


def test_the_audit_trail_lists_events_newest_first_with_who_when_and_before_and_after(client, session):
    riverside = make_organisation(name="Riverside Trust")
    editor = make_user(name="Pat Provider", email="pat@riverside.example")
    recorded(actor=editor, action="listing.updated", organisation=riverside, days_ago=2,
             before={"summary": "Old words"}, after={"summary": "New words"})
    recorded(actor=None, action="listing.unpublished", organisation=riverside, days_ago=1)
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))

    page = parse(client.get("/council/audit"))

    assert event_titles(page)[:2] == ["listing.unpublished", "listing.updated"]
    values = event_values(page, 1)
    assert values["Who"] == "Pat Provider (pat@riverside.example)"
    assert values["Organisation"] == "Riverside Trust"
    assert values["summary"] == "Before: Old words After: New words"
    assert event_values(page, 0)["Who"] == "The system"


def test_recorded_values_are_shown_as_text_never_run_as_html(client, session):
    recorded(actor=None, action="listing.updated",
             before={"description": "<script>alert(1)</script>"}, after={"needs": ["<b>dementia</b>"]})
    sign_in(client, make_user(roles=(Role.COUNCIL_ADMIN,)))

    page = parse(client.get("/council/audit"))

    assert not page.xpath("//main//script") and not page.xpath("//main//dd//b")
    values = event_values(page)
    assert values["description"] == "Before: <script>alert(1)</script> After: not recorded"
    assert values["needs"] == 'Before: not recorded After: ["<b>dementia</b>"]'


def test_the_audit_trail_filters_by_organisation_user_action_and_dates(client, session):
    riverside = make_organisation(name="Riverside Trust")
    hillside = make_organisation(name="Hillside Care")
    pat = make_user(email="pat@riverside.example")
    sam = make_user(email="sam@hillside.example")
    recorded(actor=pat, action="listing.updated", organisation=riverside, days_ago=10)
    recorded(actor=pat, action="listing.unpublished", organisation=riverside, days_ago=3)
    recorded(actor=sam, action="listing.updated", organisation=hillside, days_ago=1)
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))

    by_organisation = parse(client.get("/council/audit", query_string={"organisation": str(hillside.id)}))
    by_user = parse(client.get("/council/audit", query_string={"user": "PAT@riverside"}))
    by_action = parse(client.get("/council/audit", query_string={"action": "listing.updated"}))
    since = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    until = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    by_dates = parse(client.get("/council/audit", query_string={"date_from": since, "date_to": until}))

    assert [event_values(by_organisation, i)["Organisation"] for i in range(len(event_titles(by_organisation)))] == [
        "Hillside Care"]
    assert event_titles(by_user) == ["listing.unpublished", "listing.updated"]
    assert [event_values(by_action, i)["Who"].split("(")[-1] for i in range(2)] == [
        "sam@hillside.example)", "pat@riverside.example)"]
    assert event_titles(by_dates) == ["listing.unpublished"]
    # The form shows what it filtered by, so the page can be bookmarked and understood.
    assert by_organisation.xpath("//select[@name='organisation']/option[@selected]/text()") == ["Hillside Care"]
    assert by_user.xpath("//input[@name='user']/@value") == ["PAT@riverside"]


def test_a_date_that_is_not_real_is_an_error_not_an_empty_list(client):
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))

    page = parse(client.get("/council/audit", query_string={"date_from": "2025-02-30"}))

    assert texts(page, "//div[contains(@class, 'govuk-error-summary')]//li") == ["Enter a real date, like 2025-11-20"]


def test_the_audit_trail_is_paged_and_pages_keep_the_filters(client, session):
    for number in range(30):
        recorded(actor=None, action="listing.updated", days_ago=number)
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))

    first = parse(client.get("/council/audit", query_string={"action": "listing.updated"}))
    next_href = first.xpath("//nav[contains(@class, 'govuk-pagination')]//a[@rel='next']/@href")[0]
    second = parse(client.get(next_href))

    assert len(event_titles(first)) == 25 and len(event_titles(second)) == 5
    assert "action=listing.updated" in next_href


def test_only_council_admins_and_moderators_see_the_audit_trail(client):
    assert client.get("/council/audit").status_code == 302  # to sign in
    sign_in(client, make_user(roles=(Role.PROVIDER,)))
    assert client.get("/council/audit").status_code == 403
    sign_in(client, make_user(roles=(Role.COUNCIL_DP_OFFICER,)))
    assert client.get("/council/audit").status_code == 403
    sign_in(client, make_user(roles=(Role.COUNCIL_ADMIN,)))
    assert client.get("/council/audit").status_code == 200
