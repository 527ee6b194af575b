"""Guide text: headings with ids for the contents list, lists after a sentence, and personal data stripped from
feedback. Pure functions, no database."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from portal import richtext
from portal.data.feedback_scrub import scrub


def _tree(document: richtext.Document):
    return lxml_html.fragment_fromstring(str(document.html), create_parent="div")


def test_hash_lines_become_headings_with_unique_ids_and_plain_text():
    document = richtext.to_document(
        "# Paying **for** care\n\n## Paying for care\n\n### Help <b>with</b> costs\n\n## Gofal ŵyr",
        reserved_ids=["main-content"])

    assert [(h.id, h.text, h.level) for h in document.headings] == [
        ("paying-for-care", "Paying for care", 2), ("paying-for-care-2", "Paying for care", 2),
        ("help-with-costs", "Help with costs", 3), ("gofal-wyr", "Gofal ŵyr", 2)]
    assert [h.text for h in document.sections] == ["Paying for care", "Paying for care", "Gofal ŵyr"]
    assert _tree(document).xpath("//h2/@id") == ["paying-for-care", "paying-for-care-2", "gofal-wyr"]


def test_a_heading_never_takes_an_id_the_page_already_uses():
    document = richtext.to_document("## Main content", reserved_ids=["main-content"])

    assert document.headings[0].id == "main-content-2"


def test_a_list_straight_after_its_sentence_is_still_a_list():
    tree = _tree(richtext.to_document("You can:\n- ask us\n- ask a friend\nThen wait."))

    assert tree.xpath("//p/text()") == ["You can:", "Then wait."]
    assert tree.xpath("//ul/li/text()") == ["ask us", "ask a friend"]


@pytest.mark.parametrize("source", [
    "## <script>alert(1)</script>Safe",
    "<h2 id='main-content' onclick='x()'>Safe</h2>",
    "<iframe src='https://evil.example'></iframe>Safe",
    "[Safe](javascript:alert(1))",
])
def test_guides_keep_the_provider_text_rules_no_scripts_frames_or_javascript_links(source):
    tree = _tree(richtext.to_document(source))

    assert not tree.xpath("//script | //iframe | //a | //*[@onclick] | //*[@id='main-content']")
    assert "alert" not in lxml_html.tostring(tree, encoding="unicode")
    assert "Safe" in tree.text_content()


@pytest.mark.parametrize("text, expected", [
    ("Email me at a.person+care@example.co.uk", "Email me at [removed]"),
    ("Ring 01632 960000 or +44 (0) 7700 900 982.", "Ring [removed] or [removed]."),
    ("Postcode am1 1aa and SW1A 2AA", "Postcode [removed] and [removed]"),
    ("NHS 943-476-5919", "NHS [removed]"),
    ("NI: AB123456C", "NI: [removed]"),
    ("Card 4111111111111111", "Card [removed]"),
    ("my name is jane and I'm called Bob Smith", "my name is [removed] and I'm called [removed]"),
    ("Fy enw i yw Siân Lloyd", "Fy enw i yw [removed]"),
])
def test_personal_data_is_replaced_by_removed(text, expected):
    assert scrub(text) == expected


def test_ordinary_feedback_with_small_numbers_and_prices_is_kept():
    text = "Useful, but the 2024 rates changed: it costs £1,250 a week for 3 days in AM1."

    assert scrub(text) == text
