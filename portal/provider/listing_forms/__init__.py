"""Forms for the listing editor: one per task-list section, each turning a draft's JSON into fields (``load``)
and valid fields back into the section's JSON (``values``).

Rows that repeat (places, opening times, prices, contacts) are FieldLists with one blank row to fill in, a
"Remove" checkbox per row and an "Add another" button that re-shows the form with one more row, so no
JavaScript is needed and nothing typed is lost.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import Field, SubmitField
from wtforms.validators import ValidationError

from portal import richtext


class NotPounds(ValueError):
    """The text is not an amount of money in pounds and pence."""


_MONEY = re.compile(r"^£?\s*(\d{1,7}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?$")


def pounds_to_pence(text: str) -> int:
    """"£12.50" -> 1250, "12" -> 1200, "1,200.5" -> 120050. Raises NotPounds (negative, too many decimals)."""
    cleaned = (text or "").strip().replace(" ", "")
    match = _MONEY.match(cleaned)
    if not match:
        raise NotPounds(text)
    try:
        amount = Decimal(match.group(1).replace(",", "") + "." + (match.group(2) or "0"))
    except InvalidOperation as error:
        raise NotPounds(text) from error
    return int(amount * 100)


def pence_to_pounds(pence: int | None) -> str:
    if pence is None:
        return ""
    return f"{pence // 100}.{pence % 100:02d}"


def strip(value):
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value):
    value = strip(value)
    return value or None


class WebAddress:
    """An http(s) address with a host, or nothing (the field is optional)."""

    def __init__(self, message=None) -> None:
        self.message = message or _l("Enter a website address that starts with http:// or https://, like https://www.example.org")

    def __call__(self, form, field: Field) -> None:
        value = field.data
        if value and not (value.lower().startswith(("http://", "https://")) and richtext.link_allowed(value)):
            raise ValidationError(self.message)


class SafeLinks:
    """Every link in rich text goes to http, https, mailto or tel."""

    def __call__(self, form, field: Field) -> None:
        if richtext.bad_links(field.data):
            raise ValidationError(
                _l("Links must start with http://, https://, mailto: or tel:, like https://www.example.org")
            )


class SectionForm(FlaskForm):
    """One section of the editor."""

    section = ""
    submit = SubmitField(_l("Save and continue"), widget=GovSubmitInput())

    def configure(self, existing: dict | None = None) -> None:
        """Fill choices from the database and remember what the draft holds (every request, before
        validation)."""

    def load(self, data: dict) -> None:
        """Show the draft's values (on GET)."""

    def values(self) -> dict:
        """The section's JSON from valid fields."""
        raise NotImplementedError

    def add_row_requested(self) -> bool:
        """True when "Add another" was pressed: show one more row, save nothing."""
        return False


class ActionForm(FlaskForm):
    """A button that changes something (start editing, submit, withdraw): a form only for its CSRF token."""


def reset_rows(field_list, rows: list[dict], blank: int = 1) -> None:
    """Replace a FieldList's rows with ``rows`` plus ``blank`` empty ones."""
    while field_list.entries:
        field_list.pop_entry()
    for row in rows:
        field_list.append_entry(row)
    for _ in range(blank):
        field_list.append_entry()


def form_for(section: str) -> type[SectionForm]:
    from portal.provider.listing_forms.about import AboutForm
    from portal.provider.listing_forms.choices import AccessibilityForm, CategoriesForm, LanguagesForm
    from portal.provider.listing_forms.contact import ContactForm
    from portal.provider.listing_forms.costs import CostsForm
    from portal.provider.listing_forms.where import WhereForm
    from portal.provider.listing_forms.who import WhoForm

    forms = {
        "about": AboutForm, "who": WhoForm, "where": WhereForm, "costs": CostsForm, "contact": ContactForm,
        "accessibility": AccessibilityForm, "categories": CategoriesForm, "languages": LanguagesForm,
    }
    return forms[section]
