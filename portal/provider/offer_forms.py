"""The offer form: what a holder can buy from a listing, its price per unit and its terms, in GOV.UK wording."""

from __future__ import annotations

import uuid

from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.data import offers
from portal.i18n import localised
from portal.models import Offer, OfferUnit, Service

UNIT_CHOICES = [
    SelectChoice(OfferUnit.HOUR.value, _l("An hour")),
    SelectChoice(OfferUnit.SESSION.value, _l("A session")),
    SelectChoice(OfferUnit.DAY.value, _l("A day")),
    SelectChoice(OfferUnit.ITEM.value, _l("An item, such as a piece of equipment")),
]

PRICE_MESSAGES = {
    "missing": _l("Enter the price"),
    "not_money": _l("Price must be an amount in pounds and pence, like 12.50"),
    "too_many_decimals": _l("Price must have no more than 2 numbers after the decimal point, like 12.50"),
    "not_positive": _l("Price must be more than £0"),
    "too_high": _l("Price must be £10,000 or less"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class Price:
    """Pounds and pence parsed to integer pence (``field.pence``), with GOV.UK's messages."""

    def __call__(self, form, field):
        try:
            field.pence = offers.parse_price(field.data)
        except offers.PriceError as problem:
            field.pence = None
            raise ValidationError(str(PRICE_MESSAGES[problem.reason])) from None


def _whole_number(text: str | None) -> int | None:
    value = (text or "").strip()
    return int(value) if value.isdigit() else None


class OfferForm(FlaskForm):
    title = StringField(
        _l("Title"), widget=GovTextInput(), filters=[_strip],
        description=_l("What someone buys, for example ‘Personal assistant support at home’."),
        validators=[DataRequired(message=_l("Enter a title")),
                    Length(max=offers.TITLE_MAX, message=_l("Title must be 120 characters or fewer"))])
    category = RadioField(_l("Which category of care and support is it?"), widget=GovRadioInput(),
                          description=_l("One of the listing’s categories. A direct payment can only buy what the "
                                         "person’s care plan allows, and the plan is checked against this."),
                          invalid_choice_message=_l("Select the category of care and support"))
    unit = RadioField(_l("What is the price for?"), widget=GovRadioInput(), choices=UNIT_CHOICES,
                      invalid_choice_message=_l("Select what the price is for"))
    price = StringField(_l("Price"), widget=GovTextInput(), filters=[_strip],
                        description=_l("In pounds and pence, for example 12.50"), validators=[Price()])
    min_units = StringField(_l("Smallest number someone can buy in one order"), widget=GovTextInput(),
                            filters=[_strip], default="1")
    max_units = StringField(_l("Largest number someone can buy in one order"), widget=GovTextInput(),
                            filters=[_strip], default="1")
    description = TextAreaField(
        _l("Description (optional)"), widget=GovTextArea(), filters=[_strip],
        description=_l("What is included, and anything the person should know before buying."),
        validators=[Length(max=offers.TEXT_MAX, message=_l("Description must be 5000 characters or fewer"))])
    cancellation_terms = TextAreaField(
        _l("Cancellation terms"), widget=GovTextArea(), filters=[_strip],
        description=_l("For example, ‘Cancel at least 24 hours before and you pay nothing.’"),
        validators=[DataRequired(message=_l("Enter the cancellation terms")),
                    Length(max=offers.TEXT_MAX, message=_l("Cancellation terms must be 5000 characters or fewer"))])
    title_cy = StringField(
        _l("Title in Welsh (optional)"), widget=GovTextInput(), filters=[_strip],
        validators=[Optional(), Length(max=offers.TITLE_MAX,
                                       message=_l("Title in Welsh must be 120 characters or fewer"))])
    description_cy = TextAreaField(
        _l("Description in Welsh (optional)"), widget=GovTextArea(), filters=[_strip],
        validators=[Length(max=offers.TEXT_MAX, message=_l("Description in Welsh must be 5000 characters or fewer"))])
    cancellation_terms_cy = TextAreaField(
        _l("Cancellation terms in Welsh (optional)"), widget=GovTextArea(), filters=[_strip],
        validators=[Length(max=offers.TEXT_MAX,
                           message=_l("Cancellation terms in Welsh must be 5000 characters or fewer"))])
    submit = SubmitField(_l("Save offer"), widget=GovSubmitInput())

    def __init__(self, *args, service: Service, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice(str(term.id), localised(term, "name"))
                                 for term in offers.category_choices(service)]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        smallest = self._units(self.min_units, _("Enter the smallest number someone can buy"),
                               _("Smallest number must be a whole number, like 2"),
                               _("Smallest number must be between 1 and %(max)d", max=offers.MAX_UNITS))
        largest = self._units(self.max_units, _("Enter the largest number someone can buy"),
                              _("Largest number must be a whole number, like 10"),
                              _("Largest number must be between 1 and %(max)d", max=offers.MAX_UNITS))
        if smallest is not None and largest is not None and largest < smallest:
            self.max_units.errors.append(_("Largest number must be the same as or more than the smallest number"))
        return valid and smallest is not None and largest is not None and not self.max_units.errors

    @staticmethod
    def _units(field, missing: str, not_whole: str, out_of_range: str) -> int | None:
        if not field.data:
            field.errors.append(missing)
            return None
        number = _whole_number(field.data)
        if number is None:
            field.errors.append(not_whole)
            return None
        if not 1 <= number <= offers.MAX_UNITS:
            field.errors.append(out_of_range)
            return None
        return number

    def details(self) -> offers.OfferDetails:
        return offers.OfferDetails(
            title=self.title.data,
            title_cy=self.title_cy.data or "",
            category_id=uuid.UUID(self.category.data),
            unit=OfferUnit(self.unit.data),
            price_pence=self.price.pence,
            min_units=int(self.min_units.data),
            max_units=int(self.max_units.data),
            description=self.description.data or "",
            description_cy=self.description_cy.data or "",
            cancellation_terms=self.cancellation_terms.data or "",
            cancellation_terms_cy=self.cancellation_terms_cy.data or "",
        )

    @classmethod
    def for_offer(cls, offer: Offer) -> OfferForm:
        """The form filled in with the saved offer (a GET of the edit page)."""
        return cls(service=offer.service, data={
            "title": offer.title, "title_cy": offer.title_cy, "category": str(offer.category_id),
            "unit": offer.unit.value, "price": offers.price_as_typed(offer.price_pence),
            "min_units": str(offer.min_units), "max_units": str(offer.max_units),
            "description": offer.description, "description_cy": offer.description_cy,
            "cancellation_terms": offer.cancellation_terms, "cancellation_terms_cy": offer.cancellation_terms_cy,
        })


class OfferActionForm(FlaskForm):
    """Publish or withdraw: a button with the CSRF token."""

    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
