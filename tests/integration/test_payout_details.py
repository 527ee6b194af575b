"""Providers' owners give the bank details the council pays them into; a council direct-payments officer
verifies or rejects them, and the owners are emailed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import (
    AuditEvent,
    ListingChange,
    MembershipRole,
    OfferStatus,
    OutboxMessage,
    PayoutDetails,
    PayoutDetailsStatus,
    Role,
)
from tests.support.factories import make_organisation, make_service, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, texts
from tests.support.offer_factories import make_offer, make_payout_details

ACCOUNT_NUMBER = "00733445"


@pytest.fixture
def organisation(session):
    return make_organisation(name="Kestrel Care")


@pytest.fixture
def owner(organisation):
    return make_user(name="Olu Owner", email="olu@kestrel.example", roles=(Role.PROVIDER,),
                     organisations=[organisation])


def dp_officer():
    return make_user(name="Nia Officer", roles=(Role.COUNCIL_DP_OFFICER,))


def save_bank_details(client, organisation, **fields):
    path = f"/provider/organisations/{organisation.id}/payout-details/change"
    page = parse(client.get(path))
    return client.post(path, data=form_data(page, **{"account_name": "Kestrel Care", "sort_code": "30-94-30",
                                                      "account_number": ACCOUNT_NUMBER, **fields}))


def payout_of(organisation) -> PayoutDetails | None:
    return db.session.scalar(sa.select(PayoutDetails).where(PayoutDetails.organisation_id == organisation.id))


def error_messages(document) -> list[str]:
    return texts(document, "//div[contains(@class, 'govuk-error-summary')]//li")


def outbox_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.created_at)))


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def decide(client, payout, form_id: str, **fields):
    page = parse(client.get(f"/council/payout-details/{payout.id}"))
    form = page.xpath(f"//form[@id='{form_id}']")[0]
    return client.post(form.get("action"), data=form_data(page, f"//form[@id='{form_id}']", **fields))


# --- The provider's owners -----------------------------------------------------------------------------------


def test_an_owner_gives_bank_details_and_afterwards_sees_only_the_last_four_digits(client, organisation, owner):
    sign_in(client, owner)

    response = save_bank_details(client, organisation, sort_code="30 94 30")
    page = client.get(response.headers["Location"])

    payout = payout_of(organisation)
    assert (payout.account_name, payout.sort_code, payout.account_number) == ("Kestrel Care", "309430", ACCOUNT_NUMBER)
    assert payout.status is PayoutDetailsStatus.SUBMITTED
    assert payout.submitted_by_id == owner.id
    document = parse(page)
    assert texts(document, "//dl[@id='payout-details']//dd") == ["Kestrel Care", "30-94-30", "Ending in 3445"]
    assert ACCOUNT_NUMBER not in page.get_data(as_text=True)
    change_page = client.get(f"/provider/organisations/{organisation.id}/payout-details/change")
    assert ACCOUNT_NUMBER not in change_page.get_data(as_text=True)
    assert parse(change_page).xpath("//input[@name='account_number']/@value") in ([], [""])


def test_the_audit_trail_never_holds_the_full_account_number(client, organisation, owner):
    sign_in(client, owner)

    save_bank_details(client, organisation)
    save_bank_details(client, organisation, account_number="12345678")

    submitted, = audit_events("payout_details.submitted")
    changed, = audit_events("payout_details.changed")
    assert submitted.after["account_number"] == "****3445"
    assert (changed.before["account_number"], changed.after["account_number"]) == ("****3445", "****5678")
    assert submitted.organisation_id == organisation.id
    everything = json.dumps([[e.before, e.after, e.details] for e in db.session.scalars(sa.select(AuditEvent))])
    assert ACCOUNT_NUMBER not in everything and "12345678" not in everything


def test_the_council_is_emailed_new_bank_details_to_check(client, organisation, owner):
    sign_in(client, owner)

    save_bank_details(client, organisation)

    message, = outbox_to(current_app.config["COUNCIL_EMAIL"])
    assert message.subject == "Payout details to check: Kestrel Care"
    assert f"/council/payout-details/{payout_of(organisation).id}" in message.body
    assert ACCOUNT_NUMBER not in message.body


@pytest.mark.parametrize(("fields", "message"), [
    ({"account_name": ""}, "Enter the name on the account"),
    ({"account_name": "Kestrel Care Services Ltd"}, "Name on the account must be 18 characters or fewer"),
    ({"account_name": "Kestrel <Care>"}, "Name on the account must only include letters a to z, numbers, spaces, "
                                         "full stops, hyphens, forward slashes and ampersands"),
    ({"sort_code": ""}, "Enter a sort code"),
    ({"sort_code": "30-94-3O"}, "Enter a valid sort code like 309430"),
    ({"sort_code": "30943"}, "Sort code must be 6 digits long"),
    ({"account_number": ""}, "Enter an account number"),
    ({"account_number": "0073344X"}, "Enter a valid account number like 00733445"),
    ({"account_number": "733445"}, "Account number must be 8 digits long"),
])
def test_wrong_bank_details_are_refused_in_govuk_wording(client, organisation, owner, fields, message):
    sign_in(client, owner)

    response = save_bank_details(client, organisation, **fields)

    assert response.status_code == 200
    assert error_messages(parse(response)) == [message]
    assert payout_of(organisation) is None


def test_changing_verified_details_sends_them_back_to_the_council_and_hides_offers_until_checked(
        client, organisation, owner):
    service = make_service(organisation=organisation)
    offer = make_offer(service=service, title="PA hours")
    payout = make_payout_details(organisation, decision_note="")
    sign_in(client, owner)
    assert "PA hours" in texts(parse(client.get(f"/services/{service.id}")), "//div[@id='offers']//h3")
    changes_before = db.session.scalar(sa.select(sa.func.count()).select_from(ListingChange))

    save_bank_details(client, organisation, account_number="12345678")

    assert payout.status is PayoutDetailsStatus.SUBMITTED
    assert payout.decided_at is None and payout.decided_by_id is None
    assert offer.status is OfferStatus.PUBLISHED  # nothing withdrawn
    assert texts(parse(client.get(f"/services/{service.id}")), "//div[@id='offers']//h3") == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListingChange)) == changes_before + 1


def test_saving_the_same_details_again_changes_nothing(client, organisation, owner):
    payout = make_payout_details(organisation, account_name="Kestrel Care")
    sign_in(client, owner)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    save_bank_details(client, organisation)

    assert payout.status is PayoutDetailsStatus.VERIFIED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before


def test_only_the_organisations_owners_can_see_or_change_its_bank_details(client, organisation, owner):
    make_payout_details(organisation)
    editor = make_user(roles=(Role.PROVIDER,), organisations=[organisation], membership_role=MembershipRole.EDITOR)
    stranger = make_user(roles=(Role.PROVIDER,), organisations=[make_organisation(name="Birch Support")])
    answers = {}
    for name, user in (("editor", editor), ("other organisation's owner", stranger)):
        sign_in(client, user)
        token = csrf_token(parse(client.get("/account")))
        answers[name] = [
            client.get(f"/provider/organisations/{organisation.id}/payout-details").status_code,
            client.get(f"/provider/organisations/{organisation.id}/payout-details/change").status_code,
            client.post(f"/provider/organisations/{organisation.id}/payout-details/change", data={
                "csrf_token": token, "account_name": "Thief", "sort_code": "111111",
                "account_number": "22222222"}).status_code,
        ]

    assert answers == {"editor": [404, 404, 404], "other organisation's owner": [404, 404, 404]}
    assert payout_of(organisation).account_number == ACCOUNT_NUMBER


# --- The council's direct-payments officers ---------------------------------------------------------------------


def test_a_dp_officer_verifies_bank_details_and_the_owners_are_emailed(client, organisation, owner):
    payout = make_payout_details(organisation, status=PayoutDetailsStatus.SUBMITTED)
    officer = dp_officer()
    sign_in(client, officer)
    waiting = parse(client.get("/council/payout-details"))
    assert texts(waiting, "//table[@id='payout-details']//th[@scope='row']") == ["Kestrel Care"]
    review = parse(client.get(f"/council/payout-details/{payout.id}"))
    assert texts(review, "//dl[@id='payout-details']//dd")[:3] == ["Kestrel Care", "30-94-30", ACCOUNT_NUMBER]

    response = decide(client, payout, "verify-form")

    assert response.status_code == 302
    assert payout.status is PayoutDetailsStatus.VERIFIED
    assert payout.decided_by_id == officer.id and payout.decided_at is not None
    message, = outbox_to(owner.email)
    assert message.subject == "Your bank details for Kestrel Care are verified"
    assert "ending 3445" in message.body and ACCOUNT_NUMBER not in message.body
    verified, = audit_events("payout_details.verified")
    assert (verified.actor_id, verified.after["status"], verified.after["account_number"]) == (
        officer.id, "verified", "****3445")


def test_a_dp_officer_rejects_bank_details_with_a_note_the_owners_are_emailed(client, organisation, owner):
    payout = make_payout_details(organisation, status=PayoutDetailsStatus.SUBMITTED)
    sign_in(client, dp_officer())

    decide(client, payout, "reject-form", **{"reject-note": "The account is in a person's name."})

    assert payout.status is PayoutDetailsStatus.REJECTED
    assert payout.decision_note == "The account is in a person's name."
    message, = outbox_to(owner.email)
    assert message.subject == "Your bank details for Kestrel Care were not accepted"
    assert "The account is in a person's name." in message.body
    assert audit_events("payout_details.rejected")
    sign_in(client, owner)
    provider_page = parse(client.get(f"/provider/organisations/{organisation.id}/payout-details"))
    assert texts(provider_page, "//div[@id='council-reason']//p")[1] == "The account is in a person's name."


def test_rejecting_bank_details_needs_a_reason(client, organisation, owner):
    payout = make_payout_details(organisation, status=PayoutDetailsStatus.SUBMITTED)
    sign_in(client, dp_officer())

    response = decide(client, payout, "reject-form", **{"reject-note": "  "})

    assert response.status_code == 400
    assert error_messages(parse(response)) == ["Enter why the bank details are not accepted"]
    assert payout.status is PayoutDetailsStatus.SUBMITTED
    assert outbox_to(owner.email) == []


def test_verifying_brings_back_published_offers_and_reindexes_their_listings(client, organisation, owner):
    service = make_service(organisation=organisation)
    make_offer(service=service, title="PA hours")
    payout = make_payout_details(organisation, status=PayoutDetailsStatus.SUBMITTED)
    sign_in(client, dp_officer())
    changes_before = db.session.scalar(sa.select(sa.func.count()).select_from(ListingChange)
                                       .where(ListingChange.subject_id == service.id))

    decide(client, payout, "verify-form")

    assert texts(parse(client.get(f"/services/{service.id}")), "//div[@id='offers']//h3") == ["PA hours"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListingChange)
                             .where(ListingChange.subject_id == service.id)) == changes_before + 1


def test_verified_details_cannot_be_verified_twice(client, organisation, owner):
    payout = make_payout_details(organisation, status=PayoutDetailsStatus.SUBMITTED)
    sign_in(client, dp_officer())
    page = parse(client.get(f"/council/payout-details/{payout.id}"))
    data = form_data(page, "//form[@id='verify-form']")
    client.post(f"/council/payout-details/{payout.id}/verify", data=data)

    again = client.post(f"/council/payout-details/{payout.id}/verify", data=data)

    assert again.status_code == 302
    assert len(audit_events("payout_details.verified")) == 1
    assert len(outbox_to(owner.email)) == 1


@pytest.mark.parametrize(("roles", "status"), [
    ((Role.COUNCIL_DP_OFFICER,), 200),
    ((Role.COUNCIL_ADMIN,), 200),
    ((Role.COUNCIL_MODERATOR,), 403),
    ((Role.PROVIDER,), 403),
])
def test_only_direct_payments_officers_and_admins_see_providers_bank_details(client, organisation, roles, status):
    payout = make_payout_details(organisation, status=PayoutDetailsStatus.SUBMITTED)
    sign_in(client, make_user(roles=roles))

    assert client.get("/council/payout-details").status_code == status
    assert client.get(f"/council/payout-details/{payout.id}").status_code == status
