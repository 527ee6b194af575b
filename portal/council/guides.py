"""Council pages for guides: list, due for review, create, edit the draft, preview, publish, withdraw, history
and restoring an old version into the draft.

Council editors only (a council admin has every role). Routes parse, make one call into portal.data.guides,
commit once and redirect.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.council import bp
from portal.council.guide_forms import (
    DiscardDraftForm,
    GuideForm,
    PublishGuideForm,
    RestoreGuideVersionForm,
    WithdrawGuideForm,
)
from portal.data import guides
from portal.extensions import db
from portal.models import Guide, GuideState, Role, utcnow
from portal.public.guides import page_for
from portal.security import roles_required

EDITORS = roles_required(Role.COUNCIL_EDITOR)


def _actor():
    return current_user._get_current_object()


def _guide_or_404(guide_id: uuid.UUID) -> Guide:
    return guides.find_guide(guide_id) or abort(404)


@bp.app_template_filter("guide_state_label")
def guide_state_label(state: GuideState) -> str:
    return str(guides.STATE_LABELS.get(state, state))


@bp.get("/guides")
@EDITORS
def guides_list():
    today = utcnow().date()
    return render_template("council/guides.html", guides=guides.all_guides(), today=today,
                           is_due=guides.is_due_for_review, working_title=guides.working_title,
                           due_count=guides.due_for_review_count(today))


@bp.get("/guides/due-for-review")
@EDITORS
def guides_due_for_review():
    return render_template("council/guides_due_for_review.html", guides=guides.due_for_review(utcnow().date()))


def _render_form(form: GuideForm, guide: Guide | None):
    return render_template("council/guide_form.html", form=form, guide=guide,
                           working_title=guides.working_title(guide) if guide else "")


@bp.route("/guides/new", methods=["GET", "POST"])
@EDITORS
def new_guide():
    form = GuideForm()
    if form.validate_on_submit():
        guide = guides.create_guide(actor=_actor(), values=form.values())
        db.session.commit()
        flash(_("Draft saved. It is not published yet."), "success")
        return redirect(url_for("council.guide", guide_id=guide.id))
    return _render_form(form, None)


@bp.route("/guides/<uuid:guide_id>/edit", methods=["GET", "POST"])
@EDITORS
def edit_guide(guide_id: uuid.UUID):
    guide = _guide_or_404(guide_id)
    form = GuideForm()
    if form.validate_on_submit():
        guides.save_draft(actor=_actor(), guide=guide, values=form.values())
        db.session.commit()
        flash(_("Draft saved. The published guide has not changed."), "success")
        return redirect(url_for("council.guide", guide_id=guide.id))
    if not form.is_submitted():
        form.load(guides.working_content(guide))
    return _render_form(form, guide)


@bp.get("/guides/<uuid:guide_id>")
@EDITORS
def guide(guide_id: uuid.UUID):
    found = _guide_or_404(guide_id)
    content = guides.working_content(found)
    return render_template(
        "council/guide.html", guide=found, content=content, title=guides.working_title(found),
        problems=guides.problems_with(content) if found.draft else [],
        draft_changes=guides.differences(guides.published_content(found) if found.version else None, content)
        if found.draft else [],
        categories=guides.terms_by_id(content["categories"]), review_by=guides.review_date(content),
        due=guides.is_due_for_review(found, utcnow().date()), feedback=guides.feedback_for(found),
        publish_form=PublishGuideForm(), discard_form=DiscardDraftForm(),
    )


@bp.get("/guides/<uuid:guide_id>/preview")
@EDITORS
def preview_guide(guide_id: uuid.UUID):
    found = _guide_or_404(guide_id)
    content = guides.working_content(found)
    page = page_for(content, categories=guides.terms_by_id(content["categories"]),
                    updated=utcnow() if found.draft else found.content_updated_at)
    return render_template("council/guide_preview.html", guide=found, page=page, has_draft=bool(found.draft))


@bp.post("/guides/<uuid:guide_id>/publish")
@EDITORS
def publish_guide(guide_id: uuid.UUID):
    found = _guide_or_404(guide_id)
    form = PublishGuideForm()
    if not form.validate_on_submit():
        flash(form.note.errors[0] if form.note.errors else _("The guide could not be published. Try again."),
              "error")
        return redirect(url_for("council.guide", guide_id=found.id))
    try:
        version = guides.publish(actor=_actor(), guide=found, note=form.note.data or "")
    except guides.NothingToPublish:
        flash(_("There are no changes to publish."), "info")
        return redirect(url_for("council.guide", guide_id=found.id))
    except guides.IncompleteGuide as problem:
        db.session.rollback()
        flash(_("The guide cannot be published yet: %(problem)s", problem=str(problem)), "error")
        return redirect(url_for("council.guide", guide_id=guide_id))
    db.session.commit()
    flash(_("Version %(number)s of %(title)s is published.", number=version.number, title=found.title), "success")
    return redirect(url_for("council.guide", guide_id=found.id))


@bp.post("/guides/<uuid:guide_id>/discard-draft")
@EDITORS
def discard_guide_draft(guide_id: uuid.UUID):
    found = _guide_or_404(guide_id)
    if DiscardDraftForm().validate_on_submit():
        guides.discard_draft(actor=_actor(), guide=found)
        db.session.commit()
        flash(_("The draft has been discarded. The published guide has not changed."), "success")
    return redirect(url_for("council.guide", guide_id=found.id))


@bp.route("/guides/<uuid:guide_id>/withdraw", methods=["GET", "POST"])
@EDITORS
def withdraw_guide(guide_id: uuid.UUID):
    found = _guide_or_404(guide_id)
    form = WithdrawGuideForm()
    if found.state is GuideState.PUBLISHED and form.validate_on_submit():
        guides.withdraw(actor=_actor(), guide=found)
        db.session.commit()
        flash(_("%(title)s has been withdrawn. It is no longer on the site or in search results.",
                title=found.title), "success")
        return redirect(url_for("council.guide", guide_id=found.id))
    return render_template("council/guide_withdraw.html", guide=found, form=form)


@bp.get("/guides/<uuid:guide_id>/history")
@EDITORS
def guide_history(guide_id: uuid.UUID):
    found = _guide_or_404(guide_id)
    return render_template("council/guide_history.html", guide=found, versions=guides.versions_of(found),
                           title=guides.working_title(found))


@bp.get("/guides/<uuid:guide_id>/history/<int:number>")
@EDITORS
def guide_version(guide_id: uuid.UUID, number: int):
    found = _guide_or_404(guide_id)
    try:
        version = guides.version_of(found, number)
    except guides.VersionNotFound:
        abort(404)
    return render_template(
        "council/guide_version.html", guide=found, version=version, form=RestoreGuideVersionForm(),
        changes=guides.differences(guides.previous_data(found, number), version.data),
        title=guides.working_title(found),
    )


@bp.post("/guides/<uuid:guide_id>/history/<int:number>/restore")
@EDITORS
def restore_guide_version(guide_id: uuid.UUID, number: int):
    found = _guide_or_404(guide_id)
    if not RestoreGuideVersionForm().validate_on_submit():
        return redirect(url_for("council.guide_version", guide_id=found.id, number=number))
    try:
        guides.restore_version(actor=_actor(), guide=found, number=number)
    except guides.VersionNotFound:
        abort(404)
    db.session.commit()
    flash(_("Version %(number)s is now the draft. Check it, then publish it to put it back on the site.",
            number=number), "success")
    return redirect(url_for("council.guide", guide_id=found.id))
