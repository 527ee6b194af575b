"""The checkout benchmark: how many direct-payment checkouts a second, and their p95 latency, with the card
authorisation against localstripe over real HTTP beside the same checkout with the Stripe call removed (the
ledger alone: lock the account, check the plan and balance, write the order and its HOLD journal, commit).

    python -m bench.checkout_bench                       # 200 checkouts per mode on a fresh SQLite file
    python -m bench.checkout_bench --checkouts 500 --postgresql   # and on a throwaway PostgreSQL cluster

Each checkout is what a holder's "Place order" does: one basket item -> portal.marketplace.checkout.place_orders
under the account's row lock, commit, then (Stripe mode) portal.marketplace.authorisations.authorise, commit.
One process, one thread: these are per-request costs, not a load test. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

MODES = ("stripe", "ledger")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _world(app, stripe_url: str | None):
    """A holder with a large budget, a registered card (when Stripe is in play) and one published offer."""
    from portal.extensions import db
    from portal.ledger import ledger_account, transfer
    from portal.models import (
        CardStatus,
        DirectPaymentAccount,
        JournalKind,
        LedgerAccountKind,
        Offer,
        OfferStatus,
        OfferUnit,
        Organisation,
        PaymentCard,
        PayoutDetails,
        PayoutDetailsStatus,
        Role,
        Service,
        TaxonomyTerm,
        User,
        UserRole,
        VerificationStatus,
    )
    from portal.models.directory import Taxonomy

    with app.app_context():
        holder = User(email=f"bench-holder-{time.time_ns()}@example.org", name="Bench Holder", password_hash="x")
        holder.role_grants = [UserRole(role=Role.DP_HOLDER)]
        taxonomy = Taxonomy(name="Bench categories")
        term = TaxonomyTerm(taxonomy=taxonomy, name="Personal assistants", slug=f"pa-{time.time_ns()}")
        organisation = Organisation(name="Bench Care Ltd", verification_status=VerificationStatus.APPROVED)
        service = Service(organisation=organisation, name="Bench PA hours", published_at=datetime.now(UTC))
        payout = PayoutDetails(organisation=organisation, account_name="BENCH CARE", sort_code="040004",
                               account_number="12345678", status=PayoutDetailsStatus.VERIFIED)
        offer = Offer(service=service, organisation=organisation, category=term, title="An hour of support",
                      unit=OfferUnit.HOUR, price_pence=1_550, min_units=1, max_units=4, status=OfferStatus.PUBLISHED)
        account = DirectPaymentAccount(reference=f"DP-B{time.time_ns() % 10**8}", holder=holder,
                                       period_budget_pence=10**9, start_date=date.today(), categories=[term])
        db.session.add_all([holder, offer, account, payout])
        db.session.flush()
        transfer(kind=JournalKind.ALLOCATION, key=f"bench-allocation:{account.id}", pence=10**9,
                 source=ledger_account(LedgerAccountKind.COUNCIL_FUNDING),
                 destination=ledger_account(LedgerAccountKind.DP_AVAILABLE, dp_account=account),
                 dp_account=account, period_number=0)
        if stripe_url:
            from portal.payments import gateway

            account.stripe_customer_id = gateway.create_customer(account)
            client = gateway.client()
            method = client.v1.payment_methods.create({"type": "card", "card": {
                "number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}})
            client.v1.payment_methods.attach(method.id, {"customer": account.stripe_customer_id})
        else:
            method = None
        db.session.add(PaymentCard(dp_account=account, stripe_payment_method_id=getattr(method, "id", None) or
                                   f"pm_bench_{time.time_ns()}", brand="visa", last4="4242", exp_month=12,
                                   exp_year=2031, funding="prepaid", status=CardStatus.ACTIVE))
        db.session.commit()
        return holder.id, account.id, offer.id


def _one_checkout(holder_id, account_id, offer_id, *, with_stripe: bool) -> float:
    from portal.extensions import db
    from portal.marketplace import authorisations
    from portal.marketplace.checkout import place_orders
    from portal.models import BasketItem, OrderState, User

    holder = db.session.get(User, holder_id)
    item = BasketItem(dp_account_id=account_id, offer_id=offer_id, units=1, added_by_id=holder_id)
    db.session.add(item)
    db.session.commit()  # the basket exists before the holder presses "Place order"
    started = time.perf_counter()
    orders = place_orders(actor=holder, dp_account_id=account_id, item_ids=[item.id])
    db.session.commit()
    if with_stripe:
        for order in orders:
            outcome = authorisations.authorise(actor=holder, order=order, first_attempt=True)
            db.session.commit()
            if order.state is not OrderState.REQUESTED:
                raise RuntimeError(f"checkout did not authorise: {outcome} {order.payment_error}")
    elapsed = time.perf_counter() - started
    db.session.remove()
    return elapsed


def run_mode(database_url: str, mode: str, checkouts: int, stripe_url: str | None) -> dict:
    from portal import create_app
    from portal.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, STRIPE_API_BASE=stripe_url,
                     SEARCH_INDEX_DIR=tempfile.mkdtemp(prefix="checkout-bench-index-"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    with_stripe = mode == "stripe"
    holder_id, account_id, offer_id = _world(app, stripe_url if with_stripe else None)
    timings: list[float] = []
    with app.app_context():
        for _ in range(5):  # warm up: first queries, SDK connection pool
            _one_checkout(holder_id, account_id, offer_id, with_stripe=with_stripe)
        wall = time.perf_counter()
        for _ in range(checkouts):
            timings.append(_one_checkout(holder_id, account_id, offer_id, with_stripe=with_stripe))
        wall = time.perf_counter() - wall
        db.engine.dispose()
    return {"mode": mode, "checkouts": checkouts, "per_second": checkouts / wall,
            "p50_ms": statistics.median(timings) * 1000, "p95_ms": percentile(timings, 0.95) * 1000}


def report(database: str, results: dict[str, dict]) -> str:
    stripe, ledger = results["stripe"], results["ledger"]
    rows = [
        ("checkouts a second", "per_second", "{:.1f}"),
        ("p50 latency (ms)", "p50_ms", "{:.1f}"),
        ("p95 latency (ms)", "p95_ms", "{:.1f}"),
    ]
    lines = [f"\nCheckout on {database} ({stripe['checkouts']} checkouts each, one at a time)",
             f"{'':24}{'with localstripe':>18}{'ledger alone':>16}{'ratio':>10}"]
    for label, key, fmt in rows:
        ratio = stripe[key] / ledger[key] if ledger[key] else float("nan")
        lines.append(f"{label:24}{fmt.format(stripe[key]):>18}{fmt.format(ledger[key]):>16}{ratio:>9.2f}x")
    return "\n".join(lines)


def _databases(use_postgresql: bool, workdir: Path) -> list[tuple[str, Callable[[str], str]]]:
    """(name, factory of a fresh database URL per mode)."""
    databases = [("SQLite (a fresh file)", lambda mode: f"sqlite:///{workdir / f'checkout-{mode}.sqlite3'}")]
    if use_postgresql:
        from tests.support.postgres import TemporaryPostgres

        server = TemporaryPostgres()
        server.start()
        databases.append(("PostgreSQL (a throwaway cluster)",
                          lambda mode: server.create_database(f"checkout_{mode}_{time.time_ns() % 10**6}")))
        _databases.server = server  # stopped in main
    return databases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=200, help="checkouts timed per mode (default 200)")
    parser.add_argument("--postgresql", action="store_true", help="also run on a throwaway PostgreSQL cluster")
    args = parser.parse_args(argv)

    from portal.payments import localstripe_process

    stripe_process, stripe_url = localstripe_process.start()
    _databases.server = None
    try:
        with tempfile.TemporaryDirectory(prefix="checkout-bench-") as workdir:
            for name, fresh_url in _databases(args.postgresql, Path(workdir)):
                results = {mode: run_mode(fresh_url(mode), mode, args.checkouts, stripe_url) for mode in MODES}
                print(report(name, results), flush=True)
    finally:
        stripe_process.terminate()
        stripe_process.wait(timeout=10)
        if _databases.server is not None:
            _databases.server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
