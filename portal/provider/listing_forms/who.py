"""Who it is for: ages, needs (SEND needs grouped), eligibility, referral and the SEND Local Offer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovTextArea, GovTextInput
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, ValidationError

from portal.data import drafts
from portal.data.listings import MAX_AGE
from portal.i18n import localised
from portal.provider.listing_forms import SectionForm, WebAddress, blank_to_none, strip

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


def _age_field(label) -> IntegerField:
    return IntegerField(
        label,
        widget=GovTextInput(),
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_AGE, message=_l("Enter an age between 0 and 130")),
        ],
    )


class AnswerRow(Form):
    question = HiddenField()
    answer = TextAreaField(_l("Answer"), widget=GovTextArea(), filters=[strip])


class WhoForm(SectionForm):
    section = "who"

    minimum_age = _age_field(_l("Youngest age"))
    maximum_age = _age_field(_l("Oldest age"))
    needs = SelectMultipleField(_l("Needs it supports"), choices=[])
    eligibility_description = TextAreaField(
        _l("Who can use it (optional)"),
        widget=GovTextArea(),
        description=_l("For example, carers living in the borough, or adults with a learning disability."),
        filters=[strip],
    )
    referral_required = RadioField(
        _l("Do people need a referral from a professional?"), widget=GovRadioInput(), choices=YES_NO, default="no"
    )
    local_offer = BooleanField(_l("This service is part of the SEND Local Offer"), widget=GovCheckboxInput())
    local_offer_description = TextAreaField(
        _l("How the service supports children and young people with SEND (optional)"),
        widget=GovTextArea(),
        filters=[strip],
    )
    local_offer_url = StringField(
        _l("Link to your Local Offer information (optional)"),
        widget=GovTextInput(),
        filters=[blank_to_none],
        validators=[WebAddress()],
    )
    answers = FieldList(FormField(AnswerRow))
    send_needs: list = []
    other_needs: list = []

    def configure(self, existing: dict | None = None) -> None:
        found = drafts.needs()
        self.send_needs = [(need.slug, localised(need, "name")) for need in found if need.send]
        self.other_needs = [(need.slug, localised(need, "name")) for need in found if not need.send]
        self.needs.choices = self.send_needs + self.other_needs

    def validate_maximum_age(self, field) -> None:
        low = self.minimum_age.data
        if field.data is not None and low is not None and not self.minimum_age.errors and low > field.data:
            raise ValidationError(_l("Oldest age must be the same as or higher than the youngest age"))

    def question_label(self, question: str):
        for english, label in drafts.LOCAL_OFFER_QUESTIONS:
            if english == question:
                return label
        return question

    def load(self, data: dict) -> None:
        self.minimum_age.data = data.get("minimum_age")
        self.maximum_age.data = data.get("maximum_age")
        self.needs.data = list(data.get("needs") or [])
        self.eligibility_description.data = data.get("eligibility_description") or ""
        self.referral_required.data = "yes" if data.get("referral_required") else "no"
        self.local_offer.data = bool(data.get("local_offer"))
        self.local_offer_description.data = data.get("local_offer_description") or ""
        self.local_offer_url.data = data.get("local_offer_url") or ""
        given = {row.get("question"): row.get("answer", "") for row in data.get("local_offer_answers") or []}
        rows = [{"question": english, "answer": given.pop(english, "")} for english, _ in drafts.LOCAL_OFFER_QUESTIONS]
        # Answers to other questions (from an imported listing) stay, after the standard ones.
        rows += [{"question": question, "answer": answer} for question, answer in given.items()]
        while self.answers.entries:
            self.answers.pop_entry()
        for row in rows:
            self.answers.append_entry(row)

    def values(self) -> dict:
        return {
            "minimum_age": self.minimum_age.data,
            "maximum_age": self.maximum_age.data,
            "needs": sorted(self.needs.data or []),
            "eligibility_description": self.eligibility_description.data or "",
            "referral_required": self.referral_required.data == "yes",
            "local_offer": bool(self.local_offer.data),
            "local_offer_description": self.local_offer_description.data or "",
            "local_offer_url": self.local_offer_url.data,
            "local_offer_answers": [
                {"question": row.question.data, "answer": row.answer.data}
                for row in (entry.form for entry in self.answers)
                if row.question.data and row.answer.data
            ],
        }
