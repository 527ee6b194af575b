"""Provider pages: "Your listings" and the listing editor (task list, one page per section, preview, submit).

Every listing is reached through portal.data.access.service_for, and its draft through the listing: ids of
another organisation's listings answer 404 (the blueprint turns NotPermitted into "not found").
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user

from portal.data import drafts, revision_format
from portal.data.access import NotPermitted, organisation_for, service_for
from portal.extensions import db
from portal.i18n import current_language
from portal.models import ListingRevision, RevisionState, Service
from portal.provider import bp
from portal.provider.listing_forms import ActionForm, form_for
from portal.provider.listing_forms.about import AboutForm
from portal.public import presenters
from portal.public.routes import directory_helpers  # the public page's presenters, for the preview


def _service_and_revision(service_id: uuid.UUID) -> tuple[Service, ListingRevision | None]:
    # Answer 404 here rather than through the blueprint's NotPermitted handler: an abort() raised inside an
    # error handler is not itself handled, so it would surface as a server error.
    try:
        service = service_for(current_user, service_id)
    except NotPermitted:
        abort(404)
    return service, drafts.open_revision(service)


def _organisation_or_404(organisation_id: uuid.UUID):
    try:
        return organisation_for(current_user, organisation_id)
    except NotPermitted:
        abort(404)


def _open_revision_or_404(service_id: uuid.UUID) -> tuple[Service, ListingRevision]:
    service, revision = _service_and_revision(service_id)
    if revision is None:
        abort(404)
    return service, revision


@bp.get("/listings")
def listings():
    return render_template("provider/listings.html", groups=drafts.listings_of(current_user), form=ActionForm())


@bp.route("/organisations/<uuid:organisation_id>/listings/new", methods=["GET", "POST"])
def new_listing(organisation_id: uuid.UUID):
    organisation = _organisation_or_404(organisation_id)
    form = AboutForm()
    if form.validate_on_submit():
        try:
            revision = drafts.start_listing(actor=current_user, organisation_id=organisation.id, about=form.values())
        except (drafts.OrganisationNotAllowed, NotPermitted):
            abort(404)
        db.session.commit()
        return redirect(url_for("provider.edit_listing", service_id=revision.service_id))
    return render_template("provider/listing_new.html", form=form, organisation=organisation)


@bp.route("/listings/<uuid:service_id>/edit", methods=["GET", "POST"])
def edit_listing(service_id: uuid.UUID):
    service, revision = _service_and_revision(service_id)
    if request.method == "POST":  # "Edit": open the draft, or start one from the published listing
        if ActionForm().validate_on_submit():
            drafts.start_draft(actor=current_user, service=service)
            db.session.commit()
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    if revision is None:
        return render_template("provider/listing_start.html", service=service, form=ActionForm())
    statuses = drafts.section_statuses(revision)
    return render_template(
        "provider/listing_edit.html",
        service=service,
        revision=revision,
        sections=revision_format.SECTIONS,
        statuses=statuses,
        required=drafts.REQUIRED_SECTIONS,
        completeness=drafts.completeness(revision.data),
        incomplete=drafts.incomplete_required_sections(revision),
        form=ActionForm(),
    )


@bp.route("/listings/<uuid:service_id>/edit/<section>", methods=["GET", "POST"])
def edit_listing_section(service_id: uuid.UUID, section: str):
    if section not in drafts.SECTION_KEYS:
        abort(404)
    service, revision = _open_revision_or_404(service_id)
    if revision.state is not RevisionState.DRAFT:
        flash(_("Withdraw the change from review before editing it."))
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    form = form_for(section)()
    form.configure(revision.data)
    if request.method == "GET":
        form.load(revision.data)
    elif not form.add_row_requested() and form.validate_on_submit():
        drafts.save_section(actor=current_user, revision=revision, section=section, values=form.values())
        db.session.commit()
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    return render_template(
        f"provider/sections/{section}.html",
        form=form,
        service=service,
        revision=revision,
        section=drafts.section_by_key(section),
    )


@bp.get("/listings/<uuid:service_id>/preview")
def preview_listing(service_id: uuid.UUID):
    service, revision = _service_and_revision(service_id)
    data = revision.data if revision is not None else revision_format.snapshot(service)
    listing = drafts.preview_of(service=service, data=data)
    return render_template(
        "provider/listing_preview.html",
        service=listing,
        opening_days=presenters.opening_days(listing.schedules, current_language()),
        last_checked=None,
        out_of_date=False,
        **directory_helpers(),
    )


@bp.post("/listings/<uuid:service_id>/submit")
def submit_listing(service_id: uuid.UUID):
    service, revision = _open_revision_or_404(service_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        drafts.submit(actor=current_user, revision=revision)
    except drafts.NotReadyToSubmit:
        flash(_("Complete the required sections before you submit the listing for review."))
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    except drafts.NothingToSubmit:
        flash(_("You have not changed anything yet."))
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    except drafts.InvalidTransition:
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    db.session.commit()
    return redirect(url_for("provider.listing_submitted", service_id=service.id))


@bp.get("/listings/<uuid:service_id>/submitted")
def listing_submitted(service_id: uuid.UUID):
    service, revision = _open_revision_or_404(service_id)
    if revision.state is not RevisionState.SUBMITTED:
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    return render_template("provider/listing_submitted.html", service=service, revision=revision)


@bp.post("/listings/<uuid:service_id>/withdraw")
def withdraw_listing(service_id: uuid.UUID):
    service, revision = _open_revision_or_404(service_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        drafts.withdraw(actor=current_user, revision=revision)
    except drafts.InvalidTransition:
        return redirect(url_for("provider.edit_listing", service_id=service.id))
    db.session.commit()
    flash(_("The change has been withdrawn from review. You can edit it and submit it again."))
    return redirect(url_for("provider.edit_listing", service_id=service.id))
