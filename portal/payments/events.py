"""Stripe webhook events: verifying, storing once, and dispatching to the handlers other modules register.

A handler is a function of the event (a plain dict, as Stripe sent it) registered for one or more event types:

    from portal.payments.events import on_event, processed, ignored, parked

    @on_event("payment_intent.succeeded")
    def capture_confirmed(event: dict) -> Outcome: ...

It returns ``processed(note)``, ``ignored(note)`` (a state already passed, a type we do not act on) or
``parked(note)`` (an object we do not know: kept for the council to review). It never commits; an exception rolls
the whole delivery back and answers 500, so Stripe delivers it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import ExceptionKind, StripeEvent, StripeEventStatus
from portal.payments.spending import record_exception

log = logging.getLogger(__name__)
SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Outcome:
    status: StripeEventStatus
    note: str = ""


def processed(note: str = "") -> Outcome:
    return Outcome(StripeEventStatus.PROCESSED, note)


def ignored(note: str = "") -> Outcome:
    return Outcome(StripeEventStatus.IGNORED, note)


def parked(note: str) -> Outcome:
    return Outcome(StripeEventStatus.PARKED, note)


Handler = Callable[[dict], Outcome]
_HANDLERS: dict[str, list[Handler]] = {}


def on_event(*event_types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for these Stripe event types."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if handler not in _HANDLERS.setdefault(event_type, []):
                _HANDLERS[event_type].append(handler)
        return handler

    return register


def handled_types() -> list[str]:
    return sorted(_HANDLERS)


class BadSignature(Exception):
    """The body is not a Stripe event signed with our webhook secret (or the signature is too old)."""


@dataclass(frozen=True)
class Receipt:
    event: StripeEvent
    replayed: bool


def verify(payload: bytes, signature: str | None) -> dict:
    """The event in ``payload`` if its Stripe-Signature header is good. Raises BadSignature."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    try:
        stripe.Webhook.construct_event(payload, signature or "", secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature(str(error)) from error
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise BadSignature("not an event")
    return event


def receive(*, payload: bytes, signature: str | None) -> Receipt:
    """Verify, store under the event id, and dispatch once. A replayed event finds its row and does nothing.

    Raises BadSignature. Never commits."""
    event = verify(payload, signature)
    existing = db.session.get(StripeEvent, event["id"])
    if existing is not None:
        return Receipt(existing, replayed=True)
    obj = (event.get("data") or {}).get("object") or {}
    row = StripeEvent(
        id=event["id"],
        type=event["type"],
        object_id=obj.get("id") if isinstance(obj, dict) else None,
        created=datetime.fromtimestamp(event["created"], UTC) if isinstance(event.get("created"), int) else None,
        payload=event,
        status=StripeEventStatus.IGNORED,
    )
    try:
        with db.session.begin_nested():  # the same event delivered twice at once: the second finds the first
            db.session.add(row)
    except IntegrityError:
        return Receipt(db.session.get(StripeEvent, event["id"]), replayed=True)
    outcome = dispatch(event)
    row.status, row.note = outcome.status, outcome.note
    if outcome.status is StripeEventStatus.PARKED:
        record_exception(ExceptionKind.PARKED_EVENT, details={
            "event": event["id"], "type": event["type"], "object": row.object_id, "note": outcome.note,
        })
    return Receipt(row, replayed=False)


def dispatch(event: dict) -> Outcome:
    """Run every handler for the event's type; parked wins over processed, processed over ignored."""
    handlers = _HANDLERS.get(event["type"], [])
    if not handlers:
        return ignored(f"no handler for {event['type']}")
    outcomes = [handler(event) for handler in handlers]
    for status in (StripeEventStatus.PARKED, StripeEventStatus.PROCESSED):
        chosen = [outcome for outcome in outcomes if outcome.status is status]
        if chosen:
            return Outcome(status, "; ".join(outcome.note for outcome in chosen if outcome.note))
    return Outcome(StripeEventStatus.IGNORED, "; ".join(outcome.note for outcome in outcomes if outcome.note))
