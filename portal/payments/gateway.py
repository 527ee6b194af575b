"""The Stripe gateway: every call the portal makes to Stripe (or to localstripe in development and tests).

Configuration is read from the current app on every call (``STRIPE_SECRET_KEY``, ``STRIPE_API_BASE``,
``STRIPE_API_VERSION``, ``STRIPE_TIMEOUT_SECONDS``, ``STRIPE_MAX_NETWORK_RETRIES``) and a ``StripeClient`` is kept
per app and per configuration in ``app.extensions``: nothing is set on the global ``stripe`` module, so two apps in
one process (tests, a CLI beside a server) never share a key or an address. Functions return plain dataclasses,
never StripeObjects, and raise only the errors below.

Idempotency. Stripe honours the ``Idempotency-Key`` header for 24 hours, and we always send it; localstripe ignores
it. So our side enforces it too: ``create_authorisation`` writes the key into the PaymentIntent's metadata
(``metadata[idempotency_key]``) and, before creating, lists the customer's PaymentIntents (newest first) and returns
the one already carrying that key. A retry after a timeout, a crash between Stripe's answer and our commit, or a
double-clicked button therefore finds the first intent instead of authorising the card twice. Two concurrent calls
with one key are kept apart by the caller, which holds the direct-payment account's row lock (checkout does).
localstripe cannot list PaymentIntents by customer; portal/payments/localstripe_process.py teaches it to, as Stripe
does. Captures and cancellations are idempotent at Stripe's end by state (a second capture of a captured intent is
refused and we answer with the intent as it is).

Errors: PaymentDeclined (the card or the bank said no: a plain-English reason in the reader's language, and the
Stripe code), PaymentUnavailable (Stripe unreachable, timed out, rate limited or a 5xx: keep the order pending and
retry later), PaymentError (anything else: a bug or a refused request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

# The API version the code is written against; changing it is a reviewed change, never an SDK upgrade's side effect.
DEFAULT_API_VERSION = "2026-10-28.endive"
IDEMPOTENCY_METADATA_KEY = "idempotency_key"
_SCAN_LIMIT = 300  # how many of a customer's most recent PaymentIntents a retry looks through for its key


class PaymentError(Exception):
    """Stripe refused a request for a reason that is not the card's: a bug or a misconfiguration."""


class PaymentUnavailable(PaymentError):
    """Stripe could not be reached or failed (network, timeout, rate limit, 5xx). Retry later; nothing is lost."""


class PaymentDeclined(PaymentError):
    """The card or its bank declined. ``message`` is plain English (or Welsh) for the card holder."""

    def __init__(self, code: str, *, payment_intent_id: str | None = None):
        self.code = code or "card_declined"
        self.message = decline_message(self.code)
        self.payment_intent_id = payment_intent_id
        super().__init__(self.code)


# What each Stripe decline code means, in words a card holder can act on. Unknown codes get the general message.
DECLINE_MESSAGES = {
    "card_declined": _l("Your card was declined. Check the card details, or contact the council's direct payments "
                        "team."),
    "generic_decline": _l("Your card was declined. Check the card details, or contact the council's direct payments "
                          "team."),
    "insufficient_funds": _l("There is not enough money on your card. Contact the council's direct payments team."),
    "expired_card": _l("Your card has expired. Add your new card and try again."),
    "incorrect_cvc": _l("The security code is wrong. It is the last 3 digits on the back of your card."),
    "invalid_cvc": _l("The security code is wrong. It is the last 3 digits on the back of your card."),
    "incorrect_number": _l("The card number is wrong. Check it and try again."),
    "invalid_expiry_month": _l("The expiry date is wrong. Check it and try again."),
    "invalid_expiry_year": _l("The expiry date is wrong. Check it and try again."),
    "processing_error": _l("Something went wrong while checking your card. Try again in a few minutes."),
    "authentication_required": _l("Your bank needs you to confirm this payment. Try again and follow your bank's "
                                  "instructions."),
    "payment_intent_authentication_failure": _l("Your bank could not confirm it was you. Try again and follow your "
                                                "bank's instructions."),
    "card_not_supported": _l("This card cannot be used for this payment. Use your direct payment prepaid card."),
    "lost_card": _l("Your card was declined. Contact the council's direct payments team."),
    "stolen_card": _l("Your card was declined. Contact the council's direct payments team."),
    "do_not_honor": _l("Your card was declined. Contact the council's direct payments team."),
}


def decline_message(code: str | None):
    """The plain-English (or Welsh, in a Welsh request) reason for a decline code; a lazy string."""
    return DECLINE_MESSAGES.get(code or "", DECLINE_MESSAGES["card_declined"])


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str  # prepaid / debit / credit / unknown
    customer: str | None


@dataclass(frozen=True)
class SetupIntentDetails:
    id: str
    client_secret: str
    status: str = ""
    payment_method: str | None = None
    customer: str | None = None


@dataclass(frozen=True)
class PaymentResult:
    id: str
    status: str  # Stripe's PaymentIntent status: requires_capture, requires_action, succeeded, canceled ...
    client_secret: str | None = None
    error_message: Any = None  # plain English (a lazy string) when the last attempt failed
    error_code: str | None = None
    amount: int = 0
    amount_capturable: int = 0
    amount_received: int = 0
    customer: str | None = None
    metadata: dict = field(default_factory=dict)


# --- the client ------------------------------------------------------------------------------------------------


def _settings() -> tuple:
    config = current_app.config
    return (
        config["STRIPE_SECRET_KEY"],
        config.get("STRIPE_API_BASE") or None,
        config.get("STRIPE_API_VERSION") or DEFAULT_API_VERSION,
        float(config.get("STRIPE_TIMEOUT_SECONDS") or 20),
        int(config.get("STRIPE_MAX_NETWORK_RETRIES", 0 if config.get("TESTING") else 2)),
    )


def client() -> stripe.StripeClient:
    """This app's Stripe client for its current configuration (a test may point STRIPE_API_BASE elsewhere)."""
    settings = _settings()
    clients = current_app.extensions.setdefault("portal_stripe_clients", {})
    found = clients.get(settings)
    if found is None:
        api_key, api_base, version, timeout, retries = settings
        found = stripe.StripeClient(
            api_key,
            stripe_version=version,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=(min(timeout, 5.0), timeout)),
        )
        clients[settings] = found
    return found


def publishable_key() -> str:
    return current_app.config["STRIPE_PUBLISHABLE_KEY"]


def stripe_js_url() -> str:
    """Stripe.js: localstripe's stand-in when STRIPE_API_BASE points at it, else Stripe's own."""
    base = current_app.config.get("STRIPE_API_BASE")
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


def _call(function, *args, **kwargs):
    """Run one SDK call, turning Stripe's errors into ours."""
    try:
        return function(*args, **kwargs)
    except stripe.CardError as error:
        raise PaymentDeclined(_error_code(error), payment_intent_id=_error_intent(error)) from error
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise PaymentUnavailable(str(error)) from error
    except stripe.StripeError as error:
        if (error.http_status or 0) >= 500:
            raise PaymentUnavailable(str(error)) from error
        raise PaymentError(f"{type(error).__name__}: {error.user_message or error}") from error


def _error_code(error: stripe.StripeError) -> str:
    body = (error.json_body or {}).get("error") or {}
    return body.get("decline_code") or error.code or body.get("code") or "card_declined"


def _error_intent(error: stripe.StripeError) -> str | None:
    intent = ((error.json_body or {}).get("error") or {}).get("payment_intent")
    if isinstance(intent, dict):
        return intent.get("id")
    return intent


def _plain(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


# --- customers, cards and setup intents ------------------------------------------------------------------------


def create_customer(dp_account, *, replacing: str | None = None) -> str:
    """A Stripe customer for a direct-payment account (its reference and id in metadata, no personal data).
    ``replacing``: the customer Stripe lost, so the idempotency key differs from the first customer's."""
    key = f"customer:{dp_account.id}" + (f":replacing:{replacing}" if replacing else "")
    customer = _call(
        client().v1.customers.create,
        {"metadata": {"dp_account_id": str(dp_account.id), "dp_reference": dp_account.reference}},
        {"idempotency_key": key},
    )
    return customer.id


def customer_exists(customer_id: str) -> bool:
    """Whether Stripe still knows the customer (a development emulator forgets everything when it restarts)."""
    try:
        client().v1.customers.retrieve(customer_id)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return False
        raise PaymentError(f"InvalidRequestError: {error.user_message or error}") from error
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise PaymentUnavailable(str(error)) from error
    except stripe.StripeError as error:
        raise PaymentUnavailable(str(error)) from error
    return True


def create_setup_intent(customer_id: str) -> tuple[str, str]:
    """A SetupIntent to save a card for ``customer_id`` while the holder is present; returns (id, client_secret)."""
    intent = _call(
        client().v1.setup_intents.create,
        {"customer": customer_id, "usage": "on_session", "payment_method_types": ["card"]},
    )
    return intent.id, intent.client_secret


def retrieve_setup_intent(setup_intent_id: str) -> SetupIntentDetails:
    intent = _plain(_call(client().v1.setup_intents.retrieve, setup_intent_id))
    return SetupIntentDetails(id=intent["id"], client_secret=intent.get("client_secret") or "",
                              status=intent.get("status") or "", payment_method=_id_of(intent.get("payment_method")),
                              customer=_id_of(intent.get("customer")))


def card_details(payment_method: dict) -> CardDetails:
    """CardDetails from a PaymentMethod as Stripe documents it (a dict). Raises PaymentError for a non-card."""
    if payment_method.get("type") != "card" or not isinstance(payment_method.get("card"), dict):
        raise PaymentError(f"payment method {payment_method.get('id')} is not a card")
    card = payment_method["card"]
    return CardDetails(
        payment_method_id=payment_method["id"],
        brand=str(card.get("brand") or "unknown"),
        last4=str(card.get("last4") or ""),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        funding=str(card.get("funding") or "unknown"),
        customer=_id_of(payment_method.get("customer")),
    )


def card_from_payment_method(payment_method_id: str) -> CardDetails:
    """The card behind a PaymentMethod id, as Stripe reports it (brand, last four, expiry, funding, customer)."""
    return card_details(_plain(_call(client().v1.payment_methods.retrieve, payment_method_id)))


def attach_payment_method(payment_method_id: str, customer_id: str) -> CardDetails:
    """Attach a PaymentMethod to the customer (a SetupIntent with a customer does this itself at Stripe)."""
    return card_details(_plain(_call(client().v1.payment_methods.attach, payment_method_id,
                                     {"customer": customer_id})))


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None


# --- payment intents --------------------------------------------------------------------------------------------


def payment_result(intent: dict) -> PaymentResult:
    """A PaymentResult from a PaymentIntent as Stripe documents it (a dict, e.g. a webhook event's object)."""
    error = intent.get("last_payment_error") or {}
    code = (error.get("decline_code") or error.get("code")) if error else None
    amount = int(intent.get("amount") or 0)
    capturable, received = intent.get("amount_capturable"), intent.get("amount_received")
    if capturable is None or received is None:  # older shapes: derive from the charge
        capturable, received = _amounts_from_charge(intent)
    return PaymentResult(
        id=intent["id"],
        status=intent.get("status") or "",
        client_secret=intent.get("client_secret"),
        error_message=decline_message(code) if error else None,  # lazy: rendered in the reader's language
        error_code=code,
        amount=amount,
        amount_capturable=int(capturable or 0),
        amount_received=int(received or 0),
        customer=_id_of(intent.get("customer")),
        metadata=dict(intent.get("metadata") or {}),
    )


def _amounts_from_charge(intent: dict) -> tuple[int, int]:
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict) or charge.get("status") != "succeeded":
        return 0, 0
    if not charge.get("captured"):
        return (int(charge.get("amount") or 0) if intent.get("status") == "requires_capture" else 0), 0
    return 0, int(charge.get("amount") or 0) - int(charge.get("amount_refunded") or 0)


def _intents_of(customer_id: str) -> Iterator[dict]:
    page = _call(client().v1.payment_intents.list, {"customer": customer_id, "limit": 100})
    seen = 0
    while True:
        for intent in page.data:
            seen += 1
            yield _plain(intent)
        if not page.has_more or seen >= _SCAN_LIMIT or not page.data:
            return
        page = _call(client().v1.payment_intents.list,
                     {"customer": customer_id, "limit": 100, "starting_after": page.data[-1].id})


def find_authorisation(customer_id: str, idempotency_key: str) -> PaymentResult | None:
    """The PaymentIntent created earlier for ``idempotency_key``, if any (see the module docstring)."""
    for intent in _intents_of(customer_id):
        if (intent.get("metadata") or {}).get(IDEMPOTENCY_METADATA_KEY) == idempotency_key:
            return payment_result(intent)
    return None


def create_authorisation(
    *,
    amount_pence: int,
    customer_id: str,
    payment_method_id: str,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
    first_attempt: bool = False,
) -> PaymentResult:
    """Authorise (not capture) ``amount_pence`` on the card, with the holder present.

    ``first_attempt``: the caller created what is being paid for in this same request, so no earlier intent can
    carry the key and the lookup (a list of the customer's intents) is skipped. Every retry looks first.

    Returns the intent: ``requires_capture`` when authorised, ``requires_action`` when the bank wants 3-D Secure
    (the browser finishes it with ``client_secret``). The same key returns the same intent. Raises PaymentDeclined
    (also when the intent found for the key had been declined), PaymentUnavailable, PaymentError.
    """
    if amount_pence <= 0:
        raise PaymentError("an authorisation needs a positive amount")
    existing = None if first_attempt else find_authorisation(customer_id, idempotency_key)
    if existing is not None:
        if existing.status == "requires_payment_method" and existing.error_code:
            raise PaymentDeclined(existing.error_code, payment_intent_id=existing.id)
        return existing
    intent = _call(
        client().v1.payment_intents.create,
        {
            "amount": amount_pence,
            "currency": "gbp",
            "customer": customer_id,
            "payment_method": payment_method_id,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "off_session": False,
            "metadata": {**(metadata or {}), IDEMPOTENCY_METADATA_KEY: idempotency_key},
        },
        {"idempotency_key": idempotency_key},
    )
    return payment_result(_plain(intent))


def retrieve_payment_intent(payment_intent_id: str) -> PaymentResult:
    return payment_result(_plain(_call(client().v1.payment_intents.retrieve, payment_intent_id)))


def capture(payment_intent_id: str, amount_pence: int, idempotency_key: str) -> PaymentResult:
    """Capture ``amount_pence`` (at most the authorised amount; the rest goes back to the card).

    Capturing an intent that is already captured returns it as it is, so a retried capture is harmless."""
    current = retrieve_payment_intent(payment_intent_id)
    if current.status == "succeeded":
        return current
    if current.status != "requires_capture":
        raise PaymentError(f"payment intent {payment_intent_id} cannot be captured: it is {current.status}")
    if not 0 < amount_pence <= current.amount_capturable:
        raise PaymentError(f"cannot capture {amount_pence}p of {current.amount_capturable}p")
    intent = _call(client().v1.payment_intents.capture, payment_intent_id, {"amount_to_capture": amount_pence},
                   {"idempotency_key": idempotency_key})
    return payment_result(_plain(intent))


def cancel_authorisation(payment_intent_id: str, idempotency_key: str) -> PaymentResult:
    """Release the authorisation on the card. Cancelling a cancelled intent returns it as it is."""
    current = retrieve_payment_intent(payment_intent_id)
    if current.status == "canceled":
        return current
    if current.status == "succeeded":
        raise PaymentError(f"payment intent {payment_intent_id} is already captured")
    intent = _call(client().v1.payment_intents.cancel, payment_intent_id, {}, {"idempotency_key": idempotency_key})
    return payment_result(_plain(intent))
