"""localstripe for the tests: one emulator per test session (so one per xdist worker), killed at the end, plus
what a browser and Stripe would do against it (confirm a SetupIntent, authenticate 3-D Secure, sign an event).

Use in a test module:  from tests.support.localstripe import localstripe_fixture, stripe_app_fixture  # noqa: F401
(the fixtures are then named ``localstripe`` and ``stripe_app``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from portal.extensions import db
from portal.ledger import ledger_account, transfer
from portal.models import (
    DirectPaymentAccount,
    JournalKind,
    LedgerAccountKind,
    Offer,
    OfferUnit,
    Order,
    OrderState,
    Organisation,
)
from portal.payments import gateway, localstripe_process
from tests.support.factories import make_organisation, make_service, make_term

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"
VISA = "4242424242424242"
DECLINED = "4000000000000002"  # localstripe declines it when the card is set up or attached
INSUFFICIENT_FUNDS = "4000000000009995"
CHARGE_DECLINED = "4000000000000341"  # attaches, then every payment is declined
THREE_D_SECURE = "4000002500003155"


@pytest.fixture(scope="session", name="localstripe")
def localstripe_fixture() -> Iterator[str]:
    """A localstripe of this test session's own on 127.0.0.1; its base URL."""
    process, base_url = localstripe_process.start()
    try:
        yield base_url
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(name="stripe_app")
def stripe_app_fixture(app, localstripe):
    """The test app pointed at localstripe for one test (its STRIPE_API_BASE restored afterwards)."""
    before = app.config.get("STRIPE_API_BASE")
    app.config["STRIPE_API_BASE"] = localstripe
    try:
        yield app
    finally:
        app.config["STRIPE_API_BASE"] = before


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


# --- what the browser (Stripe.js) does ----------------------------------------------------------------------------


def confirm_setup_intent(base_url: str, client_secret: str, number: str = VISA) -> dict:
    """Confirm a SetupIntent with card details, as Stripe.js's confirmCardSetup does; the SetupIntent (or error)."""
    setup_intent_id = client_secret.split("_secret_")[0]
    response = requests.post(f"{base_url}/v1/setup_intents/{setup_intent_id}/confirm", timeout=10, json={
        "key": "pk_test_localstripe", "use_stripe_sdk": True, "client_secret": client_secret,
        "payment_method_data": {"type": "card", "card": {
            "number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123"}},
    })
    return response.json()


def card_payment_method(number: str = VISA, *, customer: str | None = None) -> str:
    """A card PaymentMethod (attached to ``customer`` when given) made through the API; its id."""
    client = gateway.client()
    method = client.v1.payment_methods.create({"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}})
    if customer:
        client.v1.payment_methods.attach(method.id, {"customer": customer})
    return method.id


def authenticate_3d_secure(base_url: str, intent: gateway.PaymentResult, *, success: bool = True) -> None:
    """The holder completes (or fails) the bank's 3-D Secure check in the browser."""
    response = requests.post(f"{base_url}/v1/payment_intents/{intent.id}/_authenticate", timeout=10, data={
        "key": "pk_test_localstripe", "client_secret": intent.client_secret, "success": str(success).lower()})
    response.raise_for_status()


# --- what Stripe sends ----------------------------------------------------------------------------------------------

_event_numbers = itertools.count(1)


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the endpoint secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signed}"


def event(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{next(_event_numbers):06d}_{int(time.time() * 1000)}",
        "object": "event",
        "api_version": gateway.DEFAULT_API_VERSION,
        "created": created or int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def post_event(client, body: dict | bytes, *, secret: str | None = None, timestamp: int | None = None):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    secret = secret or client.application.config["STRIPE_WEBHOOK_SECRET"]
    return client.post("/webhooks/stripe", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": signature_header(payload, secret, timestamp=timestamp)})


# --- orders with a card authorisation -------------------------------------------------------------------------------

_order_numbers = itertools.count(1)


def make_offer(*, organisation: Organisation | None = None, price_pence: int = 2_500) -> Offer:
    organisation = organisation or make_organisation(name=f"Provider {next(_order_numbers)}")
    offer = Offer(service=make_service(organisation=organisation), organisation=organisation,
                  category=make_term(name="Personal assistance"), title="An hour of personal assistance",
                  unit=OfferUnit.HOUR, price_pence=price_pence, max_units=10)
    db.session.add(offer)
    db.session.flush()
    return offer


def make_order(dp_account: DirectPaymentAccount, *, units: int = 2, state: OrderState = OrderState.PENDING_PAYMENT,
               payment_intent_id: str | None = None, offer: Offer | None = None, **fields) -> Order:
    """An order as checkout leaves it: the amount held in the ledger (available -> held)."""
    offer = offer or make_offer()
    n = next(_order_numbers)
    order = Order(
        reference=f"ORD-T{n:05d}", dp_account=dp_account, offer=offer, organisation_id=offer.organisation_id,
        category_id=offer.category_id, checkout_reference=f"CHK-T{n:05d}", state=state, title=offer.title,
        unit=offer.unit, unit_price_pence=offer.price_pence, units=units, amount_pence=units * offer.price_pence,
        payment_intent_id=payment_intent_id, **fields,
    )
    db.session.add(order)
    db.session.flush()
    transfer(kind=JournalKind.HOLD, key=f"test-hold:{order.id}",
             source=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp_account),
             destination=ledger_account(LedgerAccountKind.DP_HELD, dp_account=dp_account),
             pence=order.amount_pence, dp_account=dp_account, order=order)
    db.session.flush()
    return order
