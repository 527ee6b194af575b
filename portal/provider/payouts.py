"""Provider pages: the bank details the council pays an organisation into (owners only).

The organisation is reached through ``access.organisation_for(owner=True)``: editors and other organisations'
users get "not found". After saving, only the last four digits of the account number are ever shown.
"""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask_babel import _
from flask_login import current_user

from portal.data import offers
from portal.data import payout_details as payout_data
from portal.data.access import organisation_for
from portal.extensions import db
from portal.provider import bp
from portal.provider.payout_forms import PayoutDetailsForm


@bp.app_template_global()
def payout_status_tag(status) -> dict:
    """govukTag parameters for payout details' state (provider and council pages)."""
    text, classes = payout_data.STATUS_LABELS[status]
    return {"text": text, "classes": classes}


@bp.get("/organisations/<uuid:organisation_id>/payout-details")
def payout_details(organisation_id: uuid.UUID):
    organisation = organisation_for(current_user, organisation_id, owner=True)
    return render_template(
        "provider/payout_details.html",
        organisation=organisation,
        payout=payout_data.payout_details_of(organisation),
        blocks=[offers.PUBLISH_BLOCKS[key] for key in offers.payout_blocks(organisation)],
    )


@bp.route("/organisations/<uuid:organisation_id>/payout-details/change", methods=["GET", "POST"])
def change_payout_details(organisation_id: uuid.UUID):
    organisation = organisation_for(current_user, organisation_id, owner=True)
    payout = payout_data.payout_details_of(organisation)
    form = PayoutDetailsForm()
    if payout is not None and not form.is_submitted():
        # The account number is never shown again in full: it must be typed again to change anything.
        form.account_name.data = payout.account_name
        form.sort_code.data = payout.sort_code
    if form.validate_on_submit():
        changed = payout_data.save_payout_details(actor=current_user, organisation=organisation,
                                                     details=form.details())
        db.session.commit()
        if changed:
            flash(_("Your bank details have been sent to the council for checking. We will email you when they "
                    "have been checked."), "success")
        else:
            flash(_("Your bank details are the same as before: nothing has changed."), "info")
        return redirect(url_for("provider.payout_details", organisation_id=organisation.id))
    return render_template("provider/payout_details_form.html", form=form, organisation=organisation,
                           payout=payout)
