"""`flask ledger reconcile` against localstripe: orders, capture journals and Stripe's PaymentIntents agree, and
each difference is printed, exits 1 and is recorded for the council. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from portal.ledger import ledger_account, post_journal
from portal.models import ExceptionKind, JournalKind, LedgerAccountKind, OrderState, SpendingException
from portal.payments import gateway
from tests.support.localstripe import VISA, card_payment_method, localstripe_fixture, make_order, stripe_app_fixture  # noqa: F401
from tests.support.money_factories import make_dp_account


def _authorised(account, *, units=2):
    """An order the provider has accepted, with its card authorisation at localstripe."""
    order = make_order(account, units=units, state=OrderState.ACCEPTED)
    customer = gateway.client().v1.customers.create({}).id
    intent = gateway.create_authorisation(amount_pence=order.amount_pence, customer_id=customer,
                                          payment_method_id=card_payment_method(VISA, customer=customer),
                                          idempotency_key=f"order:{order.id}:authorise")
    order.payment_intent_id = intent.id
    return order


def _capture(order, pence):
    """What the capture step does: Stripe first, then the journal and the order."""
    gateway.capture(order.payment_intent_id, pence, idempotency_key=f"order:{order.id}:capture")
    lines = [(ledger_account(LedgerAccountKind.DP_HELD, dp_account=order.dp_account), -order.amount_pence),
             (ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=order.organisation), pence)]
    if order.amount_pence > pence:
        lines.append((ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=order.dp_account),
                      order.amount_pence - pence))
    post_journal(kind=JournalKind.CAPTURE, key=f"order:{order.id}:capture", lines=lines, dp_account=order.dp_account,
                 order=order, stripe_object_id=order.payment_intent_id)
    order.state, order.captured_pence, order.captured_at = OrderState.CAPTURED, pence, datetime.now(UTC)


def _reconcile(app):
    return app.test_cli_runner().invoke(args=["ledger", "reconcile"])


def test_reconcile_passes_when_stripe_orders_and_ledger_agree(session, stripe_app):
    account = make_dp_account(budget_pence=20_000)
    _authorised(account)
    _capture(_authorised(account, units=3), 5_000)
    session.flush()

    result = _reconcile(stripe_app)

    assert result.exit_code == 0, result.output
    assert "Stripe and the ledger agree." in result.output
    assert session.scalars(sa.select(SpendingException)).all() == []


def test_reconcile_reports_a_capture_stripe_made_that_the_ledger_missed(session, stripe_app):
    account = make_dp_account(budget_pence=20_000)
    order = _authorised(account)
    gateway.capture(order.payment_intent_id, 3_000, idempotency_key="outside-the-portal")
    session.flush()

    first = _reconcile(stripe_app)
    second = _reconcile(stripe_app)

    assert first.exit_code == 1
    lines = [line for line in first.output.splitlines() if line.startswith(f"order {order.reference}")]
    assert any("should hold 5000p on the card but Stripe says succeeded" in line for line in lines)
    assert any("Stripe received 3000p but the order records 0p captured" in line for line in lines)
    assert any("capture journals move 0p but Stripe received 3000p" in line for line in lines)
    assert second.exit_code == 1
    recorded = session.scalars(sa.select(SpendingException).where(
        SpendingException.kind == ExceptionKind.RECONCILIATION)).all()
    assert len(recorded) == len(lines)  # the second run recorded nothing new
    assert {exception.order_id for exception in recorded} == {order.id}
