"""Council pages: the moderation queue and reviews, version history with restore, emergency unpublish.

Moderators only. Routes parse, make one call into portal.data.moderation, commit, and redirect.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.council import bp
from portal.council.moderation_forms import RepublishForm, RestoreForm, ReviewForm, UnpublishForm
from portal.data import moderation
from portal.data.listings import InvalidListing
from portal.data.revision_format import FIELD_LABELS
from portal.extensions import db
from portal.i18n import current_language
from portal.models import Role, Service
from portal.public.presenters import pagination
from portal.security import roles_required

QUEUE_PER_PAGE = 25


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


def _listing_or_404(service_id: uuid.UUID) -> Service:
    return moderation.find_listing(service_id) or abort(404)


@bp.get("/moderation")
@roles_required(Role.COUNCIL_MODERATOR)
def moderation_queue():
    results = moderation.submitted_revisions(page=_page_number(), per_page=QUEUE_PER_PAGE)
    if results.page > results.pages:
        abort(404)
    pages = pagination(results.page, results.pages, lambda n: url_for("council.moderation_queue", page=n))
    return render_template("council/moderation_queue.html", results=results, pagination=pages)


def _render_review(review: moderation.Review, form: ReviewForm, ticked: set[str]):
    language = current_language()
    rows = [
        {
            "difference": difference,
            "before": moderation.describe(difference.field, difference.before, language),
            "after": moderation.describe(difference.field, difference.after, language),
            "ticked": difference.field in ticked,
        }
        for difference in review.differences
    ]
    return render_template(
        "council/moderation_review.html", review=review, rows=rows, form=form,
        state_label=moderation.STATE_LABELS[review.revision.state],
        approved_labels=[str(FIELD_LABELS.get(name, name)) for name in review.revision.approved_fields or []],
    )


@bp.get("/moderation/<uuid:revision_id>")
@roles_required(Role.COUNCIL_MODERATOR)
def review_revision(revision_id: uuid.UUID):
    revision = moderation.find_revision(revision_id) or abort(404)
    review = moderation.review_of(revision)
    form = ReviewForm(changed=review.changed_fields, data={"seen_version": review.current_version})
    return _render_review(review, form, ticked=set(review.changed_fields))


@bp.post("/moderation/<uuid:revision_id>")
@roles_required(Role.COUNCIL_MODERATOR)
def decide_revision(revision_id: uuid.UUID):
    revision = moderation.find_revision(revision_id) or abort(404)
    review = moderation.review_of(revision)
    form = ReviewForm(changed=review.changed_fields)
    if not review.is_open:  # a second press of the button, or another moderator got there first
        flash(_("This change has already been decided."), "info")
        return redirect(url_for("council.review_revision", revision_id=revision_id))
    if form.validate_on_submit():
        try:
            decided = moderation.decide(
                actor=current_user._get_current_object(), revision_id=revision_id, decision=form.decision,
                fields=form.ticked, reason=form.reason.data or "", seen_version=form.seen_version_number,
            )
        except moderation.AlreadyDecided:
            db.session.rollback()
            flash(_("This change has already been decided."), "info")
            return redirect(url_for("council.review_revision", revision_id=revision_id))
        except moderation.ListingChangedMeanwhile:
            db.session.rollback()
            flash(_("The listing changed while you were reviewing it. Check the differences again."), "error")
            return redirect(url_for("council.review_revision", revision_id=revision_id))
        except moderation.NothingChosen:
            db.session.rollback()
            form.fields.errors.append(_("Select the changes to approve"))
        except moderation.ReasonRequired:
            db.session.rollback()
            form.reason.errors.append(_("Enter a reason for rejecting the changes"))
        except InvalidListing as error:
            db.session.rollback()
            form.form_errors.append(_("These changes cannot be published: %(problem)s", problem=str(error)))
        else:
            db.session.commit()
            flash(_("%(state)s: %(name)s. The provider has been emailed.",
                    state=moderation.STATE_LABELS[decided.state], name=review.service.name), "success")
            return redirect(url_for("council.moderation_queue"))
    return _render_review(review, form, ticked=form.ticked)


@bp.get("/listings/<uuid:service_id>/versions")
@roles_required(Role.COUNCIL_MODERATOR)
def listing_versions(service_id: uuid.UUID):
    service = _listing_or_404(service_id)
    return render_template("council/versions.html", service=service, versions=moderation.versions_of(service))


@bp.get("/listings/<uuid:service_id>/versions/<int:number>")
@roles_required(Role.COUNCIL_MODERATOR)
def listing_version(service_id: uuid.UUID, number: int):
    service = _listing_or_404(service_id)
    try:
        version = moderation.version_of(service, number)
    except moderation.VersionNotFound:
        abort(404)
    return render_template(
        "council/version.html", service=service, version=version, form=RestoreForm(),
        sections=moderation.readable_listing(version.data, current_language()),
        latest=moderation.versions_of(service)[0].number,
    )


@bp.post("/listings/<uuid:service_id>/versions/<int:number>/restore")
@roles_required(Role.COUNCIL_MODERATOR)
def restore_version(service_id: uuid.UUID, number: int):
    service = _listing_or_404(service_id)
    try:
        version = moderation.restore_version(actor=current_user._get_current_object(), service=service, number=number)
    except moderation.VersionNotFound:
        abort(404)
    except InvalidListing as error:
        db.session.rollback()
        flash(_("Version %(number)s cannot be restored: %(problem)s", number=number, problem=str(error)), "error")
        return redirect(url_for("council.listing_version", service_id=service_id, number=number))
    db.session.commit()
    flash(_("Version %(old)s is published again as version %(new)s.", old=number, new=version.number), "success")
    return redirect(url_for("council.listing_versions", service_id=service_id))


@bp.route("/listings/<uuid:service_id>/unpublish", methods=["GET", "POST"])
@roles_required(Role.COUNCIL_MODERATOR)
def unpublish_listing(service_id: uuid.UUID):
    service = _listing_or_404(service_id)
    form = UnpublishForm()
    if service.unpublished_at is None and form.validate_on_submit():
        moderation.unpublish(actor=current_user._get_current_object(), service=service, reason=form.reason.data)
        db.session.commit()
        flash(_("%(name)s is no longer on the site or in search results.", name=service.name), "success")
        return redirect(url_for("council.unpublish_listing", service_id=service_id))
    return render_template(
        "council/moderation_unpublish.html", service=service, form=form, republish_form=RepublishForm()
    )


@bp.post("/listings/<uuid:service_id>/republish")
@roles_required(Role.COUNCIL_MODERATOR)
def republish_listing(service_id: uuid.UUID):
    service = _listing_or_404(service_id)
    try:
        moderation.republish(actor=current_user._get_current_object(), service=service)
    except moderation.NotUnpublished:
        flash(_("%(name)s was not unpublished.", name=service.name), "info")
    else:
        db.session.commit()
        flash(_("%(name)s is published again.", name=service.name), "success")
    return redirect(url_for("council.unpublish_listing", service_id=service_id))
