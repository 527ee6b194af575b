"""Costs: free, or price rows (label, amount in pounds stored as pence, unit, description)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, ValidationError

from portal.models import CostUnit
from portal.provider.listing_forms import NotPounds, SectionForm, pence_to_pounds, pounds_to_pence, reset_rows, strip

UNIT_CHOICES = [
    ("", _l("No unit")),
    (CostUnit.HOUR.value, _l("per hour")),
    (CostUnit.SESSION.value, _l("per session")),
    (CostUnit.DAY.value, _l("per day")),
    (CostUnit.WEEK.value, _l("per week")),
    (CostUnit.MONTH.value, _l("per month")),
    (CostUnit.ITEM.value, _l("each")),
    (CostUnit.ONE_OFF.value, _l("one-off payment")),
]


class PriceRow(Form):
    option = StringField(_l("What the price is for (optional)"), widget=GovTextInput(), filters=[strip])
    amount = StringField(_l("Amount in pounds"), widget=GovTextInput(), filters=[strip])
    unit = SelectField(_l("Unit"), widget=GovSelect(), choices=UNIT_CHOICES, default="")
    amount_description = StringField(_l("Details (optional)"), widget=GovTextInput(), filters=[strip])
    remove = BooleanField(_l("Remove this price"), widget=GovCheckboxInput())

    def is_blank(self) -> bool:
        return not (self.option.data or self.amount.data or self.amount_description.data)

    def validate_amount(self, field) -> None:
        if self.remove.data or not field.data:
            if not self.remove.data and not self.is_blank() and not self.amount_description.data:
                raise ValidationError(_l("Enter an amount, like 12.50"))
            return
        try:
            pounds_to_pence(field.data)
        except NotPounds:
            raise ValidationError(_l("Enter an amount in pounds and pence, like 12.50")) from None


class CostsForm(SectionForm):
    section = "costs"

    is_free = RadioField(
        _l("Is the service free?"),
        widget=GovRadioInput(),
        choices=[("yes", _l("Yes, it is free")), ("no", _l("No, there is a cost"))],
        validators=[InputRequired(message=_l("Select whether the service is free"))],
    )
    prices = FieldList(FormField(PriceRow))
    add_row = SubmitField(_l("Add another price"), widget=GovSubmitInput())
    fees_description = TextAreaField(
        _l("About the costs (optional)"),
        widget=GovTextArea(),
        description=_l("For example, discounts, or whether a direct payment or personal budget can be used."),
        filters=[strip],
    )

    def add_row_requested(self) -> bool:
        return bool(self.add_row.data)

    def load(self, data: dict) -> None:
        self.is_free.data = "yes" if data.get("is_free") else ("no" if data.get("cost_options") else None)
        reset_rows(self.prices, [
            {"option": row.get("option") or "", "amount": pence_to_pounds(row.get("amount_pence")),
             "unit": row.get("unit") or "", "amount_description": row.get("amount_description") or ""}
            for row in data.get("cost_options") or []
        ])
        self.fees_description.data = data.get("fees_description") or ""

    def values(self) -> dict:
        free = self.is_free.data == "yes"
        rows = [entry.form for entry in self.prices if not entry.form.remove.data and not entry.form.is_blank()]
        return {
            "is_free": free,
            "cost_options": [] if free else [
                {"option": row.option.data or "",
                 "amount_pence": pounds_to_pence(row.amount.data) if row.amount.data else None,
                 "unit": row.unit.data or None,
                 "amount_description": row.amount_description.data or ""}
                for row in rows
            ],
            "fees_description": self.fees_description.data or "",
        }
