"""Council pages: checking providers' bank details for payouts (direct-payments officers).

Verified details let a provider publish priced offers; rejected ones (with a note the owners are emailed) stop
its offers being shown or bought until an owner gives new details.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from portal.council import bp
from portal.data import payout_details as payout_data
from portal.extensions import db
from portal.models import PayoutDetailsStatus, Role
from portal.provider.payout_forms import RejectPayoutForm, VerifyPayoutForm
from portal.security import roles_required

dp_officers_only = roles_required(Role.COUNCIL_DP_OFFICER)

LISTS = {
    "submitted": PayoutDetailsStatus.SUBMITTED,
    "verified": PayoutDetailsStatus.VERIFIED,
    "rejected": PayoutDetailsStatus.REJECTED,
}


@bp.errorhandler(payout_data.PayoutDetailsNotFound)
def payout_details_not_found(error):
    return render_template("errors/404.html", error=NotFound()), 404


@bp.get("/payout-details")
@dp_officers_only
def payout_details():
    shown = request.args.get("status", "submitted")
    if shown not in LISTS:
        abort(404)
    return render_template("council/payout_details.html", shown=shown,
                           listed=payout_data.payout_details_in(LISTS[shown]))


@bp.get("/payout-details/<uuid:payout_id>")
@dp_officers_only
def payout_details_review(payout_id: uuid.UUID):
    return _review_page(payout_data.payout_details_for_council(payout_id))


def _review_page(payout, *, reject_form=None, status: int = 200):
    return render_template(
        "council/payout_details_review.html",
        **({"form": reject_form} if reject_form else {}),  # the layout prefixes the title with "Error:"
        payout=payout,
        verify_form=VerifyPayoutForm(prefix="verify"),
        reject_form=reject_form or RejectPayoutForm(prefix="reject"),
    ), status


def _refused(payout):
    flash(_("That decision cannot be made now: the bank details are %(state)s.",
            state=payout_data.STATUS_LABELS[payout.status][0]), "error")
    return redirect(url_for("council.payout_details_review", payout_id=payout.id))


@bp.post("/payout-details/<uuid:payout_id>/verify")
@dp_officers_only
def verify_payout_details(payout_id: uuid.UUID):
    payout = payout_data.payout_details_for_council(payout_id)
    if not VerifyPayoutForm(prefix="verify").validate_on_submit():
        return redirect(url_for("council.payout_details_review", payout_id=payout.id))
    try:
        payout_data.verify(actor=current_user, payout=payout)
    except payout_data.InvalidTransition:
        return _refused(payout)
    db.session.commit()
    flash(_("The bank details of %(organisation)s are verified. Its owners have been emailed.",
            organisation=payout.organisation.name), "success")
    return redirect(url_for("council.payout_details"))


@bp.post("/payout-details/<uuid:payout_id>/reject")
@dp_officers_only
def reject_payout_details(payout_id: uuid.UUID):
    payout = payout_data.payout_details_for_council(payout_id)
    form = RejectPayoutForm(prefix="reject")
    if not form.validate_on_submit():
        return _review_page(payout, reject_form=form, status=400)
    try:
        payout_data.reject(actor=current_user, payout=payout, note=form.note.data)
    except payout_data.InvalidTransition:
        return _refused(payout)
    db.session.commit()
    flash(_("The bank details of %(organisation)s were not accepted. Its owners have been emailed the reason.",
            organisation=payout.organisation.name), "success")
    return redirect(url_for("council.payout_details"))
