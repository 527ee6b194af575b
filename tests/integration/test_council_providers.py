"""The council approves, turns down and suspends providers; suspension takes their listings off the site."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import (
    AuditEvent,
    ListingChange,
    MembershipRole,
    OrganisationKind,
    OutboxMessage,
    RegulatorBody,
    Role,
    VerificationStatus,
    utcnow,
)
from search import indexer, store
from tests.support.factories import make_organisation, make_service, make_user, sign_in
from tests.support.html import form_data, parse, texts

SOON = date.today() + timedelta(days=10)
LATER = date.today() + timedelta(days=300)


def moderator():
    return make_user(roles=(Role.COUNCIL_MODERATOR,), name="Mo Moderator")


def owner_of(organisation, email: str):
    return make_user(roles=(Role.PROVIDER,), email=email, organisations=[organisation],
                     membership_role=MembershipRole.OWNER)


def subjects_to(address: str) -> list[str]:
    return list(db.session.scalars(sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.created_at)))


def events(organisation, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.organisation_id == organisation.id,
                                                               AuditEvent.action == action)))


def decide(client, organisation, form_id: str, **fields):
    page = parse(client.get(f"/council/providers/{organisation.id}"))
    form = page.xpath(f"//form[@id='{form_id}']")[0]
    return client.post(form.get("action"), data=form_data(page, f"//form[@id='{form_id}']", **fields))


def error_messages(document) -> list[str]:
    return texts(document, "//div[contains(@class, 'govuk-error-summary')]//li")


def indexed_ids() -> set[str]:
    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    with index.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


def test_the_queue_lists_providers_waiting_oldest_first_with_what_the_council_checks(client, session):
    first = make_organisation(name="Zinnia Care", approved=False, kind=OrganisationKind.SOLE_TRADER,
                              created_at=utcnow() - timedelta(days=3), insurance_expires_on=SOON,
                              dbs_checked_on=date.today() - timedelta(days=4 * 365))
    make_organisation(name="Aster Support", approved=False, kind=OrganisationKind.CHARITY)
    make_organisation(name="Already Approved")
    sign_in(client, moderator())

    queue = parse(client.get("/council/providers"))
    detail = parse(client.get(f"/council/providers/{first.id}"))

    assert texts(queue, "//table[@id='providers']//tbody//th") == ["Zinnia Care", "Aster Support"]
    rows = dict(zip(texts(detail, "//dl[@id='organisation-details']//dt"),
                    texts(detail, "//dl[@id='organisation-details']//dd"), strict=True))
    assert rows["Kind of organisation"] == "Sole trader or self-employed personal assistant"
    assert rows["Public liability insurance ends"].endswith("Ends within 30 days")
    assert rows["DBS check date"].endswith("Older than 3 years or missing")
    assert detail.xpath("//form[@id='approve-form']") and detail.xpath("//form[@id='reject-form']")


def test_a_moderator_approves_a_provider_and_its_owners_are_emailed(client, session):
    organisation = make_organisation(name="Aster Support", approved=False, kind=OrganisationKind.CHARITY,
                                     charity_number="1098765", regulator=RegulatorBody.CQC,
                                     registration_id="1-123", registration_rating="Good")
    service = make_service(organisation=organisation, name="Aster befriending")
    owner_of(organisation, "owner@aster.example")
    sign_in(client, moderator())

    detail = parse(client.get(f"/council/providers/{organisation.id}"))
    response = decide(client, organisation, "approve-form")

    assert "Good" in texts(detail, "//dl[@id='organisation-details']//dd")
    assert urlsplit(response.headers["Location"]).path == "/council/providers"
    assert organisation.verification_status is VerificationStatus.APPROVED
    assert organisation.verified_at is not None
    assert subjects_to("owner@aster.example") == ["Aster Support is approved"]
    [event] = events(organisation, "organisation.approved")
    assert (event.before["verification_status"], event.after["verification_status"]) == ("pending", "approved")
    assert db.session.scalar(sa.select(ListingChange.subject_id)) == service.id  # its listings can be searched


def test_turning_a_provider_down_needs_a_reason_which_the_owners_receive(client, session):
    organisation = make_organisation(name="Aster Support", approved=False)
    owner_of(organisation, "owner@aster.example")
    sign_in(client, moderator())

    without_reason = decide(client, organisation, "reject-form", **{"reject-reason": "  "})
    with_reason = decide(client, organisation, "reject-form",
                         **{"reject-reason": "The charity number is not on the register."})

    assert without_reason.status_code == 400
    assert error_messages(parse(without_reason)) == ["Enter the reason for not approving the provider"]
    assert with_reason.status_code == 302
    assert organisation.verification_status is VerificationStatus.REJECTED
    assert organisation.verification_note == "The charity number is not on the register."
    assert subjects_to("owner@aster.example") == ["Aster Support has not been approved"]
    mail_body = db.session.scalar(sa.select(OutboxMessage.body))
    assert "The charity number is not on the register." in mail_body
    assert len(events(organisation, "organisation.rejected")) == 1


def test_suspending_a_provider_takes_its_listings_off_the_site_and_out_of_search(client, session, app):
    organisation = make_organisation(name="Birch Home Care", kind=OrganisationKind.COMPANY,
                                     insurance_expires_on=LATER)
    service = make_service(organisation=organisation, name="Birch overnight sitting")
    owner_of(organisation, "owner@birch.example")
    indexer.rebuild()
    assert str(service.id) in indexed_ids()
    assert client.get(f"/services/{service.id}").status_code == 200
    sign_in(client, moderator())

    response = decide(client, organisation, "suspend-form",
                      **{"suspend-reason": "Insurance certificate was forged."})

    assert response.status_code == 302
    assert organisation.verification_status is VerificationStatus.SUSPENDED
    assert str(service.id) not in indexed_ids()
    assert client.get(f"/services/{service.id}").status_code == 404
    results = parse(client.get("/services?q=overnight+sitting"))
    assert f"/services/{service.id}" not in results.xpath("//main//a/@href")
    assert subjects_to("owner@birch.example") == ["Birch Home Care has been suspended"]
    [event] = events(organisation, "organisation.suspended")
    assert event.after["verification_note"] == "Insurance certificate was forged."

    reinstated = decide(client, organisation, "approve-form")
    assert reinstated.status_code == 302
    assert str(service.id) in indexed_ids()


def test_a_suspension_needs_a_reason(client, session):
    organisation = make_organisation(name="Birch Home Care")
    sign_in(client, moderator())

    response = decide(client, organisation, "suspend-form", **{"suspend-reason": ""})

    assert response.status_code == 400
    assert error_messages(parse(response)) == ["Enter the reason for suspending the provider"]
    assert texts(parse(response), "//title")[0].startswith("Error:")
    assert organisation.verification_status is VerificationStatus.APPROVED


def test_changed_details_are_flagged_to_the_council_until_marked_checked(client, session):
    organisation = make_organisation(name="Cedar Carers", kind=OrganisationKind.CHARITY, charity_number="1234567",
                                     email="cedar@example.org", description="Carers' support.",
                                     insurance_expires_on=LATER, verified_at=utcnow() - timedelta(days=60))
    owner = owner_of(organisation, "owner@cedar.example")
    sign_in(client, owner)
    page = parse(client.get(f"/provider/organisations/{organisation.id}/edit"))
    data = form_data(page, charity_number="7654321")
    data["insurance_expires_on"] = [str(LATER.day), str(LATER.month), str(LATER.year)]
    data["dbs_checked_on"] = ["", "", ""]
    client.post(f"/provider/organisations/{organisation.id}/edit", data=data)
    sign_in(client, moderator())

    queue = parse(client.get("/council/providers"))
    detail = parse(client.get(f"/council/providers/{organisation.id}"))
    checked = decide(client, organisation, "checked-form")

    assert texts(queue, "//ul[@id='changed-since-approval']/li") == ["Cedar Carers"]
    changes = texts(detail, "//div[@id='details-changed']//li")
    assert len(changes) == 1 and "Charity number" in changes[0] and "7654321" in changes[0]
    assert checked.status_code == 302
    assert parse(client.get("/council/providers")).xpath("//ul[@id='changed-since-approval']") == []
    assert len(events(organisation, "organisation.details_checked")) == 1


def test_the_council_sees_approved_providers_whose_insurance_ends_within_30_days(client, session):
    make_organisation(name="Ended Ltd", insurance_expires_on=date.today() - timedelta(days=2))
    make_organisation(name="Soon Ltd", insurance_expires_on=SOON)
    make_organisation(name="Fine Ltd", insurance_expires_on=LATER)
    make_organisation(name="Waiting Ltd", approved=False, insurance_expires_on=SOON)
    sign_in(client, moderator())

    page = parse(client.get("/council/providers/insurance-expiring"))
    queue = parse(client.get("/council/providers"))

    rows = [texts(row, "./*") for row in page.xpath("//table[@id='expiring']//tbody/tr")]
    assert [(row[0], row[2]) for row in rows] == [("Ended Ltd", "Ended"), ("Soon Ltd", "Ends soon")]
    assert "2 approved providers' insurance ends within 30 days or has ended." in texts(
        queue, "//div[@id='insurance-banner']//p")[0]


def test_only_council_moderators_can_approve_providers(client, session):
    organisation = make_organisation(approved=False)
    provider = owner_of(organisation, "owner@example.org")
    editor = make_user(roles=(Role.COUNCIL_EDITOR,))

    sign_in(client, provider)
    as_provider = client.get("/council/providers")
    sign_in(client, editor)
    as_editor = client.get(f"/council/providers/{organisation.id}")
    sign_in(client, make_user(roles=(Role.COUNCIL_ADMIN,)))
    as_admin = client.get(f"/council/providers/{organisation.id}")

    assert (as_provider.status_code, as_editor.status_code, as_admin.status_code) == (403, 403, 200)


def test_a_decision_that_does_not_fit_the_state_is_refused(client, session):
    organisation = make_organisation(name="Approved Ltd")
    sign_in(client, moderator())
    page = parse(client.get(f"/council/providers/{organisation.id}"))
    token = page.xpath("//form[@id='suspend-form']//input[@name='suspend-csrf_token']/@value")[0]

    response = client.post(f"/council/providers/{organisation.id}/reject",
                           data={"reject-csrf_token": token, "reject-reason": "Too late"})

    assert response.status_code == 302
    assert organisation.verification_status is VerificationStatus.APPROVED
    assert events(organisation, "organisation.rejected") == []


def test_every_provider_approval_page_has_unique_ids_in_english_and_welsh(client, session):
    pending = make_organisation(name="Pending Ltd", approved=False, kind=OrganisationKind.SOLE_TRADER,
                                insurance_expires_on=SOON)
    approved = make_organisation(name="Approved Ltd", insurance_expires_on=SOON)
    sign_in(client, moderator())
    pages = ["/council/providers", "/council/providers?status=approved", "/council/providers/insurance-expiring",
             f"/council/providers/{pending.id}", f"/council/providers/{approved.id}"]

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
