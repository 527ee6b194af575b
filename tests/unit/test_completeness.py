"""The editor's completeness score and section checks, on listing JSON alone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.data import drafts, revision_format
from portal.provider.listing_forms import NotPounds, pence_to_pounds, pounds_to_pence
from portal.provider.listing_forms.where import parse_clock

FIFTY_WORDS = " ".join(["word"] * 50)


def _listing(**fields) -> dict:
    return {**revision_format.empty_listing(), **fields}


def test_an_empty_listing_has_nothing_done_and_says_what_is_missing():
    score = drafts.completeness(_listing())

    assert (score.done, score.total) == (0, 10)
    assert [str(check.missing) for check in score.missing] == [
        "No summary", "Description under 50 words", "Nothing about who it is for",
        "No place, and not online or by phone", "No opening times", "No costs", "No contact",
        "No accessibility information", "No category", "No languages",
    ]


def test_a_full_listing_scores_ten_of_ten():
    listing = _listing(
        summary="A club", description=FIFTY_WORDS, minimum_age=5, online=True, schedule_note="Term time only",
        is_free=True, url="https://example.org", accessibility_features=["step-free"],
        taxonomy_terms=["clubs"], languages=[{"code": "cy", "note": ""}],
    )

    assert drafts.completeness(listing).done == 10


def test_a_description_of_49_words_is_too_short():
    short = drafts.completeness(_listing(description=" ".join(["word"] * 49)))
    enough = drafts.completeness(_listing(description=FIFTY_WORDS))

    assert "Description under 50 words" in [str(check.missing) for check in short.missing]
    assert "Description under 50 words" not in [str(check.missing) for check in enough.missing]


def test_a_phone_number_of_a_contact_counts_as_a_way_to_contact():
    listing = _listing(contacts=[{"name": "Sam", "title": "", "email": None,
                                  "phones": [{"number": "01632 960000", "extension": "", "description": ""}]}])

    assert "No contact" not in [str(check.missing) for check in drafts.completeness(listing).missing]
    assert drafts.section_problems("contact", listing) == []


def test_sections_explain_what_stops_them_being_complete():
    assert [str(p) for p in drafts.section_problems("about", _listing(name="Club"))] == ["Enter a short summary"]
    assert [str(p) for p in drafts.section_problems("who", _listing(minimum_age=12, maximum_age=5))] == [
        "Minimum age must be the same as or lower than the maximum age"]
    assert [str(p) for p in drafts.section_problems("contact", _listing(url="javascript:alert(1)"))] == [
        "Website must start with http:// or https://"]
    assert drafts.section_problems("accessibility", _listing()) == []


def _revision(data: dict, saved: list[str], base_version=None):
    return SimpleNamespace(data=data, sections_saved=saved, base_version=base_version)


def test_a_section_is_completed_only_when_saved_and_valid():
    listing = _listing(name="Club", summary="A club", minimum_age=5)
    statuses = drafts.section_statuses(_revision(listing, ["about"]))

    assert statuses["about"] is drafts.SectionStatus.COMPLETED
    assert statuses["who"] is drafts.SectionStatus.IN_PROGRESS  # filled in, not saved
    assert statuses["costs"] is drafts.SectionStatus.NOT_STARTED
    assert drafts.section_statuses(_revision(_listing(name="Club"), ["about"]))["about"] is (
        drafts.SectionStatus.IN_PROGRESS)


def test_a_published_listings_valid_sections_carry_over_as_completed():
    listing = _listing(name="Club", summary="A club", is_free=True)
    statuses = drafts.section_statuses(_revision(listing, [], base_version=3))

    assert statuses["about"] is drafts.SectionStatus.COMPLETED
    assert statuses["costs"] is drafts.SectionStatus.COMPLETED
    assert statuses["categories"] is drafts.SectionStatus.IN_PROGRESS  # no category yet: must be fixed


@pytest.mark.parametrize(("typed", "pence"), [
    ("12.50", 1250), ("£12.50", 1250), ("12", 1200), ("12.5", 1250), ("0.99", 99), ("£1,234.05", 123405),
    (" 7 ", 700), ("0", 0),
])
def test_pounds_typed_become_whole_pence(typed, pence):
    assert pounds_to_pence(typed) == pence


@pytest.mark.parametrize("typed", ["", "twelve", "-5", "12.345", "1.2.3", "£", "12,50"])
def test_amounts_that_are_not_pounds_and_pence_are_refused(typed):
    with pytest.raises(NotPounds):
        pounds_to_pence(typed)


def test_pence_show_as_pounds_in_the_form():
    assert pence_to_pounds(1250) == "12.50"
    assert pence_to_pounds(5) == "0.05"
    assert pence_to_pounds(None) == ""


def test_times_are_read_as_people_type_them():
    assert [parse_clock(text) for text in ("9:30", "09.30", "0930", "17:00", "25:00", "noon")] == [
        "09:30", "09:30", "09:30", "17:00", None, None]
