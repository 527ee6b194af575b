"""Guides for everyone: the list by category, a guide's page, and "Is this page useful?".

A guide's page shows only published content (``portal.data.guides.public_guide``). In Welsh, a guide with a
Welsh version shows it; one without says so in Welsh and shows the English, marked lang="en" for screen
readers. The council's preview of a draft renders the same template through ``page_for``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort, current_app, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal import richtext
from portal.data import guides
from portal.extensions import db, limiter
from portal.i18n import current_language
from portal.models import Guide, TaxonomyTerm, utcnow
from portal.public import bp
from portal.security import public

# Ids the page itself uses: a heading in the guide text never takes one of them.
PAGE_IDS = ("main-content", "guide-contents", "guide-feedback", "guide-related", "guide-services",
            "app-govuk-i18n", "useful", "comment", "website", "csrf_token", "submit")
# A contents list helps only in a guide long enough to have several sections.
CONTENTS_LIST_MIN_SECTIONS = 3
SERVICES_SHOWN = 5
FEEDBACK_SENT_KEY = "guide_feedback_sent"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class GuideFeedbackForm(FlaskForm):
    useful = RadioField(
        _l("Is this page useful?"), widget=GovRadioInput(),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))], validators=[Optional()])
    comment = TextAreaField(
        _l("How could we improve this page? (optional)"), widget=GovTextArea(), filters=[_strip],
        description=_l("Do not include personal information, like your name, contact details or health "
                       "details. We remove any we find. We cannot reply to you here."),
        validators=[Length(max=guides.COMMENT_MAX, message=_l("Your comment must be 2000 characters or fewer"))])
    # Hidden from people (and screen readers) by the template; robots fill it in.
    website = StringField(_l("Leave this field empty"))
    submit = SubmitField(_l("Send feedback"), widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.useful.data and not self.comment.data:
            self.useful.errors.append(_l("Select yes if this page is useful, or tell us how we could improve it"))
            return False
        return valid

    @property
    def is_spam(self) -> bool:
        return bool((self.website.data or "").strip())

    @property
    def answer(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.useful.data)


@dataclass(frozen=True)
class GuidePage:
    """A guide as its page shows it, in the reader's language where the guide has it."""

    title: str
    summary: str
    document: richtext.Document
    content_language: str  # the language of title, summary and text: "en" or "cy"
    welsh_missing: bool  # reading in Welsh, and there is no Welsh version
    safeguarding: bool
    review_by: date | None
    updated: datetime | None
    categories: list[TaxonomyTerm]
    due_for_review: bool

    @property
    def contents(self) -> list[richtext.Heading]:
        sections = self.document.sections
        return sections if len(sections) >= CONTENTS_LIST_MIN_SECTIONS else []


def page_for(content: dict, *, categories: list[TaxonomyTerm], updated: datetime | None,
             today: date | None = None, published: bool = True) -> GuidePage:
    """The page for a content dict (published content, a draft, or a version)."""
    reading_welsh = current_language() == "cy"
    welsh = reading_welsh and guides.has_welsh(content)
    review_by = guides.review_date(content)
    today = today or utcnow().date()
    return GuidePage(
        title=content["title_cy"] if welsh else content["title"],
        summary=(content["summary_cy"] or content["summary"]) if welsh else content["summary"],
        document=richtext.to_document(content["body_cy"] if welsh else content["body"], reserved_ids=PAGE_IDS),
        content_language="cy" if welsh else "en",
        welsh_missing=reading_welsh and not welsh,
        safeguarding=content["safeguarding"],
        review_by=review_by,
        updated=updated,
        categories=categories,
        due_for_review=published and review_by is not None and review_by < today,
    )


def guide_link_text(guide: Guide) -> dict:
    """A published guide's title and summary for a list, in Welsh when it has them, with their language."""
    if current_language() == "cy" and guide.has_welsh:
        return {"title": guide.title_cy, "summary": guide.summary_cy or guide.summary, "lang": "cy"}
    return {"title": guide.title, "summary": guide.summary, "lang": "en"}


@bp.app_context_processor
def guide_helpers() -> dict:
    return {"guide_link_text": guide_link_text}


def _public_form_limit() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMIT"]


@bp.get("/guides")
def guides_index():
    return render_template("guides/index.html", groups=guides.published_guides_by_category())


def _render_guide(guide: Guide, form: GuideFeedbackForm, *, feedback_sent: bool = False):
    content = guides.published_content(guide)
    page = page_for(content, categories=list(guide.categories), updated=guide.content_updated_at)
    return render_template(
        "guides/guide.html", guide=guide, page=page, form=form, feedback_sent=feedback_sent,
        services=guides.services_for(guide, limit=SERVICES_SHOWN), preview=False,
    )


@bp.get("/guides/<slug>")
def guide(slug: str):
    found = guides.public_guide(slug) or abort(404)
    sent = session.pop(FEEDBACK_SENT_KEY, None) == found.slug
    return _render_guide(found, GuideFeedbackForm(formdata=None), feedback_sent=sent)


@bp.post("/guides/<slug>/feedback")
@public
@limiter.limit(_public_form_limit)
def guide_feedback(slug: str):
    found = guides.public_guide(slug) or abort(404)
    form = GuideFeedbackForm()
    if not form.validate_on_submit():
        return _render_guide(found, form)
    if not form.is_spam:  # a robot is thanked like anyone else, and nothing is stored
        guides.record_feedback(guide=found, useful=form.answer, comment=form.comment.data or "",
                               locale=current_language())
        db.session.commit()
    session[FEEDBACK_SENT_KEY] = found.slug
    return redirect(url_for("public.guide", slug=found.slug, _anchor="guide-feedback"))
