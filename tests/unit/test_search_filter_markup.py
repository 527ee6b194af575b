"""The search page writes its filter checkboxes by hand (templates/public/_search_filters.html) for
speed. What people and assistive technology get must stay exactly what GOV.UK Frontend's govukCheckboxes gives."""

from __future__ import annotations

import pytest
from flask import render_template_string

from portal import create_app
from portal.public.search_page import FilterGroup, Option

# The parameters the page passed to govukCheckboxes before the filters were written by hand.
COMPONENT = """{% from "govuk_frontend_jinja/components/checkboxes/macro.html" import govukCheckboxes %}
{%- set items = [] %}
{% for option in group.options %}
  {% set item = {"value": option.value, "text": _("%(label)s (%(count)s)", label=option.label, count=option.count),
                 "checked": option.checked} %}
  {% if group.name == "flags" %}{% set item = dict(item, name=option.value, value="yes") %}{% endif %}
  {% set _appended = items.append(item) %}
{% endfor %}
{{- govukCheckboxes({
  "idPrefix": "filter-" ~ group.name,
  "name": group.name,
  "classes": "govuk-checkboxes--small",
  "fieldset": {"legend": {"text": group.legend, "classes": "govuk-fieldset__legend--s"}},
  "items": items
}) }}"""

HAND_WRITTEN = """{% from "public/_search_filters.html" import filter_group %}{{ filter_group(group) }}"""

GROUPS = [
    FilterGroup("category", "Category", [
        Option("advice", "Advice, advocacy & carers", 1686, False),
        Option("children", "Children's <services>", 12, True),
        Option("day-care", "Day \"care\"", 3, False),
    ]),
    FilterGroup("day", "Open on", [Option("MO", "Monday", 1, True)]),
    FilterGroup("flags", "Other", [
        Option("free", "Free services only", 4035, False),
        Option("dp", "Can be bought with a direct payment", 0, True),
    ]),
]


@pytest.fixture(scope="module")
def app():
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize("group", GROUPS, ids=[group.name for group in GROUPS])
def test_filter_checkboxes_are_exactly_the_govuk_component_markup(app, group, language):
    with app.test_request_context(f"/services?lang={language}"):
        expected = render_template_string(COMPONENT, group=group)
        written = render_template_string(HAND_WRITTEN, group=group)
    assert 'class="govuk-checkboxes__input"' in written
    assert written.strip() == expected.strip()
