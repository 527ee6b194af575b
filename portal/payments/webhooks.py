"""POST /webhooks/stripe: Stripe's (and localstripe's) signed events. Public (Stripe signs, not a session) and
CSRF-exempt; the signature on the raw body is the only credential. See portal/payments/events.py."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from portal.extensions import csrf, db
from portal.payments import events
from portal.security import public

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/stripe")
@public
@csrf.exempt
def stripe_event():
    try:
        receipt = events.receive(payload=request.get_data(cache=False),
                                 signature=request.headers.get("Stripe-Signature"))
    except events.BadSignature as error:
        log.warning("refused a Stripe webhook from %s: %s", request.remote_addr, error)
        return jsonify(error="bad signature"), 400
    db.session.commit()
    return jsonify(id=receipt.event.id, status=receipt.event.status.value, replayed=receipt.replayed)


from portal.payments import connect, webhook_handlers  # noqa: E402,F401  (register the event handlers)
