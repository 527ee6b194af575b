"""Report a problem with a listing: the public form (validation, honeypot, rate limit), the emails to the
provider and the council, the provider's and the council's report pages, and the audit of every state change.
Both databases."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.data.reports import REFERENCE_ALPHABET
from portal.models import AuditEvent, MembershipRole, OutboxMessage, ProblemReport, ReportState, Role
from tests.support.factories import make_organisation, make_service, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, texts

COUNCIL = "care.information@aldermoor.example.gov.uk"


def emails_to(session, address: str) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)))


def all_reports(session) -> list[ProblemReport]:
    return list(session.scalars(sa.select(ProblemReport)))


def error_summary(page) -> list[str]:
    return texts(page, "//div[contains(@class, 'govuk-error-summary')]//ul/li")


def provider_setup(name: str = "Riverside Carers"):
    organisation = make_organisation(name=name)
    owner = make_user(roles=(Role.PROVIDER,), organisations=[organisation])
    editor = make_user(roles=(Role.PROVIDER,), organisations=[organisation], membership_role=MembershipRole.EDITOR)
    service = make_service(organisation=organisation, name=f"{name} lunch club")
    return organisation, owner, editor, service


def send_report(client, service, **fields):
    page = parse(client.get(f"/services/{service.id}/report"))
    return client.post(f"/services/{service.id}/report", data=form_data(page, **fields))


def make_report(service, *, state: ReportState = ReportState.NEW, reference: str = "ABCD2345",
                description: str = "The phone number is wrong", **fields) -> ProblemReport:
    from portal.extensions import db

    report = ProblemReport(service_id=service.id, reference=reference, description=description, state=state,
                           **fields)
    db.session.add(report)
    db.session.flush()
    return report


# --- the public form ------------------------------------------------------------------------------------------


def test_every_service_page_links_to_report_a_problem(client, session):
    service = make_service(name="Lunch club")

    page = parse(client.get(f"/services/{service.id}"))

    links = page.xpath("//main//a[normalize-space()='Report a problem with this listing']/@href")
    assert links == [f"/services/{service.id}/report"]


def test_a_report_needs_to_say_what_is_wrong_in_gov_uk_wording(client, session):
    _organisation, _owner, _editor, service = provider_setup()

    page = parse(send_report(client, service, description="  "))

    assert error_summary(page) == ["Enter what is wrong with this listing"]
    assert page.xpath("string(//title)").startswith("Error:")
    assert all_reports(session) == []


def test_a_report_that_is_too_long_or_has_a_bad_email_address_is_refused(client, session):
    _organisation, _owner, _editor, service = provider_setup()

    page = parse(send_report(client, service, description="x" * 2001, email="not-an-email"))

    assert error_summary(page) == [
        "What is wrong must be 2000 characters or fewer",
        "Enter an email address in the correct format, like name@example.com",
    ]
    assert all_reports(session) == []


def test_a_report_is_stored_with_a_reference_and_emailed_to_the_provider_and_the_council(client, session):
    _organisation, owner, editor, service = provider_setup()

    response = send_report(client, service, description="The phone number no longer works",
                           name="Sam Jones", email="Sam@Example.org")

    assert response.status_code == 302
    confirmation = parse(client.get(response.headers["Location"]))
    reference = texts(confirmation, "//strong[contains(@class, 'app-report-reference')]")[0]
    assert re.fullmatch(f"[{REFERENCE_ALPHABET}]{{8}}", reference)
    assert texts(confirmation, "//h1") == ["Report sent"]
    [report] = all_reports(session)
    assert (report.reference, report.state, report.reporter_email) == (reference, ReportState.NEW, "sam@example.org")
    for member in (owner, editor):
        [message] = emails_to(session, member.email)
        assert reference in message.subject
        assert "The phone number no longer works" in message.body
        assert "Their email address: sam@example.org" in message.body
        assert f"/provider/reports/{report.id}" in message.body
    [council_message] = emails_to(session, COUNCIL)
    assert "Organisation: Riverside Carers" in council_message.body
    assert f"/council/reports/{report.id}" in council_message.body
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "problem_report.created"))
    assert event.actor_id is None and event.subject_id == str(report.id)
    assert "sam@example.org" not in str(event.after)


def test_the_provider_never_sees_a_reporters_email_address_they_did_not_give(client, session):
    _organisation, owner, _editor, service = provider_setup()

    send_report(client, service, description="It has closed")

    [message] = emails_to(session, owner.email)
    assert "Their email address" not in message.body
    [report] = all_reports(session)
    assert report.reporter_email is None
    sign_in(client, owner)
    page = parse(client.get(f"/provider/reports/{report.id}"))
    assert "Not given" in texts(page, "//dt[normalize-space()='Email address']/following-sibling::dd[1]")


def test_a_filled_honeypot_looks_accepted_but_nothing_is_stored_or_sent(client, session):
    _organisation, owner, _editor, service = provider_setup()

    response = send_report(client, service, description="Buy cheap watches", website="http://spam.example")

    assert response.status_code == 302
    confirmation = parse(client.get(response.headers["Location"]))
    assert texts(confirmation, "//h1") == ["Report sent"]
    assert all_reports(session) == []
    assert emails_to(session, owner.email) == [] and emails_to(session, COUNCIL) == []


def test_sending_too_many_reports_is_refused_with_429(client, session, app):
    _organisation, _owner, _editor, service = provider_setup()
    page = parse(client.get(f"/services/{service.id}/report"))
    allowed = int(app.config["PUBLIC_FORM_RATE_LIMIT"].split()[0])

    statuses = [
        client.post(f"/services/{service.id}/report", data=form_data(page, description="")).status_code
        for _attempt in range(allowed + 1)
    ]

    assert statuses == [200] * allowed + [429]


def test_a_listing_that_is_not_public_cannot_be_reported(client, session):
    service = make_service(name="Draft", published_at=None)

    assert client.get(f"/services/{service.id}/report").status_code == 404


# --- providers -------------------------------------------------------------------------------------------------


def test_a_provider_sees_only_reports_about_their_own_listings(client, session):
    _organisation, owner, _editor, mine = provider_setup()
    _other, _other_owner, _other_editor, theirs = provider_setup("Hillside Care")
    own = make_report(mine, reference="MINE2345")
    other = make_report(theirs, reference="THEM2345")
    sign_in(client, owner)

    page = parse(client.get("/provider/reports"))

    assert texts(page, "//table[contains(@class, 'app-reports-table')]/tbody/tr/*[1]") == [own.reference]
    assert client.get(f"/provider/reports/{own.id}").status_code == 200
    assert client.get(f"/provider/reports/{other.id}").status_code == 404
    token = csrf_token(page)
    refused = client.post(f"/provider/reports/{other.id}", data={"csrf_token": token, "state": "resolved"})
    assert refused.status_code == 404
    assert other.state is ReportState.NEW


def test_a_provider_changes_a_reports_state_with_a_response_and_it_is_audited(client, session):
    _organisation, _owner, editor, service = provider_setup()
    report = make_report(service)
    sign_in(client, editor)
    page = parse(client.get(f"/provider/reports/{report.id}"))

    response = client.post(f"/provider/reports/{report.id}",
                           data=form_data(page, state="resolved", response_note="Phone number corrected"))

    assert response.status_code == 302
    assert report.state is ReportState.RESOLVED and report.resolved_at is not None
    assert report.response_note == "Phone number corrected"
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "problem_report.state_changed"))
    assert event.actor_id == editor.id
    assert event.before == {"state": "new", "response_note": ""}
    assert event.after == {"state": "resolved", "response_note": "Phone number corrected"}
    assert event.organisation_id == service.organisation_id
    shown = parse(client.get(response.headers["Location"]))
    assert "Resolved" in texts(shown, "//dt[normalize-space()='State']/following-sibling::dd[1]")


def test_saving_a_report_without_changing_anything_says_so(client, session):
    _organisation, owner, _editor, service = provider_setup()
    report = make_report(service)
    sign_in(client, owner)
    page = parse(client.get(f"/provider/reports/{report.id}"))

    answer = parse(client.post(f"/provider/reports/{report.id}", data=form_data(page)))

    assert error_summary(answer) == ["Choose a different state or change the response"]
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "problem_report.state_changed")) is None


# --- the council -----------------------------------------------------------------------------------------------


def test_moderators_see_every_report_and_filter_by_state_and_organisation(client, session):
    riverside, _owner, _editor, first = provider_setup()
    _hillside, _other_owner, _other_editor, second = provider_setup("Hillside Care")
    make_report(first, reference="RIVNEW23")
    make_report(first, reference="RIVDONE2", state=ReportState.RESOLVED)
    make_report(second, reference="HILNEW23")
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))

    def references(url: str) -> list[str]:
        return sorted(texts(parse(client.get(url)), "//table[contains(@class, 'app-reports-table')]/tbody/tr/*[1]"))

    assert references("/council/reports") == ["HILNEW23", "RIVDONE2", "RIVNEW23"]
    assert references("/council/reports?state=new") == ["HILNEW23", "RIVNEW23"]
    assert references(f"/council/reports?organisation={riverside.id}") == ["RIVDONE2", "RIVNEW23"]
    assert references(f"/council/reports?state=resolved&organisation={riverside.id}") == ["RIVDONE2"]


def test_a_moderator_changes_a_reports_state_and_it_is_audited(client, session):
    _organisation, _owner, _editor, service = provider_setup()
    report = make_report(service)
    moderator = make_user(roles=(Role.COUNCIL_MODERATOR,))
    sign_in(client, moderator)
    page = parse(client.get(f"/council/reports/{report.id}"))

    response = client.post(f"/council/reports/{report.id}", data=form_data(page, state="in_progress"))

    assert response.status_code == 302
    assert report.state is ReportState.IN_PROGRESS and report.resolved_at is None
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "problem_report.state_changed"))
    assert (event.actor_id, event.before["state"], event.after["state"]) == (moderator.id, "new", "in_progress")
    assert event.details["by"] == "council"


def test_a_state_must_be_chosen(client, session):
    _organisation, _owner, _editor, service = provider_setup()
    report = make_report(service)
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))
    page = parse(client.get(f"/council/reports/{report.id}"))
    data = form_data(page)
    data.pop("state", None)

    answer = parse(client.post(f"/council/reports/{report.id}", data=data))

    assert error_summary(answer) == ["Select the state of the report"]


def test_only_moderators_see_the_councils_report_pages(client, session):
    _organisation, owner, _editor, service = provider_setup()
    report = make_report(service)

    sign_in(client, owner)
    assert client.get("/council/reports").status_code == 403
    sign_in(client, make_user(roles=(Role.COUNCIL_DP_OFFICER,)))
    assert client.get("/council/reports").status_code == 403
    assert client.get(f"/council/reports/{report.id}").status_code == 403


def test_welsh_readers_get_the_report_link_and_form_in_welsh(client, session):
    _organisation, _owner, _editor, service = provider_setup()

    service_page = parse(client.get(f"/services/{service.id}?lang=cy"))
    form_page = parse(client.get(f"/services/{service.id}/report?lang=cy"))

    assert texts(service_page, "//a[contains(@href, '/report')]") == ["Rhoi gwybod am broblem gyda'r rhestriad hwn"]
    assert texts(form_page, "//h1") == ["Rhoi gwybod am broblem gyda'r rhestriad hwn"]
    assert texts(form_page, "//main//form//button") == ["Anfon adroddiad"]
