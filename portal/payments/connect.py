"""Stripe Connect payouts: paying providers by transfer instead of the BACS file. Off unless STRIPE_CONNECT_PAYOUTS.

When a council officer marks a payout run paid with the setting on, portal.data.payables calls ``create_transfer``
once per provider line, with the same idempotency key as the line's PAYOUT journal (``payout:{run}:{organisation}``),
so a retried "mark as paid" never pays twice at Stripe. The provider's connected account id is
``PayoutDetails.stripe_connect_account_id``. Stripe answers with a Transfer object
(https://docs.stripe.com/api/transfers/object) and later sends ``transfer.created``; the handler below notes the
transfer on the run's line (``transfer_confirmed``), so the run shows which transfers Stripe has confirmed.

localstripe has no Connect (404), so the tests serve documented-shape Transfer JSON from a small local HTTP server
and post a signed ``transfer.created`` event (tests/fixtures/stripe/transfer*.json).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from portal.extensions import db
from portal.models import PayoutRun
from portal.payments.events import Outcome, ignored, on_event, parked, processed
from portal.payments.gateway import _call, _plain, client


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_pence: int
    destination: str


def create_transfer(*, amount_pence: int, destination: str, idempotency_key: str, metadata: dict[str, str]) -> Transfer:
    """Transfer ``amount_pence`` (GBP) to a connected account. Raises PaymentUnavailable or PaymentError."""
    transfer = _plain(_call(
        client().v1.transfers.create,
        {"amount": amount_pence, "currency": "gbp", "destination": destination, "metadata": metadata,
         "transfer_group": metadata.get("payout_run", "")},
        {"idempotency_key": idempotency_key},
    ))
    return Transfer(id=transfer["id"], amount_pence=int(transfer["amount"]), destination=str(transfer["destination"]))


@on_event("transfer.created")
def transfer_created(event: dict) -> Outcome:
    """Mark the run line that asked for this transfer as confirmed by Stripe."""
    transfer = event["data"]["object"]
    reference = (transfer.get("metadata") or {}).get("payout_run")
    run = db.session.scalar(sa.select(PayoutRun).where(PayoutRun.reference == reference).with_for_update()) \
        if reference else None
    if run is None:
        return parked(f"transfer {transfer.get('id')} names no payout run we know")
    lines = [dict(line) for line in run.lines]
    for line in lines:
        if line.get("transfer_id") == transfer.get("id"):
            if line.get("transfer_confirmed"):
                return ignored(f"transfer {transfer['id']} already confirmed")
            line["transfer_confirmed"] = True
            run.lines = lines  # a new list, so the JSON column is written
            return processed(f"payout run {run.reference}: transfer {transfer['id']} confirmed")
    return parked(f"transfer {transfer.get('id')} is not on payout run {run.reference}")
