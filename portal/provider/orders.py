"""Provider pages for direct-payment orders: the list by state, each order, accept, decline (with a reason) and
record what was delivered. Orders are reached through portal.marketplace.orders.order_for_provider: another
organisation's order raises NotPermitted, answered with 404."""

from __future__ import annotations

import uuid

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.extensions import db
from portal.marketplace import orders as lifecycle
from portal.models import OrderState
from portal.payments.gateway import PaymentError
from portal.provider import bp

LISTED_STATES = [OrderState.REQUESTED, OrderState.ACCEPTED, OrderState.DELIVERED, OrderState.CONFIRMED,
                 OrderState.CAPTURED, OrderState.DISPUTED, OrderState.DECLINED, OrderState.CANCELLED]


class AcceptForm(FlaskForm):
    pass


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are you declining this order?"),
        widget=GovTextArea(),
        description=_l("The person who ordered sees this. For example, you have no one free on that date."),
        validators=[DataRequired(message=_l("Enter why you are declining this order")),
                    Length(max=lifecycle.REASON_MAX, message=_l("The reason must be 2000 characters or fewer"))],
    )
    submit = SubmitField(_l("Decline order"), widget=GovSubmitInput())


class DeliveryForm(FlaskForm):
    delivered_units = IntegerField(
        _l("How many did you deliver?"),
        widget=GovTextInput(),
        validators=[InputRequired(message=_l("Enter how many you delivered")),
                    NumberRange(min=0, message=_l("How many you delivered must be 0 or more"))],
    )
    submit = SubmitField(_l("Record delivery"), widget=GovSubmitInput())


def _state_filter() -> OrderState | None:
    try:
        state = OrderState(request.args.get("state", ""))
    except ValueError:
        return None
    return state if state in LISTED_STATES else None


@bp.get("/orders")
def orders():
    state = _state_filter()
    return render_template("provider/orders.html", orders=lifecycle.orders_for_provider(current_user, state=state),
                           state=state, states=LISTED_STATES, labels=lifecycle.STATE_LABELS)


@bp.get("/orders/<uuid:order_id>")
def order(order_id: uuid.UUID):
    found = lifecycle.order_for_provider(current_user, order_id)
    return render_template("provider/order.html", order=found, labels=lifecycle.STATE_LABELS,
                           timeline=lifecycle.timeline(found), accept_form=AcceptForm(), States=OrderState)


@bp.post("/orders/<uuid:order_id>/accept")
def accept_order(order_id: uuid.UUID):
    found = lifecycle.order_for_provider(current_user, order_id)
    if AcceptForm().validate_on_submit():
        try:
            lifecycle.accept(actor=current_user, order=found)
        except lifecycle.InvalidTransition:
            db.session.rollback()
            flash(_("This order can no longer be accepted."), "error")
        else:
            db.session.commit()
            flash(_("You accepted order %(reference)s", reference=found.reference), "success")
    return redirect(url_for("provider.order", order_id=found.id))


@bp.route("/orders/<uuid:order_id>/decline", methods=["GET", "POST"])
def decline_order(order_id: uuid.UUID):
    found = lifecycle.order_for_provider(current_user, order_id)
    if found.state is not OrderState.REQUESTED:
        return redirect(url_for("provider.order", order_id=found.id))
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            lifecycle.decline(actor=current_user, order=found, reason=form.reason.data.strip())
        except PaymentError:
            db.session.rollback()
            current_app.logger.exception("could not cancel the authorisation of order %s", found.reference)
            flash(_("We could not reach the card provider. Nothing has changed. Try again in a few minutes."),
                  "error")
            return redirect(url_for("provider.order", order_id=found.id))
        db.session.commit()
        flash(_("You declined order %(reference)s", reference=found.reference), "success")
        return redirect(url_for("provider.order", order_id=found.id))
    return render_template("provider/order_decline.html", order=found, form=form)


@bp.route("/orders/<uuid:order_id>/deliver", methods=["GET", "POST"])
def deliver_order(order_id: uuid.UUID):
    found = lifecycle.order_for_provider(current_user, order_id)
    if found.state is not OrderState.ACCEPTED:
        return redirect(url_for("provider.order", order_id=found.id))
    form = DeliveryForm(data={"delivered_units": found.units} if request.method == "GET" else None)
    if form.validate_on_submit():
        if form.delivered_units.data > found.units:
            form.delivered_units.errors.append(
                _("How many you delivered must be %(units)d or fewer", units=found.units))
        else:
            lifecycle.record_delivery(actor=current_user, order=found, delivered_units=form.delivered_units.data)
            db.session.commit()
            flash(_("You recorded the delivery of order %(reference)s", reference=found.reference), "success")
            return redirect(url_for("provider.order", order_id=found.id))
    return render_template("provider/order_deliver.html", order=found, form=form)
