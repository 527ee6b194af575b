"""Orders and their money, posted through portal.ledger exactly as "How money moves" says (hold, capture,
release), for tests of the read side: statements, takings, payables and the council's audit."""

from __future__ import annotations

import itertools

from portal.extensions import db
from portal.ledger import ledger_account, post_journal, transfer
from portal.models import (
    DirectPaymentAccount,
    JournalKind,
    LedgerAccountKind,
    Offer,
    OfferUnit,
    Order,
    OrderState,
    Organisation,
    PayoutDetails,
    PayoutDetailsStatus,
    Service,
    TaxonomyTerm,
)
from tests.support.factories import make_service, make_term

_sequence = itertools.count(1)


def make_order(dp: DirectPaymentAccount, *, pence: int, organisation: Organisation | None = None,
               category: TaxonomyTerm | None = None, title: str = "Personal assistant hours",
               state: OrderState = OrderState.REQUESTED, service: Service | None = None) -> Order:
    """An order with its money held (HOLD journal ``hold:{order.id}``), for a new listing unless ``service``."""
    n = next(_sequence)
    service = service or (make_service(organisation=organisation) if organisation else make_service())
    category = category or make_term(name="Personal assistants")
    offer = Offer(service=service, organisation=service.organisation, category=category, title=title,
                  unit=OfferUnit.HOUR, price_pence=pence, min_units=1, max_units=10)
    order = Order(reference=f"ORD-S{n:05d}", checkout_reference=f"CHK-S{n:05d}", dp_account=dp, offer=offer,
                  organisation=service.organisation, category=category, title=title, unit=OfferUnit.HOUR,
                  unit_price_pence=pence, units=1, amount_pence=pence, state=state)
    db.session.add(order)
    db.session.flush()
    transfer(kind=JournalKind.HOLD, key=f"hold:{order.id}", pence=pence, dp_account=dp, order=order,
             source=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp),
             destination=ledger_account(LedgerAccountKind.DP_HELD, dp_account=dp))
    return order


def capture(order: Order, captured: int) -> None:
    """Capture ``captured`` of the held amount: held -> provider payable, the rest back to available."""
    dp = order.dp_account
    intent = f"pi_test_{order.reference}"
    lines = [(ledger_account(LedgerAccountKind.DP_HELD, dp_account=dp), -order.amount_pence),
             (ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=order.organisation), captured)]
    if order.amount_pence - captured:
        lines.append((ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp), order.amount_pence - captured))
    post_journal(kind=JournalKind.CAPTURE, key=f"capture:{order.id}", lines=lines, dp_account=dp, order=order,
                 stripe_object_id=intent)
    order.state, order.captured_pence, order.payment_intent_id = OrderState.CAPTURED, captured, intent
    db.session.flush()


def release(order: Order, state: OrderState = OrderState.CANCELLED) -> None:
    dp = order.dp_account
    transfer(kind=JournalKind.RELEASE, key=f"release:{order.id}", pence=order.amount_pence, dp_account=dp,
             order=order, source=ledger_account(LedgerAccountKind.DP_HELD, dp_account=dp),
             destination=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp))
    order.state = state
    db.session.flush()


def credit(dp: DirectPaymentAccount, kind: JournalKind, pence: int, *, period: int, key: str, memo: str = "") -> None:
    """An allocation or top-up (from council funding) or a contribution (from the client's account)."""
    source = ledger_account(LedgerAccountKind.CLIENT_CONTRIBUTION, dp_account=dp) \
        if kind is JournalKind.CONTRIBUTION else ledger_account(LedgerAccountKind.COUNCIL_FUNDING)
    transfer(kind=kind, key=key, pence=pence, source=source, dp_account=dp, period_number=period, memo=memo,
             destination=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp))


def reclaim(dp: DirectPaymentAccount, pence: int, *, period: int) -> None:
    transfer(kind=JournalKind.RECLAIM, key=f"reclaim:{dp.id}:{period}", pence=pence, dp_account=dp,
             period_number=period, source=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=dp),
             destination=ledger_account(LedgerAccountKind.COUNCIL_RECOVERED))


def verified_payout_details(organisation: Organisation, *, account_name: str = "RIVERSIDE CARE",
                            sort_code: str = "040004", account_number: str = "12345678") -> PayoutDetails:
    details = PayoutDetails(organisation=organisation, account_name=account_name, sort_code=sort_code,
                            account_number=account_number, status=PayoutDetailsStatus.VERIFIED)
    db.session.add(details)
    db.session.flush()
    return details
