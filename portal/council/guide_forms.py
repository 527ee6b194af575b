"""Forms for council editors' guides, in GOV.UK wording: the guide itself, publishing, withdrawing, restoring."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import BooleanField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from portal import richtext
from portal.data import drafts
from portal.data.guides import BODY_MAX, NOTE_MAX, SUMMARY_MAX, TITLE_MAX, review_date
from portal.i18n import localised
from portal.provider.organisation_forms import GovDateField

MARKDOWN_HINT = _l(
    "Start a section with ## and a space, like ## Who can get help. Leave a blank line between paragraphs. "
    "Start list items with - and a space. Write links like [Contact us](https://www.example.org)."
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AllowedLinks:
    """Links in the guide text may only go to web, email and phone addresses (others would be dropped)."""

    def __call__(self, form, field):
        if richtext.bad_links(field.data):
            raise ValidationError(_l("Links must start with https://, http://, mailto: or tel:"))


class RequiredDate:
    """A date must be given; a date that is not real keeps its own message (DataRequired would replace it)."""

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, form, field):
        if field.data is None and not field.process_errors:
            raise StopValidation(self.message)


class GuideForm(FlaskForm):
    title = StringField(_l("Title"), widget=GovTextInput(), filters=[_strip], validators=[
        DataRequired(message=_l("Enter a title")),
        Length(max=TITLE_MAX, message=_l("Title must be 200 characters or fewer")),
    ])
    summary = TextAreaField(
        _l("Summary"), widget=GovTextArea(), filters=[_strip],
        description=_l("One or two sentences saying who the guide is for and what it explains. "
                       "Shown under the title and in search results."),
        validators=[DataRequired(message=_l("Enter a summary")),
                    Length(max=SUMMARY_MAX, message=_l("Summary must be 500 characters or fewer"))])
    body = TextAreaField(
        _l("Guide text"), widget=GovTextArea(), filters=[_strip], description=MARKDOWN_HINT,
        validators=[DataRequired(message=_l("Enter the guide text")),
                    Length(max=BODY_MAX, message=_l("Guide text must be 50,000 characters or fewer")),
                    AllowedLinks()])
    categories = SelectMultipleField(_l("Related categories"), choices=[], validate_choice=False)
    review_by = GovDateField(
        _l("Review by"),
        description=_l("When an editor should check the guide is still right. For example, 31 3 2027"),
        invalid_message=_l("Review-by date must be a real date"),
        validators=[RequiredDate(_l("Enter the review-by date"))])
    safeguarding = BooleanField(
        _l("This guide is about keeping someone safe from harm"), widget=GovCheckboxInput(),
        description=_l("Adds an 'Exit this page' button, for readers who may need to leave the page quickly."))
    title_cy = StringField(_l("Welsh title (optional)"), widget=GovTextInput(), filters=[_strip], validators=[
        Length(max=TITLE_MAX, message=_l("Welsh title must be 200 characters or fewer"))])
    summary_cy = TextAreaField(
        _l("Welsh summary (optional)"), widget=GovTextArea(), filters=[_strip],
        validators=[Length(max=SUMMARY_MAX, message=_l("Welsh summary must be 500 characters or fewer"))])
    body_cy = TextAreaField(
        _l("Welsh guide text (optional)"), widget=GovTextArea(), filters=[_strip],
        validators=[Length(max=BODY_MAX, message=_l("Welsh guide text must be 50,000 characters or fewer")),
                    AllowedLinks()])
    submit = SubmitField(_l("Save draft"), widget=GovSubmitInput())

    groups: list = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.groups = [
            (root, [(str(term.id), localised(term, "name")) for term in (root, *below)])
            for root, below in drafts.category_groups()
        ]
        self.categories.choices = [choice for _, items in self.groups for choice in items]

    def validate_categories(self, field) -> None:
        known = {value for value, _label in field.choices}
        field.data = [value for value in field.data or [] if value in known]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        welsh = [self.title_cy.data, self.summary_cy.data, self.body_cy.data]
        if any(welsh):
            if not self.title_cy.data:
                self.title_cy.errors.append(_l("Enter the Welsh title, or leave all the Welsh fields empty"))
                valid = False
            if not self.body_cy.data:
                self.body_cy.errors.append(_l("Enter the Welsh guide text, or leave all the Welsh fields empty"))
                valid = False
        return valid

    def load(self, content: dict) -> None:
        """Fill the form from a content dict (a draft or the published content)."""
        for name in ("title", "summary", "body", "title_cy", "summary_cy", "body_cy", "safeguarding"):
            getattr(self, name).data = content.get(name)
        self.categories.data = list(content.get("categories") or [])
        self.review_by.data = review_date(content)

    def values(self) -> dict:
        return {
            "title": self.title.data, "summary": self.summary.data, "body": self.body.data,
            "title_cy": self.title_cy.data, "summary_cy": self.summary_cy.data, "body_cy": self.body_cy.data,
            "safeguarding": self.safeguarding.data, "review_by": self.review_by.data,
            "categories": self.categories.data or [],
        }


class PublishGuideForm(FlaskForm):
    note = StringField(
        _l("What changed (optional)"), widget=GovTextInput(), filters=[_strip],
        description=_l("A short note for the version history, like 'New charging rates for April'."),
        validators=[Length(max=NOTE_MAX, message=_l("What changed must be 255 characters or fewer"))])
    submit = SubmitField(_l("Publish"), widget=GovSubmitInput())


class WithdrawGuideForm(FlaskForm):
    submit = SubmitField(_l("Withdraw this guide"), widget=GovSubmitInput())


class RestoreGuideVersionForm(FlaskForm):
    submit = SubmitField(_l("Copy this version into the draft"), widget=GovSubmitInput())


class DiscardDraftForm(FlaskForm):
    submit = SubmitField(_l("Discard the draft"), widget=GovSubmitInput())
