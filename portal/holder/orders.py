"""The holder's orders at /direct-payment/orders: the list, each order with its timeline, 3-D Secure, retrying a
card payment that could not reach Stripe, cancelling before acceptance, confirming or disputing delivery."""

from __future__ import annotations

import uuid

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.data.dp_access import dp_account_for
from portal.extensions import db
from portal.holder import bp
from portal.marketplace import authorisations
from portal.marketplace import orders as lifecycle
from portal.models import OrderState
from portal.payments import gateway
from portal.payments.csp import card_page_csp
from portal.payments.gateway import PaymentError

UNREACHABLE = _l("We could not reach the card provider. Nothing has changed. Try again in a few minutes.")


class OrderActionForm(FlaskForm):
    pass


class DisputeForm(FlaskForm):
    reason = TextAreaField(
        _l("What went wrong?"),
        widget=GovTextArea(),
        description=_l("For example, the provider did not come, or came for less time than they recorded."),
        validators=[DataRequired(message=_l("Enter what went wrong")),
                    Length(max=lifecycle.REASON_MAX, message=_l("What went wrong must be 2000 characters or fewer"))],
    )
    submit = SubmitField(_l("Tell the council"), widget=GovSubmitInput())


def _order(order_id: uuid.UUID):
    return lifecycle.order_for_holder(current_user, order_id)


@bp.get("/orders")
def orders():
    account = dp_account_for(current_user)
    return render_template("holder/orders.html", account=account, orders=lifecycle.orders_of(account),
                           labels=lifecycle.STATE_LABELS)


@bp.get("/orders/<uuid:order_id>")
def order(order_id: uuid.UUID):
    found = _order(order_id)
    return render_template("holder/order.html", order=found, labels=lifecycle.STATE_LABELS,
                           timeline=lifecycle.timeline(found), form=OrderActionForm(),
                           can_cancel=found.state in (OrderState.PENDING_PAYMENT, OrderState.REQUESTED),
                           States=OrderState)


@bp.get("/orders/<uuid:order_id>/authenticate")
@card_page_csp()
def authenticate_payment(order_id: uuid.UUID):
    found = _order(order_id)
    try:
        secret = authorisations.client_secret(found)
    except PaymentError:
        secret = None
    if secret is None:
        return redirect(url_for("holder.order", order_id=found.id))
    return render_template("holder/order_authenticate.html", order=found, client_secret=secret,
                           publishable_key=gateway.publishable_key(), stripe_js_url=gateway.stripe_js_url(),
                           form=OrderActionForm())


@bp.post("/orders/<uuid:order_id>/payment")
def check_payment(order_id: uuid.UUID):
    """After 3-D Secure, or the retry button when Stripe was unreachable: ask Stripe again (same key)."""
    found = _order(order_id)
    if not OrderActionForm().validate_on_submit():
        return redirect(url_for("holder.order", order_id=found.id))
    outcome = authorisations.authorise(actor=current_user, order=found)
    db.session.commit()
    if outcome is authorisations.Outcome.NEEDS_AUTHENTICATION:
        return redirect(url_for("holder.authenticate_payment", order_id=found.id))
    if outcome is authorisations.Outcome.AUTHORISED:
        # The rest of the same checkout may still want the bank's check; then the confirmation page.
        waiting = authorisations.next_needing_authentication(found)
        if waiting is not None:
            return redirect(url_for("holder.authenticate_payment", order_id=waiting.id))
        return redirect(url_for("holder.checkout_confirmation", reference=found.checkout_reference))
    return redirect(url_for("holder.order", order_id=found.id))


@bp.post("/orders/<uuid:order_id>/cancel")
def cancel_order(order_id: uuid.UUID):
    found = _order(order_id)
    if OrderActionForm().validate_on_submit():
        try:
            lifecycle.cancel(actor=current_user, order=found)
        except lifecycle.InvalidTransition:
            db.session.rollback()
            flash(_("This order can no longer be cancelled here. Contact the provider."), "error")
        except PaymentError:
            db.session.rollback()
            current_app.logger.exception("could not cancel the authorisation of order %s", found.reference)
            flash(str(UNREACHABLE), "error")
        else:
            db.session.commit()
            flash(_("Order %(reference)s is cancelled. The money is back in your budget.",
                    reference=found.reference), "success")
    return redirect(url_for("holder.order", order_id=found.id))


@bp.post("/orders/<uuid:order_id>/confirm")
def confirm_order(order_id: uuid.UUID):
    found = _order(order_id)
    if not OrderActionForm().validate_on_submit():
        return redirect(url_for("holder.order", order_id=found.id))
    try:
        lifecycle.confirm(actor=current_user, order=found)
    except lifecycle.InvalidTransition:
        db.session.rollback()
        flash(_("This order cannot be confirmed now."), "error")
        return redirect(url_for("holder.order", order_id=found.id))
    db.session.commit()
    try:  # the confirmation stands even if the capture must wait for the timer
        lifecycle.capture(actor=current_user, order=found)
        db.session.commit()
    except PaymentError:
        db.session.rollback()
        current_app.logger.warning("capture of order %s deferred to the timer", found.reference)
    flash(_("Thank you. You confirmed order %(reference)s was delivered.", reference=found.reference), "success")
    return redirect(url_for("holder.order", order_id=found.id))


@bp.route("/orders/<uuid:order_id>/dispute", methods=["GET", "POST"])
def dispute_order(order_id: uuid.UUID):
    found = _order(order_id)
    if found.state is not OrderState.DELIVERED:  # the holder disputes what the provider recorded as delivered
        return redirect(url_for("holder.order", order_id=found.id))
    form = DisputeForm()
    if form.validate_on_submit():
        lifecycle.dispute(actor=current_user, order=found, reason=form.reason.data.strip())
        db.session.commit()
        flash(_("We have told the council. The money stays held until they sort it out."), "success")
        return redirect(url_for("holder.order", order_id=found.id))
    return render_template("holder/order_dispute.html", order=found, form=form)
