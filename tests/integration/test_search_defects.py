"""Relevance defects found on the demo borough and the Buckinghamshire sample, each as a resident meets it.

Expected answers come from the database (categories, needs, the sample's own records), never from the search.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import SearchLog, Service, public_services_clause
from search import indexer
from tests.integration.test_search_relevance import (
    all_result_ids,
    bucks,  # noqa: F401  (the Buckinghamshire sample fixture)
    demo,  # noqa: F401  (the demo borough fixture)
    distances,
    heading_total,
    public_ids_in,
    result_names,
    search,
    suggestion,
)
from tests.support.factories import make_service
from tests.support.html import texts


def public_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Service).where(public_services_clause()))


# --- "care home" is not "care at home" ---------------------------------------------------------------------


@pytest.fixture
def care_homes(demo):  # noqa: F811
    """The demo borough (home care, no care homes) plus two care homes."""
    homes = {
        "oakwood": make_service(name="Oakwood", summary="A residential care home for older people"),
        "elm": make_service(name="Elm Lodge nursing home", summary="Nursing care round the clock"),
    }
    indexer.rebuild()
    return {key: service.id for key, service in homes.items()}


def test_care_home_finds_care_homes_not_home_care_listings(client, care_homes):
    home_care = public_ids_in("home-care", "care-at-home")
    assert home_care

    assert set(all_result_ids(client, q='"care home"')) == {care_homes["oakwood"]}
    homes = {care_homes["oakwood"], care_homes["elm"]}
    for typed in ("care home", "Care homes", "residential care", "nursing home"):
        found = all_result_ids(client, q=typed)
        # Typed without quotes the words may be apart, but the care homes come first.
        assert set(found[:2]) == homes, typed
    assert set(all_result_ids(client, q="residential care")) == homes
    assert not set(all_result_ids(client, q="nursing home")) & home_care


def test_a_quoted_phrase_with_a_small_word_in_it_still_finds_those_words_together(client, care_homes):
    home_care = public_ids_in("home-care")
    care_at_home = set(all_result_ids(client, q='"care at home"'))

    assert care_at_home and care_homes["oakwood"] not in care_at_home
    assert care_at_home & home_care


# --- Alzheimer's -----------------------------------------------------------------------------------------


def test_alzheimer_with_or_without_an_apostrophe_finds_the_dementia_services(client, demo):  # noqa: F811
    written = make_service(name="Memory support", summary="For people living with Alzheimer\u2019s disease")
    indexer.rebuild()
    dementia = public_ids_in("dementia-support")
    assert dementia

    found = {typed: all_result_ids(client, q=typed)
             for typed in ("alzheimer", "Alzheimer's", "Alzheimer\u2019s", "alzheimers", "ALZHEIMER")}

    for typed, ids in found.items():
        assert dementia <= set(ids), typed
        assert written.id in ids, typed
        assert set(ids) == set(found["Alzheimer's"]), typed


# --- a postcode typed in the search box --------------------------------------------------------------------


def test_a_postcode_typed_as_the_search_lists_services_nearest_first_without_did_you_mean(client, demo):  # noqa: F811
    everything = public_count()
    by_field = search(client, postcode="AM1 1EW", sort="distance")

    for typed in ("AM1 1EW", "am11ew", " am1  1ew "):
        page = search(client, q=typed)
        assert suggestion(page) is None, typed
        assert heading_total(page) == everything, typed
        assert result_names(page) == result_names(by_field), typed
        assert distances(page) == distances(by_field), typed
    shown = [float(text.split()[0]) for text in distances(by_field) if text]
    assert shown and shown == sorted(shown)

    outward = search(client, q="AM1")
    assert suggestion(outward) is None
    assert result_names(outward) == result_names(search(client, postcode="AM1", sort="distance"))


def test_a_postcode_typed_with_words_searches_the_words_near_the_postcode(client, demo):  # noqa: F811
    together = search(client, q="dementia AM1 1EW")

    assert suggestion(together) is None
    assert result_names(together) == result_names(search(client, q="dementia", postcode="AM1 1EW"))
    assert heading_total(together) == heading_total(search(client, q="dementia"))
    assert all(text.endswith("miles away") for text in distances(together) if text)
    assert any(distances(together))


def test_a_postcode_typed_in_the_search_is_logged_only_as_its_outward_code(client, demo):  # noqa: F811
    search(client, q="dementia AM1 1EW")

    (entry,) = db.session.scalars(sa.select(SearchLog)).all()
    assert (entry.text, entry.outward_code) == ("dementia", "AM1")


def test_an_unknown_postcode_typed_as_the_search_says_so_and_lists_everything(client, demo):  # noqa: F811
    page = search(client, q="hp217jf")

    assert suggestion(page) is None
    assert heading_total(page) == public_count()
    assert any("HP21 7JF" in text or "hp217jf" in text for text in texts(page, "//strong"))


def test_no_spelling_suggestion_for_a_postcode_or_a_number_among_the_words(client, demo):  # noqa: F811
    for typed in ("AM1 1EW", "support 111", "HP21 7JF"):
        page = search(client, q=typed, postcode="AM1 1EW")
        assert suggestion(page) is None, typed


# --- dotted abbreviations --------------------------------------------------------------------------------


def test_dotted_abbreviations_mean_the_same_as_undotted_ones(client, demo):  # noqa: F811
    assistants = public_ids_in("personal-assistants")
    pa = all_result_ids(client, q="P.A.")

    assert assistants <= set(pa) and pa[0] in assistants
    assert set(pa) == set(all_result_ids(client, q="PA"))

    ot = set(all_result_ids(client, q="O.T."))
    assert ot and ot == set(all_result_ids(client, q="occupational therapy"))
    assert ot == set(all_result_ids(client, q="OT"))


# --- SEND and deafness on the Buckinghamshire sample --------------------------------------------------------


def _names_with_send_need(records: dict[str, dict], name: str | None = None) -> set[str]:
    return {key for key, record in records.items()
            if any(name is None or need["name"] == name for need in record.get("send_needs") or [])}


def test_send_finds_the_listings_with_send_needs(client, bucks):  # noqa: F811
    with_send = _names_with_send_need(bucks)
    assert with_send

    for typed in ("SEND", "send", "special educational needs", "SEN"):
        assert set(result_names(search(client, q=typed))) >= with_send, typed


def test_deaf_finds_the_listings_supporting_hearing_needs(client, bucks):  # noqa: F811
    hearing = _names_with_send_need(bucks, "Hearing")
    assert hearing

    for typed in ("deaf", "hearing impairment", "hard of hearing", "hearing loss"):
        assert set(result_names(search(client, q=typed))) == hearing, typed

