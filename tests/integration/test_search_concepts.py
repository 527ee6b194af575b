"""The care vocabulary's concepts on a real index (SQLite and PostgreSQL): a search matching a synonym's phrases
by their concept terms finds exactly what matching the phrases by their words' positions found, and only
while the index was built with the vocabulary in use."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date
from pathlib import Path

import pytest
from flask import current_app
from whoosh import query as q

from portal.demo.loader import load_demo
from portal.models import ListingChange
from search import analysis, concepts, indexer, searcher, store
from search.analysis import care_synonyms
from search.concepts import vocabulary_key
from search.facets import DocSets
from search.query import TEXT_FIELDS, Phrase, concept_term, stem_positions
from search.service_search import Match, SearchRequest, _Search, search_services
from tests.support.factories import make_service

DEMO_DAY = date(2025, 6, 2)
EVERY_RESULT = 1000  # a page holding every match, so the whole order is compared


def index_root() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def group_number(*words: str) -> int:
    number = care_synonyms().group_of(tuple(words))
    assert number is not None, words
    return number


def phrase_query(words: tuple[str, ...]) -> q.Query | None:
    """A phrase of the vocabulary as the search matched it before concepts: its words at their offsets, on the
    name or the body; None for a phrase of fewer than two indexed words."""
    positioned = stem_positions(words)
    if len(positioned) < 2:
        return None
    stems = [stem for stem, _ in positioned]
    offsets = [position - positioned[0][1] for _, position in positioned]
    return q.Or([Phrase(fieldname, stems, offsets) for fieldname in TEXT_FIELDS])


def concept_query(term: str) -> q.Query:
    """The documents a concept term was indexed for, on either text field."""
    return q.Or([q.Term(fieldname, term) for fieldname in TEXT_FIELDS])


def search(text: str) -> list[uuid.UUID]:
    return search_services(index_root(), SearchRequest(text=text, per_page=EVERY_RESULT)).ids


def publish(session, service) -> None:
    session.add(ListingChange(subject_id=service.id))
    session.flush()


def docnum_of(index_searcher, service) -> int:
    docnum = index_searcher.document_number(id=str(service.id))
    assert docnum is not None, f"{service.name} is not in the index"
    return docnum


# --- the demo borough: concepts mean exactly what the phrases meant -----------------------------------------


@pytest.fixture
def demo(session):
    load_demo(today=DEMO_DAY)
    session.flush()
    indexer.rebuild()
    searcher.discard()
    return index_root()


def test_each_vocabulary_groups_listings_are_those_holding_one_of_its_phrases(demo):
    with searcher.searching(demo) as (index_searcher, docsets):
        assert docsets.concepts is True  # the index was built with this vocabulary
        by_phrases = DocSets(index_searcher, concepts=False)
        found = {}
        for number, group in enumerate(care_synonyms().groups):
            queries = [query for query in map(phrase_query, group) if query is not None]
            expected = frozenset().union(*(by_phrases.query(query) for query in queries))
            assert docsets.query(concept_query(concept_term(number))) == expected, group
            found[number] = len(expected)
    # Not vacuous: the demo borough writes many of the vocabulary's phrases.
    assert sum(1 for count in found.values() if count) >= 10, found
    assert found[group_number("home", "care")] > 0
    assert found[group_number("respite")] > 0


def _typed_texts() -> list[str]:
    texts = []
    for group in care_synonyms().groups:
        for words in group:
            phrase = " ".join(words)
            texts += [phrase, f'"{phrase}"', f"{phrase} support"]
    # Two synonyms in one search, and a typed phrase needing the ranking's phrase tier.
    texts += ["home care dementia", "short breaks learning disabilities", "care home nursing home"]
    return texts


def test_every_synonym_searched_for_finds_the_same_with_or_without_concepts(demo):
    with searcher.searching(demo) as (index_searcher, _):
        with_concepts = DocSets(index_searcher, concepts=True)
        with_phrases = DocSets(index_searcher, concepts=False)
        matched, with_guides = set(), set()
        for text in _typed_texts():
            request = SearchRequest(text=text, per_page=EVERY_RESULT, guides=20)
            by_concepts = _Search(index_searcher, with_concepts, request).run()
            by_phrases = _Search(index_searcher, with_phrases, request).run()
            assert by_concepts.ids == by_phrases.ids, text
            assert by_concepts.total == by_phrases.total, text
            assert by_concepts.counts == by_phrases.counts, text
            assert by_concepts == by_phrases, text  # match, suggestion, guides and highlights too
            if by_concepts.total and by_concepts.match is Match.ALL_WORDS:
                matched.add(text)
            if by_concepts.guide_ids:
                with_guides.add(text)
    # Not vacuous: many of the typed synonyms find listings.
    assert len(matched) >= 100, sorted(matched)
    assert {"respite", "short breaks", "carer"} <= with_guides
    assert {"domiciliary care", "short breaks", "respite"} <= matched


def test_the_search_page_uses_concepts_on_an_index_built_with_this_vocabulary(demo):
    home_care = search("home care")
    with searcher.searching(demo) as (_, docsets):
        assert docsets.concepts is True
        as_phrases = _Search(docsets.searcher, DocSets(docsets.searcher), SearchRequest(text="home care",
                                                                                     per_page=EVERY_RESULT)).run()
    assert home_care and home_care == as_phrases.ids


# --- the vocabulary the index was built with ---------------------------------------------------------------


@pytest.fixture
def home_care_listings(session):
    """A listing offering domiciliary care (found for "home help" only as the synonym's phrase), one with the
    words apart, one that is a holiday club."""
    listings = {
        "domiciliary": make_service(name="Hilltop visiting", description="Domiciliary care seven days a week."),
        "apart": make_service(name="Garden helpers", description="Care for your garden; domiciliary visits."),
        "holiday": make_service(name="Summer holiday club", description="Games and crafts for children."),
    }
    indexer.rebuild()
    searcher.discard()
    return listings


def test_an_index_marked_with_another_vocabulary_is_searched_by_phrases(session, home_care_listings):
    generation = store.current_path(index_root()).resolve()
    assert store.read_meta(generation)["vocabulary"] == vocabulary_key()
    store.write_meta(generation, vocabulary="an-older-vocabulary")
    searcher.discard()

    with searcher.searching(index_root()) as (_, docsets):
        assert docsets.concepts is False
    domiciliary, apart = home_care_listings["domiciliary"].id, home_care_listings["apart"].id
    assert search("home help") == [domiciliary]
    # Typed unquoted the words match apart too; written together ranks first.
    assert search("domiciliary care") == [domiciliary, apart]
    assert search('"domiciliary care"') == [domiciliary]


def test_the_indexer_will_not_add_to_an_index_of_another_vocabulary_and_start_up_rebuilds_it(
        session, home_care_listings):
    generation = store.current_path(index_root()).resolve()
    store.write_meta(generation, vocabulary="an-older-vocabulary")
    added = make_service(name="Riverside", description="Care at home for older people.")
    publish(session, added)

    with pytest.raises(store.IndexUnavailable):
        indexer.sync()
    assert store.read_meta(generation)["applied_change_id"] < indexer.latest_change_id()

    assert indexer.ensure_index() is True
    rebuilt = store.current_path(index_root()).resolve()
    assert rebuilt != generation
    assert store.read_meta(rebuilt)["vocabulary"] == vocabulary_key()
    assert indexer.ensure_index() is False
    with searcher.searching(index_root()) as (_, docsets):
        assert docsets.concepts is True
    assert set(search("home help")) == {home_care_listings["domiciliary"].id, added.id}
    assert indexer.sync() == 0


@contextlib.contextmanager
def vocabulary_file(path: Path, text: str):
    """The care vocabulary read from ``text`` while the block runs (as after editing synonyms.txt)."""
    path.write_text(text, encoding="utf-8")
    original = analysis.SYNONYMS_FILE

    def forget():
        analysis.care_synonyms.cache_clear()
        concepts._phrases.cache_clear()

    analysis.SYNONYMS_FILE = path
    forget()
    try:
        yield
    finally:
        analysis.SYNONYMS_FILE = original
        forget()


def test_an_index_built_before_the_vocabulary_changed_still_finds_the_right_listings(session, tmp_path):
    domiciliary = make_service(name="Hilltop visiting", description="Domiciliary care seven days a week.")
    holiday = make_service(name="Summer holiday club", description="Games and crafts for children.")
    # The same groups in the opposite order: the old index's group numbers name other groups now.
    lines = [line for line in analysis.SYNONYMS_FILE.read_text(encoding="utf-8").splitlines()
             if line.split("#", 1)[0].strip()]
    with vocabulary_file(tmp_path / "synonyms.txt", "\n".join(reversed(lines)) + "\n"):
        old_key = vocabulary_key()
        indexer.rebuild()
    searcher.discard()
    assert old_key != vocabulary_key()
    generation = store.current_path(index_root()).resolve()
    assert store.read_meta(generation)["vocabulary"] == old_key
    with searcher.searching(index_root()) as (index_searcher, docsets):
        # The old index filed the holiday club under the number "home care" has now.
        home_care = concept_term(group_number("home", "care"))
        assert docnum_of(index_searcher, holiday) in docsets.query(concept_query(home_care))
        assert docsets.concepts is False

    assert search("home help") == [domiciliary.id]
    assert search("holiday club") == [holiday.id]

    assert indexer.ensure_index() is True
    with searcher.searching(index_root()) as (index_searcher, docsets):
        assert docsets.concepts is True
        assert docsets.query(concept_query(home_care)) == {docnum_of(index_searcher, domiciliary)}
    assert search("home help") == [domiciliary.id]
    assert search("holiday activities") == [holiday.id]


# --- changes after a rebuild ---------------------------------------------------------------------------------


def test_a_listing_published_after_a_rebuild_is_found_by_its_synonyms(session):
    make_service(name="Oak Lodge nursing", description="Residential care in Aldermoor.")
    indexer.rebuild()
    searcher.discard()
    assert search("home care") == []  # opens the searcher before the change

    listing = make_service(name="Hilltop visiting", description="We provide domiciliary care across the borough.")
    publish(session, listing)
    assert indexer.sync() == 1

    assert search("home care") == [listing.id]
    assert search("care at home") == [listing.id]
    with searcher.searching(index_root()) as (index_searcher, docsets):
        assert docsets.concepts is True
        home_care = concept_term(group_number("home", "care"))
        assert docsets.query(concept_query(home_care)) == {docnum_of(index_searcher, listing)}


def test_an_edit_that_drops_the_phrase_drops_the_listing_from_the_synonyms_results(session):
    listing = make_service(name="Hilltop visiting", description="Domiciliary care across the borough.")
    indexer.rebuild()
    searcher.discard()
    assert search("home help") == [listing.id]

    listing.description = "Domiciliary visits and garden care across the borough."
    publish(session, listing)
    assert indexer.sync() == 1

    assert search("home help") == []
    assert search("domiciliary care") == [listing.id]  # the words, typed unquoted, still match apart
    assert search('"domiciliary care"') == []


def test_a_phrase_split_between_a_listings_name_and_description_is_not_a_synonym_match(session):
    # The name ends with "Domiciliary" and the description starts with "care": two fields, no phrase.
    split = make_service(name="Riverside Domiciliary", summary="Care for your garden, hedges and lawns.")
    together = make_service(name="Hilltop visiting", summary="Domiciliary care for older people.")
    indexer.rebuild()
    searcher.discard()

    assert search("home help") == [together.id]
    assert search('"domiciliary care"') == [together.id]
    with searcher.searching(index_root()) as (index_searcher, docsets):
        home_care = concept_term(group_number("home", "care"))
        assert docsets.query(concept_query(home_care)) == {docnum_of(index_searcher, together)}
        assert docnum_of(index_searcher, split) not in docsets.query(phrase_query(("domiciliary", "care")))
