"""Council pages: approving providers (the queue, one provider's checks, decisions) and expiring insurance."""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from portal.council import bp
from portal.data import organisations
from portal.extensions import db
from portal.models import Role, VerificationStatus
from portal.provider.organisation_forms import ConfirmForm, RejectProviderForm, SuspendProviderForm
from portal.security import roles_required

moderators_only = roles_required(Role.COUNCIL_MODERATOR)

LISTS = {
    "pending": VerificationStatus.PENDING,
    "approved": VerificationStatus.APPROVED,
    "suspended": VerificationStatus.SUSPENDED,
    "rejected": VerificationStatus.REJECTED,
}


@bp.errorhandler(organisations.OrganisationNotFound)
def provider_not_found(error):
    return render_template("errors/404.html", error=NotFound()), 404


@bp.get("/providers")
@moderators_only
def providers():
    shown = request.args.get("status", "pending")
    if shown not in LISTS:
        abort(404)
    return render_template(
        "council/providers.html",
        shown=shown,
        listed=organisations.organisations_in(LISTS[shown]),
        changed=organisations.changed_since_approval(),
        expiring_count=len(organisations.expiring_insurance()),
        labels=organisations.KIND_LABELS,
    )


@bp.get("/providers/insurance-expiring")
@moderators_only
def providers_insurance_expiring():
    today = date.today()
    expiring = organisations.expiring_insurance(today=today)
    return render_template(
        "council/providers_insurance_expiring.html",
        expiring=expiring,
        warnings={o.id: organisations.insurance_warning(o, today=today) for o in expiring},
    )


@bp.get("/providers/<uuid:organisation_id>")
@moderators_only
def providers_detail(organisation_id: uuid.UUID):
    return _detail_page(organisations.organisation_for_council(organisation_id))


def _detail_page(organisation, *, reject_form=None, suspend_form=None, status: int = 200):
    today = date.today()
    failed = reject_form or suspend_form
    return render_template(
        "council/provider_detail.html",
        **({"form": failed} if failed else {}),  # the layout prefixes the title with "Error:"
        organisation=organisation,
        owners=organisations.owners_of(organisation),
        insurance=organisations.insurance_warning(organisation, today=today),
        dbs_current=organisations.dbs_is_current(organisation.dbs_checked_on, today=today),
        needs=organisations.what_the_council_needs(organisation, today=today),
        changes=organisations.details_changed_since_approval(organisation),
        labels={"kinds": organisations.KIND_LABELS, "regulators": organisations.REGULATOR_LABELS,
                "ratings": organisations.RATING_LABELS, "fields": organisations.VERIFICATION_FIELD_LABELS},
        approve_form=ConfirmForm(prefix="approve"),
        checked_form=ConfirmForm(prefix="checked"),
        reject_form=reject_form or RejectProviderForm(prefix="reject"),
        suspend_form=suspend_form or SuspendProviderForm(prefix="suspend"),
    ), status


def _refused(organisation):
    flash(_("That decision cannot be made now: the provider is %(state)s.",
            state=organisations.VERIFICATION_LABELS[organisation.verification_status][0]), "error")
    return redirect(url_for("council.providers_detail", organisation_id=organisation.id))


@bp.post("/providers/<uuid:organisation_id>/approve")
@moderators_only
def providers_approve(organisation_id: uuid.UUID):
    organisation = organisations.organisation_for_council(organisation_id)
    if not ConfirmForm(prefix="approve").validate_on_submit():
        return redirect(url_for("council.providers_detail", organisation_id=organisation.id))
    try:
        organisations.approve(actor=current_user._get_current_object(), organisation=organisation)
    except organisations.InvalidTransition:
        return _refused(organisation)
    db.session.commit()
    flash(_("%(organisation)s is approved. Its owners have been emailed.", organisation=organisation.name),
          "success")
    return redirect(url_for("council.providers"))


@bp.post("/providers/<uuid:organisation_id>/reject")
@moderators_only
def providers_reject(organisation_id: uuid.UUID):
    organisation = organisations.organisation_for_council(organisation_id)
    form = RejectProviderForm(prefix="reject")
    if not form.validate_on_submit():
        return _detail_page(organisation, reject_form=form, status=400)
    try:
        organisations.reject(actor=current_user._get_current_object(), organisation=organisation,
                             reason=form.reason.data)
    except organisations.InvalidTransition:
        return _refused(organisation)
    db.session.commit()
    flash(_("%(organisation)s has not been approved. Its owners have been emailed the reason.",
            organisation=organisation.name), "success")
    return redirect(url_for("council.providers"))


@bp.post("/providers/<uuid:organisation_id>/suspend")
@moderators_only
def providers_suspend(organisation_id: uuid.UUID):
    organisation = organisations.organisation_for_council(organisation_id)
    form = SuspendProviderForm(prefix="suspend")
    if not form.validate_on_submit():
        return _detail_page(organisation, suspend_form=form, status=400)
    try:
        organisations.suspend(actor=current_user._get_current_object(), organisation=organisation,
                              reason=form.reason.data)
    except organisations.InvalidTransition:
        return _refused(organisation)
    db.session.commit()
    flash(_("%(organisation)s is suspended and its listings have left the directory. Its owners have been "
            "emailed.", organisation=organisation.name), "success")
    return redirect(url_for("council.providers", status="suspended"))


@bp.post("/providers/<uuid:organisation_id>/checked")
@moderators_only
def providers_checked(organisation_id: uuid.UUID):
    organisation = organisations.organisation_for_council(organisation_id)
    if ConfirmForm(prefix="checked").validate_on_submit():
        try:
            organisations.mark_details_checked(actor=current_user._get_current_object(), organisation=organisation)
        except organisations.InvalidTransition:
            return _refused(organisation)
        db.session.commit()
        flash(_("The changed details of %(organisation)s are marked as checked.", organisation=organisation.name),
              "success")
    return redirect(url_for("council.providers_detail", organisation_id=organisation.id))
