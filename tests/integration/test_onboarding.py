"""Provider onboarding through the pages: create an organisation, ask to join one, members and invitations.

Sign-up has its own tests: provider users here come from make_user. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AuditEvent,
    JoinRequest,
    MembershipRole,
    Organisation,
    OrganisationInvitation,
    OrganisationKind,
    OrganisationMembership,
    OutboxMessage,
    RequestState,
    Role,
    VerificationStatus,
    utcnow,
)
from tests.support.factories import make_organisation, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, texts

IN_A_YEAR = date.today() + timedelta(days=365)
LAST_YEAR = date.today() - timedelta(days=300)


def provider(**fields):
    return make_user(roles=(Role.PROVIDER,), **fields)


def emails_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.created_at)))


def link_in(body: str, prefix: str) -> str:
    for url in re.findall(r"https?://\S+", body):
        if urlsplit(url).path.startswith(prefix):
            return urlsplit(url).path
    raise AssertionError(f"no {prefix} link in: {body}")


def error_messages(document) -> list[str]:
    return texts(document, "//div[contains(@class, 'govuk-error-summary')]//li")


def field_error(document, field_id: str) -> list[str]:
    """The inline error message above a field, as a screen reader announces it (without the hidden prefix)."""
    return [text.removeprefix("Error: ") for text in
            texts(document, f"//*[@id='{field_id}-error']")]


def date_fields(name: str, day: date | None) -> dict:
    return {name: [str(day.day), str(day.month), str(day.year)] if day else ["", "", ""]}


def organisation_answers(**overrides) -> dict:
    answers = {
        "name": "Riverside Befriending",
        "kind": "charity",
        "description": "Weekly visits and phone calls for older people who feel lonely.",
        "website": "https://riverside.example.org",
        "email": "hello@riverside.example.org",
        "phone": "01632 960 001",
        "charity_number": "1098765",
        "company_number": "",
        "regulator": "cqc",
        "registration_id": "1-123456789",
        "registration_rating": "Good",
        **date_fields("insurance_expires_on", IN_A_YEAR),
        **date_fields("dbs_checked_on", None),
    }
    answers.update(overrides)
    return answers


def submit_organisation(client, **overrides):
    page = parse(client.get("/provider/organisations/new"))
    data = form_data(page, **organisation_answers(**overrides))
    return client.post("/provider/organisations/new", data=data)


def audit_actions(organisation_id) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.organisation_id == organisation_id)
                                   .order_by(AuditEvent.occurred_at)))


def post_form(client, page_url: str, form_xpath: str = "//main//form", **fields):
    """Open ``page_url`` and submit the form at ``form_xpath`` as a browser would (to its action, or the page)."""
    document = parse(client.get(page_url))
    form = document.xpath(form_xpath)[0]
    data = form_data(document, form_xpath)
    for name in set(form.xpath(".//input[@name]/@name")):
        values = form.xpath(f".//input[@name='{name}']/@value")
        if len(form.xpath(f".//input[@name='{name}' and (@type='text' or not(@type))]")) > 1:
            data[name] = values  # a date's day, month and year boxes share one name
    for select in form.xpath(".//select[@name]"):
        chosen = select.xpath(".//option[@selected]/@value")
        data[select.get("name")] = chosen[0] if chosen else ""
    data.update(fields)
    return client.post(form.get("action") or page_url, data=data)


# --- The dashboard ------------------------------------------------------------------------------------------


def test_a_provider_without_an_organisation_is_offered_to_add_one_or_join_one(client, session):
    sign_in(client, provider())

    page = parse(client.get("/provider"))

    assert texts(page, "//ul[@id='start-choices']//a") == ["Add your organisation",
                                                          "Ask to join an existing organisation"]
    assert page.xpath("//ul[@id='start-choices']//a/@href") == ["/provider/organisations/new",
                                                               "/provider/organisations/find"]


def test_the_dashboard_shows_each_organisation_with_its_council_check_and_what_is_missing(client, session):
    waiting = make_organisation(name="Acorn Day Centre", approved=False, kind=OrganisationKind.CHARITY)
    approved = make_organisation(name="Birch Home Care", kind=OrganisationKind.COMPANY, company_number="01234567",
                                 insurance_expires_on=IN_A_YEAR)
    user = provider(organisations=[waiting, approved])
    sign_in(client, user)

    page = parse(client.get("/provider"))

    assert texts(page, "//div[@class='app-organisation-summary']//h3") == ["Acorn Day Centre", "Birch Home Care"]
    tags = texts(page, "//div[@class='app-organisation-summary']//strong[contains(@class, 'govuk-tag')]")
    assert tags == ["Waiting for council check", "Approved"]
    acorn_needs = texts(page, f"//div[@id='organisation-{waiting.id}']//ul[contains(@class, 'app-council-needs')]/li")
    assert acorn_needs == ["Add your charity number", "Add the date your public liability insurance ends"]
    assert page.xpath(f"//div[@id='organisation-{approved.id}']//ul[contains(@class, 'app-council-needs')]") == []
    assert page.xpath("//main//a/@href").count(f"/provider/organisations/{approved.id}") == 1


# --- Creating an organisation -------------------------------------------------------------------------------


def test_creating_an_organisation_makes_the_creator_its_owner_and_tells_the_council(client, session, app):
    user = provider(name="Priya Shah")
    sign_in(client, user)

    response = submit_organisation(client)

    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Riverside Befriending"))
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/provider/organisations/{organisation.id}"
    assert organisation.verification_status is VerificationStatus.PENDING
    assert organisation.charity_number == "1098765"
    assert organisation.registration_rating == "Good"
    assert organisation.insurance_expires_on == IN_A_YEAR
    membership = db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.organisation_id == organisation.id))
    assert (membership.user_id, membership.role) == (user.id, MembershipRole.OWNER)
    council_mail = emails_to(app.config["COUNCIL_EMAIL"])
    assert [m.subject for m in council_mail] == ["New provider to check: Riverside Befriending"]
    assert link_in(council_mail[0].body, "/council/providers/") == f"/council/providers/{organisation.id}"
    assert audit_actions(organisation.id) == ["organisation.created"]

    page = parse(client.get(response.headers["Location"]))
    assert texts(page, "//p[@id='verification-state']//strong") == ["Waiting for council check"]
    assert texts(page, "//div[contains(@class, 'govuk-notification-banner--success')]//p") == [
        "Riverside Befriending has been sent to the council for checking. We will email you when it is approved."]


def test_an_empty_organisation_form_says_what_to_enter_in_govuk_wording(client, session):
    sign_in(client, provider())

    response = submit_organisation(client, name="", kind="", description="", email="",
                                   **date_fields("insurance_expires_on", None))

    page = parse(response)
    assert response.status_code == 200
    assert error_messages(page) == [
        "Enter the name of the organisation",
        "Select what kind of organisation it is",
        "Enter a description of the organisation",
        "Enter the organisation's email address",
    ]
    assert texts(page, "//title")[0].startswith("Error: Add your organisation")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_badly_formatted_numbers_addresses_and_dates_are_refused_with_govuk_messages(client, session):
    sign_in(client, provider())

    response = submit_organisation(
        client,
        website="javascript:alert(1)",
        email="not-an-email",
        charity_number="12345",
        company_number="1234567",
        regulator="ofsted",
        registration_id="EY123456",
        registration_rating="Requires improvement",
        **date_fields("insurance_expires_on", date.today() - timedelta(days=1)),
    )

    page = parse(response)
    assert error_messages(page) == [
        "Enter a website address in the correct format, like https://www.example.org",
        "Enter an email address in the correct format, like name@example.com",
        "Enter a charity number in the correct format, like 1234567, SC012345 or NIC101234",
        "Company number must be 8 characters, like 01234567 or SC123456",
        "Select a rating Ofsted gives: Outstanding, Good, Requires improvement to be good or Inadequate",
        "The date your public liability insurance ends must be in the future",
    ]
    assert page.xpath("//div[contains(@class, 'govuk-error-summary')]//a/@href")[-1] == "#insurance_expires_on-day"


def test_scottish_and_northern_irish_charity_numbers_and_letter_prefixed_company_numbers_are_accepted(
        client, session):
    sign_in(client, provider())

    scottish = submit_organisation(client, name="Glen Carers", charity_number="sc012345",
                                   company_number="SC123456")
    northern_irish = submit_organisation(client, name="Lough Advocacy", charity_number="NIC 101234")

    assert scottish.status_code == northern_irish.status_code == 302
    saved = dict(db.session.execute(sa.select(Organisation.name, Organisation.charity_number)).all())
    assert saved == {"Glen Carers": "SC012345", "Lough Advocacy": "NIC101234"}


def test_a_charity_must_give_its_number_and_a_date_must_be_real(client, session):
    sign_in(client, provider())

    response = submit_organisation(client, charity_number="", insurance_expires_on=["31", "2", "2030"])

    assert error_messages(parse(response)) == [
        "Enter the charity number",
        "The date your public liability insurance ends must be a real date",
    ]


def test_a_sole_trader_must_give_a_dbs_check_from_the_last_three_years(client, session):
    sign_in(client, provider())
    sole_trader = {"name": "Sam Jones PA", "kind": "sole_trader", "charity_number": "", "regulator": "",
                   "registration_id": "", "registration_rating": ""}

    missing = submit_organisation(client, **sole_trader)
    future = submit_organisation(client, **sole_trader,
                                 **date_fields("dbs_checked_on", date.today() + timedelta(days=3)))
    too_old = submit_organisation(client, **sole_trader,
                                  **date_fields("dbs_checked_on", date.today() - timedelta(days=3 * 366)))
    recent = submit_organisation(client, **sole_trader, **date_fields("dbs_checked_on", LAST_YEAR))

    assert field_error(parse(missing), "dbs_checked_on") == ["Enter the date of your DBS check"]
    assert field_error(parse(future), "dbs_checked_on") == ["The date of your DBS check must be today or in the past"]
    assert field_error(parse(too_old), "dbs_checked_on") == ["Your DBS check must be from the last 3 years"]
    assert recent.status_code == 302
    saved = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Sam Jones PA"))
    assert (saved.kind, saved.dbs_checked_on) == (OrganisationKind.SOLE_TRADER, LAST_YEAR)


def test_the_date_boxes_are_labelled_in_welsh_for_welsh_readers(client, session):
    sign_in(client, provider())

    page = parse(client.get("/provider/organisations/new?lang=cy"))

    labels = texts(page, "//div[@id='insurance_expires_on']//label")
    assert len(labels) == 3
    assert labels != ["Day", "Month", "Year"]


# --- Editing ------------------------------------------------------------------------------------------------


def test_an_approved_organisation_that_changes_its_insurance_stays_approved_and_is_flagged_to_the_council(
        client, session, app):
    organisation = make_organisation(name="Birch Home Care", kind=OrganisationKind.COMPANY,
                                     company_number="01234567", email="office@birch.example",
                                     description="Home care.", insurance_expires_on=IN_A_YEAR,
                                     verified_at=utcnow() - timedelta(days=30))
    sign_in(client, provider(organisations=[organisation]))
    later = IN_A_YEAR + timedelta(days=200)

    response = post_form(client, f"/provider/organisations/{organisation.id}/edit",
                         **date_fields("insurance_expires_on", later))

    assert response.status_code == 302
    assert organisation.insurance_expires_on == later
    assert organisation.verification_status is VerificationStatus.APPROVED
    assert audit_actions(organisation.id) == ["organisation.updated", "organisation.verification_details_changed"]
    assert [m.subject for m in emails_to(app.config["COUNCIL_EMAIL"])] == [
        "Provider details changed since approval: Birch Home Care"]


def test_a_rejected_organisation_that_edits_its_details_goes_back_to_the_council(client, session, app):
    organisation = make_organisation(name="Cedar Club", approved=False, kind=OrganisationKind.COMMUNITY_GROUP,
                                     email="cedar@example.org", description="A club.",
                                     insurance_expires_on=IN_A_YEAR, verification_note="No insurance shown")
    organisation.verification_status = VerificationStatus.REJECTED
    sign_in(client, provider(organisations=[organisation]))

    post_form(client, f"/provider/organisations/{organisation.id}/edit", description="A club for carers.")

    assert organisation.verification_status is VerificationStatus.PENDING
    assert [m.subject for m in emails_to(app.config["COUNCIL_EMAIL"])] == [
        "Provider sent again for checking: Cedar Club"]


def test_an_editor_cannot_change_the_organisations_details(client, session):
    organisation = make_organisation()
    sign_in(client, provider(organisations=[organisation], membership_role=MembershipRole.EDITOR))

    page = parse(client.get(f"/provider/organisations/{organisation.id}"))

    assert client.get(f"/provider/organisations/{organisation.id}/edit").status_code == 404
    assert page.xpath("//ul[@id='owner-actions']") == []


# --- Asking to join -----------------------------------------------------------------------------------------


def test_a_provider_finds_an_approved_organisation_asks_to_join_and_an_owner_lets_them_in(client, session):
    organisation = make_organisation(name="Riverside Befriending")
    make_organisation(name="Riverside Pending Club", approved=False)
    owner = provider(name="Olu Owner", email="olu@riverside.example", organisations=[organisation])
    joiner = provider(name="Jo Joiner", email="jo@example.org")
    sign_in(client, joiner)

    results = parse(client.get("/provider/organisations/find?q=riverside"))
    assert texts(results, "//ul[@id='results']//a") == ["Ask to join Riverside Befriending"]

    sent = post_form(client, f"/provider/organisations/{organisation.id}/join",
                     message="I run the Tuesday group.")
    assert urlsplit(sent.headers["Location"]).path == "/provider"
    [request_mail] = emails_to("olu@riverside.example")
    assert request_mail.subject == "Jo Joiner has asked to join Riverside Befriending"
    assert "I run the Tuesday group." in request_mail.body

    again = post_form(client, f"/provider/organisations/{organisation.id}/join", message="Please?")
    assert urlsplit(again.headers["Location"]).path == "/provider"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JoinRequest)) == 1
    dashboard = parse(client.get("/provider"))
    assert texts(dashboard, "//ul[@id='my-join-requests']/li")[0].startswith(
        "You asked to join Riverside Befriending on")

    sign_in(client, owner)
    page = parse(client.get(f"/provider/organisations/{organisation.id}"))
    assert texts(page, "//li[@class='app-join-request']//h3") == ["Jo Joiner (jo@example.org)"]
    post_form(client, f"/provider/organisations/{organisation.id}", "//li[@class='app-join-request']//form",
              approve="Let them join")

    membership = db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.user_id == joiner.id))
    assert (membership.organisation_id, membership.role) == (organisation.id, MembershipRole.EDITOR)
    assert [m.subject for m in emails_to("jo@example.org")] == ["You have joined Riverside Befriending"]
    assert audit_actions(organisation.id) == ["join_request.created", "join_request.approved"]


def test_an_owner_can_turn_down_a_request_and_the_requester_is_told(client, session):
    organisation = make_organisation(name="Willow Advocacy")
    owner = provider(organisations=[organisation])
    joiner = provider(email="sam@example.org")
    db.session.add(JoinRequest(organisation=organisation, user=joiner, message="Hello"))
    sign_in(client, owner)

    post_form(client, f"/provider/organisations/{organisation.id}", "//li[@class='app-join-request']//form",
              reject="Turn down")

    request = db.session.scalar(sa.select(JoinRequest))
    assert request.state is RequestState.REJECTED
    assert not db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.user_id == joiner.id))
    assert [m.subject for m in emails_to("sam@example.org")] == ["Your request to join Willow Advocacy"]


def test_a_provider_cannot_ask_to_join_an_organisation_the_council_has_not_approved(client, session):
    waiting = make_organisation(approved=False)
    sign_in(client, provider())

    assert client.get(f"/provider/organisations/{waiting.id}/join").status_code == 404


# --- Members and invitations --------------------------------------------------------------------------------


def invite(client, organisation, email: str, role: str = "editor"):
    return post_form(client, f"/provider/organisations/{organisation.id}/members/invite", email=email, role=role)


def test_an_invited_person_signs_in_with_the_invited_address_and_joins(client, session):
    organisation = make_organisation(name="Oak Shared Lives")
    sign_in(client, provider(name="Olu Owner", organisations=[organisation]))

    response = invite(client, organisation, "New.Person@Example.org", "owner")

    assert urlsplit(response.headers["Location"]).path == f"/provider/organisations/{organisation.id}/members"
    [mail] = emails_to("new.person@example.org")
    link = link_in(mail.body, "/provider/invitations/")
    token = link.rsplit("/", 1)[1]
    invitation = db.session.scalar(sa.select(OrganisationInvitation))
    assert invitation.token_hash != token and len(invitation.token_hash) == 64  # only the sha256 is stored
    members_page = parse(client.get(f"/provider/organisations/{organisation.id}/members"))
    assert texts(members_page, "//table[@id='invitations']//tbody//th") == ["new.person@example.org"]

    with client.session_transaction() as flask_session:
        flask_session.clear()  # signed out: the invitee opens the emailed link
    anonymous = parse(client.get(link))
    sign_in_link = urlsplit(anonymous.xpath("//div[@id='invitation-next-steps']//a/@href")[0])
    assert (sign_in_link.path, parse_qs(sign_in_link.query)["next"]) == ("/account/sign-in", [link])

    invitee = make_user(email="new.person@example.org", name="New Person")  # signed up: not yet a provider
    sign_in(client, invitee)
    accepted = post_form(client, link)

    assert urlsplit(accepted.headers["Location"]).path == f"/provider/organisations/{organisation.id}"
    membership = db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.user_id == invitee.id))
    assert membership.role is MembershipRole.OWNER
    assert invitee.has_role(Role.PROVIDER)
    assert invitation.accepted_at is not None
    assert audit_actions(organisation.id) == ["invitation.created", "invitation.accepted"]
    assert parse(client.get(link)).xpath("//p[@id='invitation-problem']")[0].text_content().strip() == (
        "The invitation has already been accepted.")


def test_an_invitation_cannot_be_accepted_by_someone_signed_in_with_another_address(client, session):
    organisation = make_organisation()
    sign_in(client, provider(organisations=[organisation]))
    invite(client, organisation, "invited@example.org")
    link = link_in(emails_to("invited@example.org")[0].body, "/provider/invitations/")
    someone_else = provider(email="someone.else@example.org")
    sign_in(client, someone_else)

    page = parse(client.get(link))
    forged = client.post(link + "/accept", data=form_data(parse(client.get("/provider/organisations/new")),
                                                          "//main//form"))

    assert page.xpath("//main//form") == []
    assert "invited@example.org" in texts(page, "//div[@id='wrong-account']")[0]
    assert forged.status_code == 403
    assert not db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.user_id == someone_else.id))


def test_expired_and_revoked_invitations_cannot_be_used(client, session):
    organisation = make_organisation()
    owner = provider(organisations=[organisation])
    sign_in(client, owner)
    invite(client, organisation, "late@example.org")
    invite(client, organisation, "revoked@example.org")
    late_link = link_in(emails_to("late@example.org")[0].body, "/provider/invitations/")
    revoked_link = link_in(emails_to("revoked@example.org")[0].body, "/provider/invitations/")
    late = db.session.scalar(sa.select(OrganisationInvitation).where(
        OrganisationInvitation.email == "late@example.org"))
    late.expires_at = utcnow() - timedelta(minutes=1)
    post_form(client, f"/provider/organisations/{organisation.id}/members", "//table[@id='invitations']//form")

    revoked = db.session.scalar(sa.select(OrganisationInvitation).where(
        OrganisationInvitation.email == "revoked@example.org"))
    assert revoked.revoked_at is not None
    late_user = provider(email="late@example.org")
    sign_in(client, late_user)
    late_page = client.get(late_link)
    token = csrf_token(parse(client.get("/provider/organisations/new")))
    late_accept = client.post(late_link + "/accept", data={"csrf_token": token})
    sign_in(client, provider(email="revoked@example.org"))
    revoked_page = client.get(revoked_link)

    assert late_page.status_code == late_accept.status_code == revoked_page.status_code == 404
    assert texts(parse(late_page), "//p[@id='invitation-problem']") == [
        "The link has expired. Invitation links work for 7 days."]
    assert texts(parse(revoked_page), "//p[@id='invitation-problem']") == [
        "The organisation has cancelled this invitation."]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrganisationMembership)) == 1
    assert "invitation.revoked" in audit_actions(organisation.id)


def test_an_invitation_waiting_for_a_user_is_on_their_dashboard_to_accept(client, session):
    organisation = make_organisation(name="Holly Respite")
    sign_in(client, provider(organisations=[organisation]))
    invite(client, organisation, "dash@example.org")
    user = provider(email="dash@example.org")
    sign_in(client, user)

    response = post_form(client, "/provider", "//ul[@id='invitations']//form")

    assert urlsplit(response.headers["Location"]).path == f"/provider/organisations/{organisation.id}"
    assert [o.name for o in user.organisations] == ["Holly Respite"]


def test_inviting_a_member_or_inviting_twice_is_refused_politely(client, session):
    organisation = make_organisation(name="Elm Carers")
    sign_in(client, provider(email="owner@elm.example", organisations=[organisation]))
    invite(client, organisation, "twice@example.org")

    member = invite(client, organisation, "owner@elm.example")
    twice = invite(client, organisation, "twice@example.org")
    empty = invite(client, organisation, "", role="")

    assert error_messages(parse(member)) == ["This person is already a member of Elm Carers"]
    assert error_messages(parse(twice)) == [
        "An invitation has already been sent to this email address. Cancel it to send a new one"]
    assert error_messages(parse(empty)) == ["Enter the email address of the person you want to invite",
                                            "Select what they can do"]
    assert len(emails_to("twice@example.org")) == 1


def test_the_last_owner_cannot_be_removed_or_made_an_editor(client, session):
    organisation = make_organisation()
    owner = provider(organisations=[organisation])
    editor = provider(name="Eddie Editor", organisations=[organisation], membership_role=MembershipRole.EDITOR)
    sign_in(client, owner)
    own = db.session.scalar(sa.select(OrganisationMembership).where(OrganisationMembership.user_id == owner.id))
    theirs = db.session.scalar(sa.select(OrganisationMembership).where(OrganisationMembership.user_id == editor.id))
    base = f"/provider/organisations/{organisation.id}/members"

    removal = post_form(client, f"{base}/{own.id}/remove")
    demotion = post_form(client, f"{base}/{own.id}/role", role="editor")

    assert removal.status_code == 400
    assert error_messages(parse(removal))[0].endswith(
        "is the only owner. Make someone else an owner before removing them")
    assert error_messages(parse(demotion)) == [
        "An organisation must have at least one owner. Make someone else an owner first"]
    assert own.role is MembershipRole.OWNER

    promoted = post_form(client, f"{base}/{theirs.id}/role", role="owner")
    removed_self = post_form(client, f"{base}/{own.id}/remove")

    assert promoted.status_code == removed_self.status_code == 302
    assert urlsplit(removed_self.headers["Location"]).path == "/provider"
    assert [m.user_id for m in db.session.scalars(sa.select(OrganisationMembership))] == [editor.id]
    assert audit_actions(organisation.id) == ["membership.role_changed", "membership.removed"]


def test_a_user_can_belong_to_several_organisations(client, session):
    first, second = make_organisation(name="Alpha Care"), make_organisation(name="Beta Care")
    user = provider(organisations=[first])
    db.session.add(OrganisationMembership(user=user, organisation=second, role=MembershipRole.EDITOR))
    sign_in(client, user)

    page = parse(client.get("/provider"))

    assert texts(page, "//div[@class='app-organisation-summary']//h3") == ["Alpha Care", "Beta Care"]


# --- Nobody reaches another organisation's people ----------------------------------------------------------


def test_a_provider_cannot_see_or_change_another_organisations_members_or_requests(client, session):
    mine, theirs = make_organisation(), make_organisation()
    sign_in(client, provider(organisations=[mine]))
    their_owner = provider(organisations=[theirs])
    their_membership = db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.user_id == their_owner.id))
    their_request = JoinRequest(organisation=theirs, user=provider(), message="let me in")
    db.session.add(their_request)
    their_invitation = OrganisationInvitation(organisation=theirs, email="x@example.org", token_hash="0" * 64,
                                              expires_at=utcnow() + timedelta(days=7))
    db.session.add(their_invitation)
    db.session.flush()
    token = csrf_token(parse(client.get("/provider/organisations/new")))
    base = f"/provider/organisations/{theirs.id}"

    answers = [
        client.get(base).status_code,
        client.get(f"{base}/edit").status_code,
        client.get(f"{base}/members").status_code,
        client.get(f"{base}/members/invite").status_code,
        client.get(f"{base}/members/{their_membership.id}/role").status_code,
        client.post(f"{base}/members/{their_membership.id}/remove", data={"csrf_token": token}).status_code,
        client.post(f"{base}/join-requests/{their_request.id}",
                    data={"csrf_token": token, "approve": "Let them join"}).status_code,
        client.post(f"{base}/invitations/{their_invitation.id}/revoke", data={"csrf_token": token}).status_code,
        # Their records through my organisation's address are not found either.
        client.post(f"/provider/organisations/{mine.id}/join-requests/{their_request.id}",
                    data={"csrf_token": token, "approve": "Let them join"}).status_code,
    ]

    assert answers == [404, 404, 404, 404, 404, 404, 404, 404, 404]
    assert their_request.state is RequestState.PENDING and their_invitation.revoked_at is None
    assert db.session.get(OrganisationMembership, their_membership.id) is not None


def test_every_onboarding_page_has_unique_ids_for_assistive_technology(client, session):
    organisation = make_organisation(name="Rowan Care", kind=OrganisationKind.SOLE_TRADER)
    owner = provider(organisations=[organisation])
    editor = provider(organisations=[organisation], membership_role=MembershipRole.EDITOR)
    db.session.add(JoinRequest(organisation=organisation, user=provider(), message="Hello"))
    db.session.add(JoinRequest(organisation=organisation, user=provider(), message="Hello too"))
    sign_in(client, owner)
    invite(client, organisation, "one@example.org")
    invite(client, organisation, "two@example.org")
    link = link_in(emails_to("one@example.org")[0].body, "/provider/invitations/")
    base = f"/provider/organisations/{organisation.id}"
    editor_membership = db.session.scalar(sa.select(OrganisationMembership).where(
        OrganisationMembership.user_id == editor.id))
    pages = ["/provider", "/provider/organisations/new", base, f"{base}/edit", f"{base}/members",
             f"{base}/members/invite", f"{base}/members/{editor_membership.id}/role",
             f"{base}/members/{editor_membership.id}/remove", "/provider/organisations/find?q=rowan",
             f"{base}/join", link]

    duplicated = {}
    for page in pages:
        for lang in ("en", "cy"):
            response = client.get(f"{page}{'&' if '?' in page else '?'}lang={lang}")
            assert response.status_code == 200, page
            ids = parse(response).xpath("//@id")
            repeats = sorted({i for i in ids if ids.count(i) > 1})
            if repeats:
                duplicated[f"{page} ({lang})"] = repeats

    assert duplicated == {}
