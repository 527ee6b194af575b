"""Council pages for auditing direct payments (direct-payments officers, and admins): every journal, the spending
exceptions queue with reviews, the unusual-pattern check, surplus reclaimed, provider payables and payout runs.

Everything here reads the ledger through portal.data.dp_audit and portal.data.payables; the POSTs (review, check
patterns, create a run, mark a run paid) make one call, commit once and redirect.
"""

from __future__ import annotations

import uuid

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextArea, GovTextInput
from werkzeug.exceptions import NotFound
from wtforms import Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.council import bp
from portal.council.moderation_forms import _IsoDate
from portal.data import dp_audit, payables
from portal.extensions import db
from portal.ledger import InsufficientFunds
from portal.marketplace.disputes import open_disputes
from portal.marketplace.orders import STATE_LABELS
from portal.models import ExceptionKind, JournalKind, Role
from portal.payments.gateway import PaymentError
from portal.public.presenters import pagination
from portal.security import roles_required

dp_officers = roles_required(Role.COUNCIL_DP_OFFICER)
PER_PAGE = 25
NOTE_MAX = 2000

JOURNAL_KIND_LABELS = {
    JournalKind.ALLOCATION: _l("Allocation"),
    JournalKind.TOP_UP: _l("Top-up"),
    JournalKind.CONTRIBUTION: _l("Contribution"),
    JournalKind.HOLD: _l("Hold"),
    JournalKind.RELEASE: _l("Release"),
    JournalKind.CAPTURE: _l("Capture"),
    JournalKind.RECLAIM: _l("Reclaim"),
    JournalKind.PAYOUT: _l("Payout"),
    JournalKind.REVERSAL: _l("Reversal"),
}
EXCEPTION_KIND_LABELS = {
    ExceptionKind.OUTSIDE_PLAN: _l("Outside the care plan"),
    ExceptionKind.PROVIDER_NOT_ALLOWED: _l("Provider not allowed"),
    ExceptionKind.OVER_BALANCE: _l("More than the balance"),
    ExceptionKind.UNITS_OUT_OF_RANGE: _l("Units out of range"),
    ExceptionKind.ACCOUNT_NOT_ACTIVE: _l("Account suspended or closed"),
    ExceptionKind.NO_CARD: _l("No card registered"),
    ExceptionKind.OFFER_UNAVAILABLE: _l("Offer no longer for sale"),
    ExceptionKind.CARD_DECLINED: _l("Card declined"),
    ExceptionKind.CARD_NOT_PREPAID: _l("Card not prepaid"),
    ExceptionKind.DISPUTE: _l("Dispute"),
    ExceptionKind.UNUSUAL_PATTERN: _l("Unusual pattern"),
    ExceptionKind.PARKED_EVENT: _l("Parked payment event"),
    ExceptionKind.RECONCILIATION: _l("Reconciliation difference"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class JournalFilterForm(Form):
    """GET filters, so a filtered view can be bookmarked (no CSRF: it changes nothing)."""

    account = StringField(
        _l("Account"), widget=GovTextInput(), filters=[_strip],
        description=_l("A direct payment reference, like DP-7K3M9Q, or a ledger account code"),
        validators=[Length(max=120, message=_l("Account must be 120 characters or fewer"))],
    )
    kind = SelectField(_l("Type"), widget=GovSelect(), validate_choice=False,
                       choices=[SelectChoice("", _l("All types")),
                                *(SelectChoice(kind.value, label) for kind, label in JOURNAL_KIND_LABELS.items())])
    date_from = _IsoDate(_l("From"), description=_l("For example, 2026-11-02"), validators=[Optional()])
    date_to = _IsoDate(_l("To"), description=_l("For example, 2026-11-29"), validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must be the same as or after the start date"))


class ReviewExceptionForm(FlaskForm):
    note = TextAreaField(
        _l("What you found"), widget=GovTextArea(), filters=[_strip],
        validators=[DataRequired(message=_l("Enter what you found")),
                    Length(max=NOTE_MAX, message=_l("What you found must be 2000 characters or fewer"))],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _page_href(endpoint: str, **values):
    def href(number: int) -> str:
        arguments = {key: value for key, value in request.args.items() if key != "page" and value}
        return url_for(endpoint, **values, **arguments, page=number)
    return href


def _check_page(found) -> None:
    if found.page > found.pages:
        abort(404)


# --- Journals --------------------------------------------------------------------------------------------------


@bp.get("/direct-payments/journals")
@dp_officers
def dp_journals():
    form = JournalFilterForm(request.args)
    found = None
    if form.validate():
        filters = dp_audit.JournalFilters(
            account=form.account.data or "",
            kind=JournalKind(form.kind.data) if form.kind.data in {kind.value for kind in JournalKind} else None,
            date_from=form.date_from.data, date_to=form.date_to.data,
        )
        found = dp_audit.journals(filters=filters, page=_page_number(), per_page=PER_PAGE)
        _check_page(found)
    return render_template(
        "council/dp_audit/journals.html", form=form, journals=found, kind_labels=JOURNAL_KIND_LABELS,
        pagination=pagination(found.page, found.pages, _page_href("council.dp_journals")) if found else None,
    )


# --- Exceptions ------------------------------------------------------------------------------------------------


@bp.get("/direct-payments/exceptions")
@dp_officers
def dp_exceptions():
    kind = next((kind for kind in ExceptionKind if kind.value == request.args.get("kind")), None)
    reviewed = request.args.get("status") == "reviewed"
    found = dp_audit.exceptions(filters=dp_audit.ExceptionFilters(kind=kind, reviewed=reviewed),
                                page=_page_number(), per_page=PER_PAGE)
    _check_page(found)
    return render_template(
        "council/dp_audit/exceptions.html", exceptions=found, kind=kind, reviewed=reviewed,
        kind_labels=EXCEPTION_KIND_LABELS, review_form=ReviewExceptionForm(), check_form=ConfirmForm(),
        pagination=pagination(found.page, found.pages, _page_href("council.dp_exceptions")),
        open_disputes=[] if reviewed else open_disputes(), state_labels=STATE_LABELS,
    )


@bp.route("/direct-payments/exceptions/<uuid:exception_id>/review", methods=["GET", "POST"])
@dp_officers
def dp_review_exception(exception_id: uuid.UUID):
    found = dp_audit.exception_row(exception_id)
    if found is None:
        abort(404)
    form = ReviewExceptionForm()
    if found.exception.reviewed_at is None and form.validate_on_submit():
        try:
            dp_audit.review_exception(actor=current_user, exception_id=exception_id, note=form.note.data)
        except dp_audit.AlreadyReviewed:
            db.session.rollback()
            flash(_("Someone else reviewed this exception first"), "info")
        else:
            db.session.commit()
            flash(_("Exception marked as reviewed"), "success")
        return redirect(url_for("council.dp_exceptions"))
    return render_template("council/dp_audit/exception_review.html", row=found, form=form,
                           kind_labels=EXCEPTION_KIND_LABELS)


@bp.post("/direct-payments/exceptions/check-patterns")
@dp_officers
def dp_check_patterns():
    if not ConfirmForm().validate_on_submit():
        flash(_("Your session expired. Try again."), "error")
        return redirect(url_for("council.dp_exceptions"))
    added = dp_audit.record_unusual_patterns(actor=current_user)
    db.session.commit()
    if added:
        flash(_("%(count)s new unusual patterns found", count=len(added)), "success")
    else:
        flash(_("No new unusual patterns found"), "success")
    return redirect(url_for("council.dp_exceptions", kind=ExceptionKind.UNUSUAL_PATTERN.value))


# --- Surplus reclaimed -----------------------------------------------------------------------------------------


@bp.get("/direct-payments/reclaims")
@dp_officers
def dp_reclaims():
    found, total_pence = dp_audit.reclaims(page=_page_number(), per_page=PER_PAGE)
    _check_page(found)
    return render_template("council/dp_audit/reclaims.html", reclaims=found, total_pence=total_pence,
                           pagination=pagination(found.page, found.pages, _page_href("council.dp_reclaims")))


# --- Provider payables and payout runs -------------------------------------------------------------------------


@bp.errorhandler(payables.PayoutRunNotFound)
def payout_run_not_found(error):
    return render_template("errors/404.html", error=NotFound()), 404


@bp.get("/direct-payments/payables")
@dp_officers
def dp_payables():
    runs = payables.payout_runs(page=_page_number(), per_page=PER_PAGE)
    _check_page(runs)
    return render_template("council/dp_audit/payables.html", payables=payables.provider_payables(), runs=runs,
                           form=ConfirmForm(),
                           pagination=pagination(runs.page, runs.pages, _page_href("council.dp_payables")))


@bp.post("/direct-payments/payout-runs")
@dp_officers
def dp_create_payout_run():
    if not ConfirmForm().validate_on_submit():
        flash(_("Your session expired. Try again."), "error")
        return redirect(url_for("council.dp_payables"))
    try:
        run = payables.create_payout_run(actor=current_user)
    except payables.NothingToPay:
        db.session.rollback()
        flash(_("There is nothing to pay: no provider with verified bank details is owed money"), "info")
        return redirect(url_for("council.dp_payables"))
    db.session.commit()
    flash(_("Payment run %(reference)s created", reference=run.reference), "success")
    return redirect(url_for("council.dp_payout_run", run_id=run.id))


@bp.get("/direct-payments/payout-runs/<uuid:run_id>")
@dp_officers
def dp_payout_run(run_id: uuid.UUID):
    return render_template("council/dp_audit/payout_run.html", run=payables.payout_run(run_id), form=ConfirmForm())


@bp.get("/direct-payments/payout-runs/<uuid:run_id>.csv")
@dp_officers
def dp_payout_run_csv(run_id: uuid.UUID):
    run = payables.payout_run(run_id)
    return Response(payables.bacs_csv(run), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="payment-run-{run.reference}.csv"', "Cache-Control": "no-store",
    })


@bp.post("/direct-payments/payout-runs/<uuid:run_id>/paid")
@dp_officers
def dp_mark_run_paid(run_id: uuid.UUID):
    if not ConfirmForm().validate_on_submit():
        flash(_("Your session expired. Try again."), "error")
        return redirect(url_for("council.dp_payout_run", run_id=run_id))
    try:
        run = payables.mark_run_paid(actor=current_user, run_id=run_id)
    except payables.ConnectAccountMissing as missing:
        db.session.rollback()
        flash(_("%(name)s has no Stripe account to pay into. Nothing was marked as paid.",
                name=missing.organisation_name), "error")
    except InsufficientFunds:
        db.session.rollback()
        flash(_("A provider in this run is now owed less than the run pays. Nothing was marked as paid."), "error")
    except PaymentError:
        db.session.rollback()
        flash(_("The transfers could not be made. Nothing was marked as paid. Try again later."), "error")
    else:
        db.session.commit()
        flash(_("Payment run %(reference)s marked as paid", reference=run.reference), "success")
    return redirect(url_for("council.dp_payout_run", run_id=run_id))
