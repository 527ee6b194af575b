"""Forms on the public directory pages."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import Field, StringField
from wtforms.validators import Length, Optional, Regexp

# A full UK postcode or just its outward code ("AM1 1AA", "am11aa", "AM1"): people often type only half.
UK_POSTCODE = r"^\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?(\s*[0-9][A-Za-z]{2})?\s*$"

RADIUS_CHOICES = ("1", "3", "5", "10", "25")
SORT_CHOICES = ("relevance", "distance", "updated")
FILTER_NAMES = ("category", "need", "age", "locality", "attending", "day")
FLAG_NAMES = ("free", "dp", "local_offer")
_FILTER_VALUE = re.compile(r"[\w-]{1,120}")
MAX_FILTER_VALUES = 20


class FilterValuesField(Field):
    """The values of one filter's checkboxes. A bookmark may hold values that no longer exist or were typed
    by hand: odd ones are dropped, never an error, and the search simply does not match them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, default=(), **kwargs)

    def process_formdata(self, valuelist):
        values = (value.strip() for value in valuelist)
        kept = dict.fromkeys(value for value in values if _FILTER_VALUE.fullmatch(value))
        self.data = tuple(kept)[:MAX_FILTER_VALUES]


class ChoiceOrDefaultField(Field):
    """One of a fixed set of values; anything else (an old bookmark) means the default."""

    def __init__(self, *args, choices: tuple[str, ...], **kwargs):
        self.allowed = choices
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        value = valuelist[0].strip() if valuelist else ""
        self.data = value if value in self.allowed else self.default


class FlagField(Field):
    """A single checkbox that sends "yes"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, default=False, **kwargs)

    def process_formdata(self, valuelist):
        self.data = "yes" in valuelist


class SearchForm(FlaskForm):
    """The directory search with its filters: a bookmarkable GET form, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search for care and support"),
        description=_l("For example, home care, carers' support or autism"),
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message=_l("Search words must be 200 characters or fewer"))],
        filters=[lambda value: " ".join(value.split()) if value else ""],
    )
    postcode = StringField(
        _l("Postcode (optional)"),
        widget=GovTextInput(),
        validators=[Optional(), Regexp(UK_POSTCODE, message=_l("Enter a real postcode, like AM1 1AA"))],
        filters=[lambda value: " ".join(value.upper().split()) if value else ""],
    )
    category = FilterValuesField(_l("Category"))
    need = FilterValuesField(_l("Needs supported"))
    age = FilterValuesField(_l("Age"))
    locality = FilterValuesField(_l("Area"))
    attending = FilterValuesField(_l("How you take part"))
    day = FilterValuesField(_l("Open on"))
    free = FlagField(_l("Free services only"))
    dp = FlagField(_l("Can be bought with a direct payment"))
    local_offer = FlagField(_l("Part of the SEND Local Offer"))
    radius = ChoiceOrDefaultField(_l("Distance"), choices=RADIUS_CHOICES, default="")
    sort = ChoiceOrDefaultField(_l("Sort by"), choices=SORT_CHOICES, default="relevance")

    def selected_filters(self) -> dict[str, tuple[str, ...]]:
        """The filters chosen, by name: checkbox groups with their values, flags as ("yes",)."""
        chosen = {name: getattr(self, name).data for name in FILTER_NAMES if getattr(self, name).data}
        chosen.update({name: ("yes",) for name in FLAG_NAMES if getattr(self, name).data})
        return chosen
