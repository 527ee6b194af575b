"""Sections that are lists of choices: accessibility features, categories and languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError

from portal.data import drafts
from portal.i18n import current_language, localised
from portal.provider.listing_forms import SectionForm
from portal.public.presenters import language_name

# Community languages most asked for here, English and Welsh first, then British Sign Language.
COMMON_LANGUAGES = (
    "en", "cy", "sgn-GB", "pl", "ur", "pa", "bn", "ar", "ro", "so", "gu", "ta", "zh", "yue", "fa", "ku", "tr",
    "pt", "lt", "es", "fr", "it", "hi", "ti", "uk", "ps",
)


class AccessibilityForm(SectionForm):
    section = "accessibility"

    accessibility_features = SelectMultipleField(
        _l("What does the service offer to make it accessible?"),
        widget=GovCheckboxesInput(),
        description=_l("Select all that apply."),
        choices=[],
    )

    def configure(self, existing: dict | None = None) -> None:
        self.accessibility_features.choices = [
            (feature.slug, localised(feature, "name")) for feature in drafts.accessibility_features()
        ]

    def load(self, data: dict) -> None:
        self.accessibility_features.data = list(data.get("accessibility_features") or [])

    def values(self) -> dict:
        return {"accessibility_features": sorted(self.accessibility_features.data or [])}


class CategoriesForm(SectionForm):
    section = "categories"

    taxonomy_terms = SelectMultipleField(_l("Categories"), choices=[])
    groups: list = []

    def configure(self, existing: dict | None = None) -> None:
        self.groups = [
            (root, [(term.slug, localised(term, "name")) for term in (root, *below)])
            for root, below in drafts.category_groups()
        ]
        self.taxonomy_terms.choices = [choice for _, items in self.groups for choice in items]

    def validate_taxonomy_terms(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Select at least one category"))

    def load(self, data: dict) -> None:
        self.taxonomy_terms.data = list(data.get("taxonomy_terms") or [])

    def values(self) -> dict:
        return {"taxonomy_terms": sorted(self.taxonomy_terms.data or [])}


class LanguagesForm(SectionForm):
    section = "languages"

    languages = SelectMultipleField(
        _l("Which languages is the service offered in?"),
        widget=GovCheckboxesInput(),
        description=_l("Select all that apply. Include languages your staff or interpreters can use."),
        choices=[],
    )
    notes: dict = {}

    def configure(self, existing: dict | None = None) -> None:
        codes = list(COMMON_LANGUAGES)
        existing = (existing or {}).get("languages") or []
        # A listing may already name a language we do not list (imported): keep it choosable.
        for row in existing:
            if row["code"] not in codes:
                codes.append(row["code"])
        self.languages.choices = [(code, language_name(code, current_language())) for code in codes]
        self.notes = {row["code"]: row.get("note", "") for row in existing}

    def load(self, data: dict) -> None:
        self.languages.data = [row["code"] for row in data.get("languages") or []]

    def values(self) -> dict:
        return {
            "languages": sorted(
                ({"code": code, "note": self.notes.get(code, "")} for code in self.languages.data or []),
                key=lambda row: row["code"],
            )
        }
