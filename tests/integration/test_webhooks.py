"""POST /webhooks/stripe: signatures, storing each event once, dispatch to the order hooks, parking events about
objects we do not know, and charge.* events (which localstripe never sends) from signed documented-shape fixtures.
Both databases; localstripe for the events it does send."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from portal.ledger import dp_balances
from portal.models import (
    AuditEvent,
    ExceptionKind,
    OrderState,
    SpendingException,
    StripeEvent,
    StripeEventStatus,
)
from portal.payments import gateway
from tests.support.localstripe import (  # noqa: F401  (fixtures)
    VISA,
    card_payment_method,
    event,
    fixture,
    localstripe_fixture,
    make_order,
    post_event,
    signature_header,
    stripe_app_fixture,
)
from tests.support.money_factories import make_dp_account


def _intent(intent_id: str, status: str, amount: int, **fields) -> dict:
    """A PaymentIntent in the shape Stripe documents."""
    return {"id": intent_id, "object": "payment_intent", "amount": amount, "currency": "gbp", "status": status,
            "capture_method": "manual", "customer": "cus_test", "metadata": {},
            "amount_capturable": amount if status == "requires_capture" else 0,
            "amount_received": fields.pop("amount_received", 0), "last_payment_error": None, **fields}


def _exceptions(session, kind: ExceptionKind) -> list[SpendingException]:
    return list(session.scalars(sa.select(SpendingException).where(SpendingException.kind == kind)))


def test_an_event_with_a_bad_signature_is_refused_and_logged(client, session, caplog):
    body = json.dumps(event("payment_intent.succeeded", _intent("pi_x", "succeeded", 100))).encode()

    forged = post_event(client, body, secret="whsec_someone_else")
    unsigned = client.post("/webhooks/stripe", data=body, content_type="application/json")
    stale = post_event(client, body, timestamp=int(time.time()) - 301)

    assert [forged.status_code, unsigned.status_code, stale.status_code] == [400, 400, 400]
    assert session.scalars(sa.select(StripeEvent)).all() == []
    assert any("refused a Stripe webhook" in record.message for record in caplog.records)


def test_a_webhook_needs_no_csrf_token_or_sign_in(client, session):
    response = post_event(client, event("customer.created", {"id": "cus_x", "object": "customer"}))

    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"


def test_an_authorised_card_sends_the_order_to_the_provider_once_however_often_the_event_comes(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, units=2, payment_intent_id="pi_authorised")
    authorised = event("payment_intent.amount_capturable_updated",
                       _intent("pi_authorised", "requires_capture", order.amount_pence))

    first = post_event(client, authorised)
    replay = post_event(client, authorised)

    assert first.get_json() == {"id": authorised["id"], "status": "processed", "replayed": False}
    assert replay.get_json() == {"id": authorised["id"], "status": "processed", "replayed": True}
    assert (order.state, order.payment_status) == (OrderState.REQUESTED, "requires_capture")
    assert order.authorised_at is not None and order.authorisation_expires_at > order.authorised_at
    assert len(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order.authorised")).all()) == 1


def test_an_authorisation_reported_before_our_request_saved_the_intent_still_reaches_the_order(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, units=1)  # the request is still waiting for Stripe's answer
    early = event("payment_intent.amount_capturable_updated", _intent(
        "pi_early", "requires_capture", order.amount_pence, metadata={"order_id": str(order.id)}))

    response = post_event(client, early)

    assert response.get_json()["status"] == "processed"
    assert (order.state, order.payment_intent_id) == (OrderState.REQUESTED, "pi_early")


def test_events_about_an_orders_replaced_authorisation_are_parked_not_applied(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, units=1, payment_intent_id="pi_renewed", state=OrderState.ACCEPTED)
    old = event("payment_intent.canceled", _intent(
        "pi_replaced", "canceled", order.amount_pence, metadata={"order_id": str(order.id)}))

    response = post_event(client, old)

    assert response.get_json()["status"] == "parked"
    assert (order.state, order.payment_intent_id) == (OrderState.ACCEPTED, "pi_renewed")
    assert dp_balances(account).held == order.amount_pence


def test_events_arriving_out_of_order_never_move_an_order_backwards(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, payment_intent_id="pi_late", state=OrderState.ACCEPTED)

    late = post_event(client, event("payment_intent.amount_capturable_updated",
                                    _intent("pi_late", "requires_capture", order.amount_pence)))
    late_failure = post_event(client, event("payment_intent.payment_failed", _intent(
        "pi_late", "requires_payment_method", order.amount_pence,
        last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"})))

    assert late.get_json()["status"] == "ignored"
    assert late_failure.get_json()["status"] == "ignored"
    assert order.state is OrderState.ACCEPTED
    assert dp_balances(account).held == order.amount_pence


def test_a_declined_card_fails_the_order_and_gives_the_money_back(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, units=4, payment_intent_id="pi_declined")
    assert dp_balances(account).available == 10_000 - order.amount_pence

    response = post_event(client, event("payment_intent.payment_failed", _intent(
        "pi_declined", "requires_payment_method", order.amount_pence,
        last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"})))

    assert response.get_json()["status"] == "processed"
    assert (order.state, order.payment_error) == (
        OrderState.FAILED, "There is not enough money on your card. Contact the council's direct payments team.")
    assert dp_balances(account) == dp_balances(account).__class__(available=10_000, held=0, spent=0)
    assert [e.details["code"] for e in _exceptions(session, ExceptionKind.CARD_DECLINED)] == ["insufficient_funds"]


def test_a_cancelled_authorisation_cancels_an_order_not_yet_delivered(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, payment_intent_id="pi_cancelled", state=OrderState.REQUESTED)

    post_event(client, event("payment_intent.canceled", _intent("pi_cancelled", "canceled", order.amount_pence)))

    assert order.state is OrderState.CANCELLED and order.cancelled_at is not None
    assert dp_balances(account).held == 0


def test_three_d_secure_keeps_the_order_pending(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, payment_intent_id="pi_3ds")

    post_event(client, event("payment_intent.requires_action", _intent("pi_3ds", "requires_action", 5_000)))

    assert (order.state, order.payment_status) == (OrderState.PENDING_PAYMENT, "requires_action")


def test_an_event_about_a_payment_we_do_not_know_is_parked_for_the_council(client, session):
    unknown = event("payment_intent.succeeded", _intent("pi_nobody", "succeeded", 700, amount_received=700))

    response = post_event(client, unknown)

    stored = session.get(StripeEvent, unknown["id"])
    assert response.status_code == 200
    assert (stored.status, stored.object_id) == (StripeEventStatus.PARKED, "pi_nobody")
    assert "pi_nobody" in stored.note
    assert [e.details["event"] for e in _exceptions(session, ExceptionKind.PARKED_EVENT)] == [unknown["id"]]


def test_a_dispute_freezes_the_order_for_the_council(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, payment_intent_id="pi_disputed", state=OrderState.CONFIRMED)
    dispute = {**fixture("dispute.json"), "payment_intent": "pi_disputed"}

    response = post_event(client, event("charge.dispute.created", dispute))

    assert response.get_json()["status"] == "processed"
    assert (order.state, order.dispute_reason) == (OrderState.DISPUTED, "product_not_received")
    assert [e.order_id for e in _exceptions(session, ExceptionKind.DISPUTE)] == [order.id]


def test_a_dispute_about_an_unknown_payment_is_parked(client, session):
    response = post_event(client, event("charge.dispute.created", {**fixture("dispute.json"),
                                                                     "payment_intent": "pi_unknown"}))

    assert response.get_json()["status"] == "parked"


def test_a_capture_stripe_confirms_after_our_request_failed_is_completed_from_the_event(client, session):
    account = make_dp_account(budget_pence=10_000)
    order = make_order(account, units=4, payment_intent_id="pi_captured", state=OrderState.CONFIRMED)

    post_event(client, event("payment_intent.succeeded", _intent(
        "pi_captured", "succeeded", order.amount_pence, amount_received=7_500)))

    assert (order.state, order.captured_pence) == (OrderState.CAPTURED, 7_500)
    assert dp_balances(account) == dp_balances(account).__class__(
        available=10_000 - 7_500, held=0, spent=7_500)


def test_localstripe_events_signed_with_our_secret_are_accepted(client, session, stripe_app, localstripe):
    """localstripe posts payment_intent.succeeded ~1 s after a capture to the URL registered with it (what
    `flask dev-server` does); a stand-in receiver keeps the exact body and header, which our endpoint verifies."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from portal.payments import localstripe_process

    deliveries: list[tuple[bytes, str]] = []
    arrived = threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            deliveries.append((self.rfile.read(int(self.headers["Content-Length"])), self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        localstripe_process.register_webhook(
            localstripe, url=f"http://127.0.0.1:{receiver.server_port}/webhooks/stripe",
            secret=stripe_app.config["STRIPE_WEBHOOK_SECRET"], events=["payment_intent.succeeded"],
            webhook_id=f"test-{time.time_ns()}")
        with stripe_app.app_context():
            customer = gateway.client().v1.customers.create({}).id
            intent = gateway.create_authorisation(amount_pence=1_000, customer_id=customer,
                                                  payment_method_id=card_payment_method(VISA, customer=customer),
                                                  idempotency_key="webhook:capture")
            gateway.capture(intent.id, 1_000, idempotency_key="webhook:capture:capture")
        assert arrived.wait(10), "localstripe sent no event"
    finally:
        receiver.shutdown()
        receiver.server_close()

    mine = [(body, header) for body, header in deliveries if json.loads(body)["data"]["object"]["id"] == intent.id]
    body, header = mine[0]
    response = client.post("/webhooks/stripe", data=body, content_type="application/json",
                           headers={"Stripe-Signature": header})

    assert response.status_code == 200
    assert response.get_json()["status"] == "parked"  # no order has this intent: the council is told
