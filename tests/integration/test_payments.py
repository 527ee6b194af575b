"""The Stripe gateway against a real localstripe, and the holder's card pages through the test client. Both
databases (the card pages); the gateway tests need no database but the app's configuration."""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import AuditEvent, CardStatus, ExceptionKind, PaymentCard, Role, SpendingException
from portal.payments import gateway, localstripe_process
from tests.support.factories import make_user, sign_in
from tests.support.html import parse, texts
from tests.support.localstripe import (  # noqa: F401  (fixtures)
    CHARGE_DECLINED,
    DECLINED,
    INSUFFICIENT_FUNDS,
    THREE_D_SECURE,
    VISA,
    authenticate_3d_secure,
    card_payment_method,
    confirm_setup_intent,
    localstripe_fixture,
    stripe_app_fixture,
)
from tests.support.money_factories import make_dp_account

# --- the gateway -----------------------------------------------------------------------------------------------


def _customer(app) -> str:
    with app.app_context():
        return gateway.client().v1.customers.create({}).id


def test_an_authorisation_holds_the_amount_and_a_partial_capture_takes_only_what_was_delivered(stripe_app):
    with stripe_app.app_context():
        customer = _customer(stripe_app)
        card = card_payment_method(VISA, customer=customer)

        held = gateway.create_authorisation(amount_pence=5_000, customer_id=customer, payment_method_id=card,
                                            idempotency_key="order:a:authorise", metadata={"order": "ORD-A"})
        captured = gateway.capture(held.id, 3_000, idempotency_key="order:a:capture")
        again = gateway.capture(held.id, 3_000, idempotency_key="order:a:capture")

    assert (held.status, held.amount_capturable, held.amount_received) == ("requires_capture", 5_000, 0)
    assert held.metadata == {"order": "ORD-A", "idempotency_key": "order:a:authorise"}
    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 3_000, 0)
    assert (again.id, again.amount_received) == (held.id, 3_000)


def test_the_same_idempotency_key_never_authorises_the_card_twice(stripe_app):
    with stripe_app.app_context():
        customer = _customer(stripe_app)
        card = card_payment_method(VISA, customer=customer)
        first = gateway.create_authorisation(amount_pence=1_200, customer_id=customer, payment_method_id=card,
                                             idempotency_key="order:b:authorise")
        retried = gateway.create_authorisation(amount_pence=1_200, customer_id=customer, payment_method_id=card,
                                               idempotency_key="order:b:authorise")
        other = gateway.create_authorisation(amount_pence=1_200, customer_id=customer, payment_method_id=card,
                                             idempotency_key="order:c:authorise")
        listed = gateway.client().v1.payment_intents.list({"customer": customer, "limit": 100}).data

    assert retried.id == first.id
    assert other.id != first.id
    assert sorted(intent.id for intent in listed) == sorted([first.id, other.id])


def test_a_cancelled_authorisation_gives_the_money_back_to_the_card(stripe_app):
    with stripe_app.app_context():
        customer = _customer(stripe_app)
        held = gateway.create_authorisation(amount_pence=800, customer_id=customer,
                                            payment_method_id=card_payment_method(VISA, customer=customer),
                                            idempotency_key="order:d:authorise")
        cancelled = gateway.cancel_authorisation(held.id, idempotency_key="order:d:cancel")
        again = gateway.cancel_authorisation(held.id, idempotency_key="order:d:cancel")

    assert (cancelled.status, cancelled.amount_capturable, again.status) == ("canceled", 0, "canceled")


def test_a_declined_card_gives_a_plain_english_reason_in_english_and_welsh(stripe_app):
    with stripe_app.test_request_context("/"):
        customer = _customer(stripe_app)
        card = card_payment_method(CHARGE_DECLINED, customer=customer)
        try:
            gateway.create_authorisation(amount_pence=900, customer_id=customer, payment_method_id=card,
                                         idempotency_key="order:e:authorise")
        except gateway.PaymentDeclined as declined:
            error = declined
        else:
            raise AssertionError("the card was not declined")
        english = str(gateway.decline_message("insufficient_funds"))
    with stripe_app.test_request_context("/?lang=cy"):
        welsh = str(gateway.decline_message("insufficient_funds"))

    assert error.code == "card_declined"
    assert str(error.message).startswith("Your card was declined")
    assert english == "There is not enough money on your card. Contact the council's direct payments team."
    assert welsh != english and welsh


def test_a_retried_authorisation_that_was_declined_is_declined_again_not_retried_on_the_card(stripe_app):
    with stripe_app.app_context():
        customer = _customer(stripe_app)
        card = card_payment_method(CHARGE_DECLINED, customer=customer)
        for _attempt in range(2):
            try:
                gateway.create_authorisation(amount_pence=900, customer_id=customer, payment_method_id=card,
                                             idempotency_key="order:f:authorise")
            except gateway.PaymentDeclined:
                pass
        intents = gateway.client().v1.payment_intents.list({"customer": customer}).data

    assert len(intents) == 1


def test_cards_that_localstripe_declines_are_refused_when_attached_with_a_reason(stripe_app):
    with stripe_app.app_context():
        customer = _customer(stripe_app)
        codes = []
        for number in (DECLINED, INSUFFICIENT_FUNDS):
            try:
                gateway.attach_payment_method(card_payment_method(number), customer)
            except gateway.PaymentDeclined as declined:
                codes.append(declined.code)

    assert codes == ["card_declined", "card_declined"]


def test_a_three_d_secure_card_needs_the_holder_before_it_is_authorised(stripe_app, localstripe):
    with stripe_app.app_context():
        customer = _customer(stripe_app)
        card = card_payment_method(THREE_D_SECURE, customer=customer)
        waiting = gateway.create_authorisation(amount_pence=700, customer_id=customer, payment_method_id=card,
                                               idempotency_key="order:g:authorise")
        authenticate_3d_secure(localstripe, waiting)
        after = gateway.retrieve_payment_intent(waiting.id)

    assert waiting.status == "requires_action" and waiting.client_secret
    assert (after.status, after.amount_capturable) == ("requires_capture", 700)


def test_when_stripe_cannot_be_reached_the_caller_is_told_it_is_unavailable(app):
    process, base_url = localstripe_process.start()
    before = app.config.get("STRIPE_API_BASE")
    app.config["STRIPE_API_BASE"] = base_url
    try:
        with app.app_context():
            customer = gateway.client().v1.customers.create({}).id
            process.kill()
            process.wait(timeout=10)
            try:
                gateway.retrieve_payment_intent("pi_anything")
            except gateway.PaymentUnavailable:
                unavailable = True
            else:
                unavailable = False
    finally:
        app.config["STRIPE_API_BASE"] = before
        if process.poll() is None:
            process.kill()

    assert customer.startswith("cus_")
    assert unavailable


def test_each_app_keeps_its_own_stripe_address(stripe_app, localstripe):
    from portal import create_app

    other = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", STRIPE_API_BASE="http://127.0.0.1:9")
    with other.app_context():
        other_base = gateway.client()._requestor._options.base_addresses["api"]
    with stripe_app.app_context():
        ours = gateway.client()._requestor._options.base_addresses["api"]

    assert (ours, other_base) == (localstripe, "http://127.0.0.1:9")
    import stripe

    assert stripe.api_base == "https://api.stripe.com"  # nothing global was changed


# --- the holder's card pages ----------------------------------------------------------------------------------------


def _holder(session):
    account = make_dp_account()
    return account, account.holder


def _start(client) -> None:
    page = parse(client.get("/direct-payment/card"))
    token = page.xpath("//form[@action='/direct-payment/card']//input[@name='csrf_token']/@value")[0]
    response = client.post("/direct-payment/card", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/direct-payment/card/new")


def _card_page(client):
    response = client.get("/direct-payment/card/new")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response, parse(response)


def _card_config(page) -> dict:
    import json

    return json.loads(page.xpath("//script[@id='app-card-config']/text()")[0])


def _save(client, page, payment_method_id: str):
    token = page.xpath("//form[@id='app-card-form']//input[@name='csrf_token']/@value")[0]
    return client.post("/direct-payment/card/new", data={"csrf_token": token, "payment_method_id": payment_method_id})


def test_a_holder_adds_their_card_and_sees_its_brand_last_four_and_expiry(client, session, stripe_app, localstripe):
    account, holder = _holder(session)
    sign_in(client, holder)

    _start(client)
    _response, page = _card_page(client)
    setup = confirm_setup_intent(localstripe, _card_config(page)["clientSecret"], VISA)
    saved = _save(client, page, setup["payment_method"])
    shown = parse(client.get(saved.headers["Location"]))

    assert saved.status_code == 302
    card = session.scalars(sa.select(PaymentCard).where(PaymentCard.dp_account_id == account.id)).one()
    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.status) == (
        "visa", "4242", 12, 2031, CardStatus.ACTIVE)
    assert card.registered_by_id == holder.id
    assert texts(shown, "//*[@id='current-card']//dd[contains(@class,'govuk-summary-list__value')]") == [
        "Visa", "Ending in 4242", "12/2031"]
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment_card.registered")) is not None
    assert account.stripe_customer_id.startswith("cus_")


def test_a_customer_stripe_no_longer_knows_is_replaced_and_the_card_asked_for_again(
        client, session, stripe_app, localstripe):
    """localstripe forgets everything when `make run` restarts it; the holder must still be able to add a card."""
    account, holder = _holder(session)
    sign_in(client, holder)
    _start(client)
    _response, page = _card_page(client)
    setup = confirm_setup_intent(localstripe, _card_config(page)["clientSecret"], VISA)
    _save(client, page, setup["payment_method"])
    account.stripe_customer_id = "cus_forgotten"  # as if the emulator had restarted
    session.flush()

    _start(client)
    _response, page = _card_page(client)

    old_card = session.scalars(sa.select(PaymentCard).where(PaymentCard.dp_account_id == account.id)).one()
    assert account.stripe_customer_id.startswith("cus_") and account.stripe_customer_id != "cus_forgotten"
    assert old_card.status is CardStatus.REMOVED
    assert _card_config(page)["clientSecret"]
    replaced = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "dp_account.stripe_customer_created").order_by(AuditEvent.occurred_at)).all()[-1]
    assert replaced.before == {"stripe_customer_id": "cus_forgotten"}


def test_a_new_card_replaces_the_old_one(client, session, stripe_app, localstripe):
    account, holder = _holder(session)
    sign_in(client, holder)
    _start(client)
    for _ in range(2):
        _response, page = _card_page(client)
        setup = confirm_setup_intent(localstripe, _card_config(page)["clientSecret"], VISA)
        assert _save(client, page, setup["payment_method"]).status_code == 302

    cards = session.scalars(sa.select(PaymentCard).where(PaymentCard.dp_account_id == account.id)
                            .order_by(PaymentCard.created_at)).all()
    assert [card.status for card in cards] == [CardStatus.REPLACED, CardStatus.ACTIVE]


def test_a_card_that_is_not_prepaid_is_refused_when_the_rule_is_on(client, session, stripe_app, localstripe):
    account, holder = _holder(session)
    sign_in(client, holder)
    _start(client)
    _response, page = _card_page(client)
    setup = confirm_setup_intent(localstripe, _card_config(page)["clientSecret"], VISA)  # localstripe: "credit"
    stripe_app.config["STRIPE_REQUIRE_PREPAID"] = True
    try:
        refused = parse(_save(client, page, setup["payment_method"]))
    finally:
        stripe_app.config["STRIPE_REQUIRE_PREPAID"] = False

    assert texts(refused, "//div[contains(@class,'govuk-error-summary')]//li") == [
        "This card cannot be used. Use the prepaid card the council gave you for your direct payment."]
    assert refused.xpath("string(//title)").startswith("Error:")
    assert session.scalars(sa.select(PaymentCard).where(PaymentCard.dp_account_id == account.id)).all() == []
    exception = session.scalars(sa.select(SpendingException).where(
        SpendingException.dp_account_id == account.id)).one()
    assert (exception.kind, exception.details["funding"]) == (ExceptionKind.CARD_NOT_PREPAID, "credit")


def test_someone_elses_card_cannot_be_saved_to_your_account(client, session, stripe_app, localstripe):
    account, holder = _holder(session)
    sign_in(client, holder)
    _start(client)
    _response, page = _card_page(client)
    with stripe_app.app_context():
        stranger = gateway.client().v1.customers.create({}).id
        theirs = card_payment_method(VISA, customer=stranger)

    refused = parse(_save(client, page, theirs))

    assert texts(refused, "//div[contains(@class,'govuk-error-summary')]//li") == [
        "This card could not be added. Try again, or contact the council's direct payments team."]
    assert session.scalars(sa.select(PaymentCard)).all() == []


def test_a_nominated_person_adds_the_card_for_the_holder(client, session, stripe_app, localstripe):
    nominee = make_user(name="Nia Nominee", roles=(Role.NOMINATED_PERSON,))
    account = make_dp_account(nominated_person=nominee)
    sign_in(client, nominee)

    first = parse(client.get("/direct-payment/card"))
    _start(client)
    _response, page = _card_page(client)
    setup = confirm_setup_intent(localstripe, _card_config(page)["clientSecret"], VISA)
    _save(client, page, setup["payment_method"])

    assert any("managing this direct payment for" in text for text in texts(first, "//main//div"))
    card = session.scalars(sa.select(PaymentCard).where(PaymentCard.dp_account_id == account.id)).one()
    assert card.registered_by_id == nominee.id


def test_the_card_page_allows_stripe_js_from_localstripe_only_and_explains_itself_without_javascript(
        client, session, stripe_app, localstripe):
    _account, holder = _holder(session)
    sign_in(client, holder)
    _start(client)

    response, page = _card_page(client)
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    scripts = page.xpath("//script[@src]")
    other = client.get("/direct-payment/card")

    assert localstripe in policy["script-src"] and localstripe in policy["connect-src"]
    assert "'nonce-" in policy["script-src"]
    assert "js.stripe.com" not in response.headers["Content-Security-Policy"]
    assert localstripe not in other.headers["Content-Security-Policy"]
    stripe_tag = [tag for tag in scripts if tag.get("src") == f"{localstripe}/js.stripe.com/v3/"]
    assert stripe_tag and stripe_tag[0].get("nonce")
    assert "/assets/src/card.js" in [tag.get("src") for tag in scripts]
    assert page.xpath("//form[@id='app-card-form']/@hidden") == [""]  # shown by card.js
    no_js = " ".join(texts(page, "//*[@id='app-card-no-js']"))
    assert "needs JavaScript" in no_js and "01632 960 000" in no_js


def test_in_production_the_card_page_allows_stripes_own_origins(stripe_app):
    from portal.payments.csp import STRIPE_SOURCES, CardPagePolicy

    stripe_app.config["STRIPE_API_BASE"] = None  # Stripe itself; the fixture restores localstripe's address
    with stripe_app.test_request_context("/"):
        policy = dict(CardPagePolicy())

    assert policy["script-src"] == "'self' https://js.stripe.com"
    assert policy["frame-src"] == "'self' " + " ".join(STRIPE_SOURCES["frame-src"])
    assert policy["connect-src"] == "'self' https://api.stripe.com"


def test_only_holders_and_nominated_people_reach_the_card_page(client, session):
    provider = make_user(roles=(Role.PROVIDER,))
    holder_without_account = make_user(roles=(Role.DP_HOLDER,))

    anonymous = client.get("/direct-payment/card")
    sign_in(client, provider)
    forbidden = client.get("/direct-payment/card")
    sign_in(client, holder_without_account)
    not_found = client.get("/direct-payment/card")

    assert anonymous.status_code == 302 and "/account/sign-in" in anonymous.headers["Location"]
    assert forbidden.status_code == 403
    assert not_found.status_code == 404
