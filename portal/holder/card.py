"""The holder's prepaid card: see it, and add or replace it with Stripe.js.

GET /direct-payment/card shows the card on record. Adding one is a POST (it creates the Stripe customer the first
time) that redirects to GET /direct-payment/card/new, where Stripe.js (static/src/card.js) takes the card details
straight to Stripe with a SetupIntent and posts back only the PaymentMethod id. This is the one page that needs
JavaScript: without it, the page says so and gives the council's phone number.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from portal.data.dp_access import acts_as_nominee, dp_account_for
from portal.extensions import db
from portal.holder import bp
from portal.payments import cards, gateway
from portal.payments.csp import card_page_csp

SESSION_EXPIRED = _l("Your session expired. Try again.")
UNAVAILABLE = _l("Card payments are not working at the moment. Try again later.")
# What Stripe.js may report while the card is checked in the browser, in the reader's language.
BROWSER_MESSAGES = ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc", "incorrect_number",
                    "invalid_expiry_year", "processing_error", "payment_intent_authentication_failure")


class StartCardForm(FlaskForm):
    pass


class SaveCardForm(FlaskForm):
    payment_method_id = HiddenField(validators=[
        DataRequired(message=_l("Enter your card details")),
        Regexp(r"^pm_[A-Za-z0-9_]{1,250}$", message=_l("Enter your card details")),
    ])


def _account():
    return dp_account_for(current_user)


@bp.get("/card")
def card():
    account = _account()
    return render_template(
        "holder/card.html",
        account=account,
        card=cards.active_card(account),
        nominee=acts_as_nominee(current_user, account),
        form=StartCardForm(),
    )


@bp.post("/card")
def start_card():
    account = _account()
    if not StartCardForm().validate_on_submit():
        flash(_("Your session expired. Try again."), "error")
        return redirect(url_for("holder.card"))
    try:
        cards.ensure_customer(actor=current_user, dp_account=account)
    except gateway.PaymentError:
        current_app.logger.exception("could not create the Stripe customer for %s", account.reference)
        flash(str(UNAVAILABLE), "error")
        return redirect(url_for("holder.card"))
    db.session.commit()
    return redirect(url_for("holder.new_card"))


@bp.route("/card/new", methods=["GET", "POST"])
@card_page_csp()
def new_card():
    account = _account()
    if not account.stripe_customer_id:
        return redirect(url_for("holder.card"))
    form = SaveCardForm()
    error = None
    if form.is_submitted() and not form.validate():
        error = SESSION_EXPIRED if form.csrf_token.errors else None
    elif form.is_submitted():
        try:
            cards.register_card(actor=current_user, dp_account=account, payment_method_id=form.payment_method_id.data)
        except cards.CardRefused as refused:
            db.session.commit()  # keeps the spending exception the refusal recorded
            error = refused.message
        except gateway.PaymentDeclined as declined:
            db.session.commit()
            error = declined.message
        except gateway.PaymentError:
            current_app.logger.exception("could not register a card for %s", account.reference)
            db.session.rollback()
            error = UNAVAILABLE
        else:
            db.session.commit()
            flash(_("Your card has been saved"), "success")
            return redirect(url_for("holder.card"))
    return _card_entry_page(account, form, error)


def _card_entry_page(account, form: SaveCardForm, error):
    if error:
        form.payment_method_id.errors = [*form.payment_method_id.errors, error]
    errors = [str(message) for message in form.payment_method_id.errors]
    try:
        setup = cards.start_card_setup(dp_account=account)
    except gateway.PaymentError:
        current_app.logger.exception("could not start a card set-up for %s", account.reference)
        flash(str(UNAVAILABLE), "error")
        return redirect(url_for("holder.card"))
    form.payment_method_id.data = ""
    return render_template(
        "holder/card_new.html",
        account=account,
        card=cards.active_card(account),
        form=form,
        errors=errors,
        setup=setup,
        browser_messages={code: str(gateway.decline_message(code)) for code in BROWSER_MESSAGES},
    )
