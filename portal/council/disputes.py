"""Council pages for direct-payment orders and their disputes (direct-payments officers, and admins): one order with
its money and journals, and settling a dispute as a question page, check answers and a confirmation.

The officer's answers wait in the session (keyed by the order) until they are checked; the decision is one call to
portal.marketplace.disputes.resolve, committed once. Pressing the button twice, or going back and pressing it
again, finds the dispute already settled and shows the confirmation.
"""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from werkzeug.exceptions import NotFound
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from portal.council import bp
from portal.council.dp_audit import JOURNAL_KIND_LABELS
from portal.extensions import db
from portal.i18n import money
from portal.ledger import dp_balances
from portal.marketplace import disputes
from portal.marketplace import orders as lifecycle
from portal.models import Role
from portal.payments.gateway import PaymentError
from portal.provider.listing_forms import NotPounds, pence_to_pounds, pounds_to_pence
from portal.security import roles_required

dp_officers = roles_required(Role.COUNCIL_DP_OFFICER)
ANSWERS_KEY = "dp_dispute_decisions"
ANSWERS_KEPT = 5

PAY = "pay"
RELEASE = "release"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class DisputeDecisionForm(FlaskForm):
    outcome = RadioField(
        _l("What should happen to the money?"), widget=GovRadioInput(),
        choices=[SelectChoice(PAY, _l("Pay the provider some or all of it")),
                 SelectChoice(RELEASE, _l("Pay the provider nothing and give it all back to the budget"))],
        validators=[DataRequired(message=_l("Select what should happen to the money"))],
        invalid_choice_message=_l("Select what should happen to the money"),
    )
    amount = StringField(_l("How much should the provider be paid?"), widget=GovTextInput(), filters=[_strip],
                         description=_l("Only if you pay the provider something. In pounds, for example 15.50."))
    reason = TextAreaField(
        _l("Reason for your decision"), widget=GovTextArea(), filters=[_strip],
        description=_l("The holder and the provider will see this in the email we send them."),
        validators=[DataRequired(message=_l("Enter the reason for your decision")),
                    Length(max=lifecycle.REASON_MAX, message=_l("Reason must be 2000 characters or fewer"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def __init__(self, *args, held_pence: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.held_pence = held_pence
        self.pence = 0

    def validate_amount(self, field) -> None:
        if self.outcome.data != PAY:
            return
        if not field.data:
            raise ValidationError(_("Enter how much the provider should be paid"))
        try:
            pence = pounds_to_pence(field.data)
        except NotPounds:
            raise ValidationError(_("Amount must be an amount of money, like 15.50")) from None
        if pence <= 0:
            raise ValidationError(_("Amount must be more than £0. To pay nothing, choose to give it all back"))
        if pence > self.held_pence:
            raise ValidationError(_("Amount must be %(held)s or less: that is all the money held",
                                    held=money(self.held_pence)))
        self.pence = pence


class ConfirmDecisionForm(FlaskForm):
    submit = SubmitField(_l("Confirm the decision"), widget=GovSubmitInput())


@bp.errorhandler(disputes.OrderNotFound)
def dp_order_not_found(error):
    return render_template("errors/404.html", error=NotFound()), 404


def _answers() -> dict:
    return session.get(ANSWERS_KEY, {})


def _keep(order_id: uuid.UUID, answers: dict | None) -> None:
    kept = {key: value for key, value in _answers().items() if key != str(order_id)}
    if answers is not None:
        kept = dict(list(kept.items())[-(ANSWERS_KEPT - 1):] + [(str(order_id), answers)])
    session[ANSWERS_KEY] = kept


@bp.get("/direct-payments/orders/<uuid:order_id>")
@dp_officers
def dp_order(order_id: uuid.UUID):
    order = disputes.order_for_council(order_id)
    return render_template("council/dp_orders/order.html", order=order, labels=lifecycle.STATE_LABELS,
                           timeline=lifecycle.timeline(order), journals=disputes.order_journals(order),
                           waiting=disputes.waiting_for_decision(order), kind_labels=JOURNAL_KIND_LABELS)


@bp.route("/direct-payments/orders/<uuid:order_id>/resolve", methods=["GET", "POST"])
@dp_officers
def dp_resolve_dispute(order_id: uuid.UUID):
    order = disputes.order_for_council(order_id)
    if not disputes.waiting_for_decision(order):
        return redirect(url_for("council.dp_order", order_id=order.id))
    form = DisputeDecisionForm(held_pence=order.amount_pence)
    if request.method == "GET" and (answers := _answers().get(str(order.id))):  # "Change" from the check page
        form.outcome.data = PAY if answers["pence"] else RELEASE
        form.amount.data = pence_to_pounds(answers["pence"]) if answers["pence"] else ""
        form.reason.data = answers["reason"]
    if form.validate_on_submit():
        _keep(order.id, {"pence": form.pence if form.outcome.data == PAY else 0, "reason": form.reason.data})
        return redirect(url_for("council.dp_resolve_dispute_check", order_id=order.id))
    return render_template("council/dp_orders/resolve.html", order=order, form=form), 400 if form.errors else 200


@bp.route("/direct-payments/orders/<uuid:order_id>/resolve/check", methods=["GET", "POST"])
@dp_officers
def dp_resolve_dispute_check(order_id: uuid.UUID):
    order = disputes.order_for_council(order_id)
    if order.dispute_resolved_at is not None and not disputes.waiting_for_decision(order):
        return redirect(url_for("council.dp_dispute_resolved", order_id=order.id))  # pressed twice
    if not disputes.waiting_for_decision(order):
        return redirect(url_for("council.dp_order", order_id=order.id))
    answers = _answers().get(str(order.id))
    form = ConfirmDecisionForm()
    if answers and form.validate_on_submit():
        try:
            disputes.resolve(actor=current_user._get_current_object(), order=order, capture_pence=answers["pence"],
                             reason=answers["reason"])
        except disputes.InvalidAmount:
            db.session.rollback()
            flash(_("The amount is more than the money held. Change the amount."), "error")
            return redirect(url_for("council.dp_resolve_dispute", order_id=order_id))
        except PaymentError:
            db.session.rollback()
            flash(_("We could not reach the card provider. Nothing has changed. Try again in a few minutes."),
                  "error")
            return redirect(url_for("council.dp_resolve_dispute_check", order_id=order_id))
        db.session.commit()
        _keep(order.id, None)
        return redirect(url_for("council.dp_dispute_resolved", order_id=order.id))
    return render_template("council/dp_orders/resolve_check.html", order=order, answers=answers, form=form)


@bp.get("/direct-payments/orders/<uuid:order_id>/resolved")
@dp_officers
def dp_dispute_resolved(order_id: uuid.UUID):
    order = disputes.order_for_council(order_id)
    if order.dispute_resolved_at is None or disputes.waiting_for_decision(order):
        return redirect(url_for("council.dp_order", order_id=order.id))
    return render_template("council/dp_orders/resolved.html", order=order, paid_pence=order.captured_pence or 0,
                           balances=dp_balances(order.dp_account))
