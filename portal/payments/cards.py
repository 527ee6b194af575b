"""The holder's prepaid card: starting a card set-up, the funding rule, and saving the card Stripe confirmed.

The card number never reaches us: Stripe.js sends it to Stripe, and the browser posts back only the PaymentMethod
id. We ask Stripe what that card is (so nothing the browser claims about it is trusted), check it belongs to this
holder's Stripe customer and that its funding type is allowed, and keep only Stripe ids and what the holder may see.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.data.audit import record
from portal.extensions import db
from portal.models import CardStatus, DirectPaymentAccount, ExceptionKind, PaymentCard, User
from portal.payments import gateway
from portal.payments.gateway import CardDetails, PaymentDeclined
from portal.payments.spending import record_exception


class CardRefused(Exception):
    """The card cannot be used for direct payments. ``message`` is for the holder (lazy, their language)."""

    def __init__(self, message, *, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


NOT_PREPAID = _l("This card cannot be used. Use the prepaid card the council gave you for your direct payment.")
NOT_YOURS = _l("This card could not be added. Try again, or contact the council's direct payments team.")


@dataclass(frozen=True)
class CardSetup:
    """What the card page needs to run Stripe.js."""

    setup_intent_id: str
    client_secret: str
    publishable_key: str
    stripe_js_url: str


def funding_refusal(card: CardDetails, *, require_prepaid: bool) -> str | None:
    """Why this card may not be registered (a reason code), or None when it may.

    With the prepaid rule on (production), only cards Stripe reports as ``funding: prepaid`` are accepted: a
    direct payment is spent from the council's prepaid card, never the holder's own debit or credit card."""
    if require_prepaid and card.funding != "prepaid":
        return "not_prepaid"
    return None


def active_card(dp_account: DirectPaymentAccount) -> PaymentCard | None:
    return db.session.scalar(
        sa.select(PaymentCard)
        .where(PaymentCard.dp_account_id == dp_account.id, PaymentCard.status == CardStatus.ACTIVE)
        .order_by(PaymentCard.created_at.desc())
        .limit(1)
    )


def ensure_customer(*, actor: User, dp_account: DirectPaymentAccount) -> str:
    """The account's Stripe customer id, creating the customer the first time. Raises PaymentUnavailable.

    A customer Stripe no longer knows (localstripe forgets everything when `make run` restarts it; a customer
    deleted in Stripe's dashboard) is replaced, and the cards saved under it are marked removed: they cannot be
    charged any more, so the holder adds the card again."""
    lost = dp_account.stripe_customer_id
    if lost and gateway.customer_exists(lost):
        return lost
    dp_account.stripe_customer_id = gateway.create_customer(dp_account, replacing=lost)
    if lost:
        for card in db.session.scalars(sa.select(PaymentCard).where(
                PaymentCard.dp_account_id == dp_account.id, PaymentCard.status == CardStatus.ACTIVE)):
            card.status = CardStatus.REMOVED
    record(actor=actor, action="dp_account.stripe_customer_created", subject=dp_account,
           before={"stripe_customer_id": lost} if lost else None,
           after={"stripe_customer_id": dp_account.stripe_customer_id})
    return dp_account.stripe_customer_id


def start_card_setup(*, dp_account: DirectPaymentAccount) -> CardSetup:
    """A SetupIntent for the account's customer (which must exist: see ensure_customer). Writes nothing here."""
    if not dp_account.stripe_customer_id:
        raise LookupError("the account has no Stripe customer yet")
    setup_intent_id, client_secret = gateway.create_setup_intent(dp_account.stripe_customer_id)
    return CardSetup(setup_intent_id, client_secret, gateway.publishable_key(), gateway.stripe_js_url())


def register_card(*, actor: User, dp_account: DirectPaymentAccount, payment_method_id: str) -> PaymentCard:
    """Save the card Stripe.js set up as the account's card; the previous active card becomes REPLACED.

    Raises CardRefused (a SpendingException is recorded for a non-prepaid card: commit before answering),
    PaymentDeclined (Stripe would not attach the card), PaymentUnavailable, PaymentError.
    """
    customer_id = dp_account.stripe_customer_id
    if not customer_id:
        raise CardRefused(NOT_YOURS, reason="no_customer")
    card = gateway.card_from_payment_method(payment_method_id)
    if card.customer not in (None, customer_id):
        raise CardRefused(NOT_YOURS, reason="other_customer")
    refusal = funding_refusal(card, require_prepaid=current_app.config["STRIPE_REQUIRE_PREPAID"])
    if refusal:
        record_exception(ExceptionKind.CARD_NOT_PREPAID, dp_account=dp_account, actor=actor, details={
            "payment_method": card.payment_method_id, "brand": card.brand, "last4": card.last4,
            "funding": card.funding,
        })
        raise CardRefused(NOT_PREPAID, reason=refusal)
    if card.customer is None:  # localstripe does not attach a SetupIntent's card to its customer; Stripe does
        try:
            card = gateway.attach_payment_method(payment_method_id, customer_id)
        except PaymentDeclined as declined:
            record_exception(ExceptionKind.CARD_DECLINED, dp_account=dp_account, actor=actor,
                             details={"payment_method": payment_method_id, "code": declined.code})
            raise

    existing = db.session.scalar(
        sa.select(PaymentCard).where(PaymentCard.stripe_payment_method_id == card.payment_method_id)
    )
    if existing is not None and existing.dp_account_id != dp_account.id:
        raise CardRefused(NOT_YOURS, reason="another_account")
    previous = active_card(dp_account)
    if existing is not None and existing is previous:
        return existing  # the same card posted twice (a double click, a retried request)
    if previous is not None:
        previous.status = CardStatus.REPLACED
    saved = existing or PaymentCard(dp_account_id=dp_account.id, stripe_payment_method_id=card.payment_method_id)
    saved.status = CardStatus.ACTIVE
    saved.brand, saved.last4, saved.funding = card.brand[:30], card.last4[:4], card.funding[:20]
    saved.exp_month, saved.exp_year = card.exp_month, card.exp_year
    saved.registered_by_id = actor.id
    db.session.add(saved)
    db.session.flush()
    record(actor=actor, action="payment_card.registered", subject=saved, details={"dp_account_id": dp_account.id},
           before={"card": previous.stripe_payment_method_id, "last4": previous.last4} if previous else None,
           after={"card": saved.stripe_payment_method_id, "brand": saved.brand, "last4": saved.last4,
                  "expiry": f"{saved.exp_month:02d}/{saved.exp_year}", "funding": saved.funding})
    return saved
