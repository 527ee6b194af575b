"""A guide as the index sees it: the words a reader sees, never markup, link addresses or script."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.models import Guide, GuideState, TaxonomyTerm
from search.documents import guide_document, plain_text


def test_markdown_becomes_the_words_a_reader_sees():
    source = ("## Before the visit\n\n- Write down a **typical day**\n1. Ask for an "
              "[advocate](https://example.gov.uk/hopscotch) &amp; a friend\n\n> Quoted _advice_")

    text = plain_text(source)

    assert text.split() == ["Before", "the", "visit", "Write", "down", "a", "typical", "day", "Ask", "for", "an",
                            "advocate", "&", "a", "friend", "Quoted", "advice"]


def test_script_raw_html_and_bare_addresses_are_not_indexed_as_words():
    source = ('<script>alert("stolen")</script><p onclick="x()">Call <b>us</b></p> or see www.example.org/secret '
              "<iframe src='https://evil.example'></iframe>")

    assert plain_text(source).split() == ["Call", "us", "or", "see"]


def test_a_guide_document_holds_both_languages_and_its_categories_with_their_parents():
    parent = TaxonomyTerm(name="Care at home", name_cy="Gofal yn y cartref", slug="care-at-home")
    child = TaxonomyTerm(name="Home care", slug="home-care", parent=parent)
    published = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    guide = Guide(slug="paying-for-care", state=GuideState.PUBLISHED, title="Paying for care", title_cy="Talu am ofal",
                  summary="What you pay.", summary_cy="Beth rydych chi'n ei dalu.", body="A **financial** check.",
                  body_cy="Gwiriad *ariannol*.", published_at=published, content_updated_at=published)
    guide.categories = [child]

    document = guide_document(guide)

    assert document["kind"] == "guide" and document["slug"] == "paying-for-care"
    assert document["name"] == "Paying for care\nTalu am ofal"
    assert document["body"].split("\n") == ["What you pay.", "A financial check.", "Beth rydych chi'n ei dalu.",
                                            "Gwiriad ariannol.", "Home care", "Care at home", "Gofal yn y cartref"]
    assert document["categories"] == "home-care,care-at-home"
    assert document["updated"] == int(published.timestamp())
    assert "spelling" not in document  # "did you mean" suggests only words that find services
