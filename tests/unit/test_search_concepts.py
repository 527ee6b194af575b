"""The care vocabulary's concepts found in a listing when it is indexed (search.concepts), and the queries that
use them: a listing holding one of a synonym's phrases together is found by one concept term, with exactly the
meaning the phrase queries had."""

from __future__ import annotations

import dataclasses
import math

from whoosh import query as q
from whoosh.filedb.filestore import FileStorage

from search import store
from search.analysis import Synonyms, care_synonyms, units_of
from search.concepts import concepts_of, vocabulary_key
from search.query import TEXT_FIELDS, Phrase, concept_term, stems, unit_alternatives
from search.schema import build_schema, text_analyzer


def group_of(*words: str) -> int:
    number = care_synonyms().group_of(tuple(words))
    assert number is not None, f"{words} is not in the care vocabulary"
    return number


def concept(*words: str) -> str:
    return concept_term(group_of(*words))


HOME_CARE_NUMBER = group_of("home", "care")
HOME_CARE = concept_term(HOME_CARE_NUMBER)
RESPITE = concept("respite")
MEALS_ON_WHEELS = concept("meals", "on", "wheels")
CARE_HOME = concept("care", "home")


def phrases_in(queries: list[q.Query]) -> set[tuple[str, tuple[str, ...]]]:
    return {(leaf.fieldname, tuple(leaf.words)) for query in queries for leaf in query.leaves()
            if isinstance(leaf, q.Phrase)}


EVERY_CONCEPT = frozenset(concept_term(number) for number in range(len(care_synonyms().groups)))


def concept_terms_in(queries: list[q.Query]) -> list[str]:
    """The concept terms the queries look up, once per query (a query may look on several fields)."""
    found = []
    for query in queries:
        leaves = query.leaves()
        found += sorted({leaf.text for leaf in leaves if isinstance(leaf, q.Term) and leaf.text in EVERY_CONCEPT})
    return found


def concept_query(term: str) -> q.Query:
    return q.Or([q.Term(fieldname, term) for fieldname in TEXT_FIELDS])


def terms_in(query: q.Query) -> set[tuple[str, str]]:
    return {(leaf.fieldname, leaf.text) for leaf in query.leaves() if isinstance(leaf, q.Term)}


# --- finding concepts in a listing's text ---------------------------------------------------------------


def test_a_listing_offering_domiciliary_care_is_filed_under_home_care():
    assert concepts_of("We offer domiciliary care across the borough.") == [HOME_CARE]
    assert concepts_of("Care at home for older people") == [HOME_CARE]
    assert concepts_of("Home help with shopping and cleaning") == [HOME_CARE]


def test_meals_on_wheels_is_found_across_its_stop_word():
    # "on" is not indexed: "meal" then "wheel" two places on, as the phrase query reads the index.
    assert concepts_of("Hot meals on wheels, delivered daily") == [MEALS_ON_WHEELS]
    assert concepts_of("Meals-on-Wheels") == [MEALS_ON_WHEELS]
    # Without the gap the words are not the phrase.
    assert concepts_of("Meals, wheels and more") == []
    assert concepts_of("Meal wheel") == []


def test_a_care_home_is_not_care_at_home():
    assert concepts_of("Riverside care home") == [CARE_HOME]
    assert HOME_CARE not in concepts_of("Riverside care home")
    assert CARE_HOME not in concepts_of("Care at home in Aldermoor")


def test_the_words_of_a_phrase_apart_are_not_the_phrase():
    assert concepts_of("Home and garden care") == []
    assert concepts_of("Care for your home") == []
    assert concepts_of("Short walks and tea breaks") == []


def test_a_phrase_split_between_the_name_and_the_description_is_not_found(tmp_path):
    index = FileStorage(str(tmp_path)).create_index(build_schema())
    writer = store.writer(index)
    writer.add_document(id="split", name="Riverside Domiciliary", body="Care for your garden")
    writer.add_document(id="meals", name="Hot meals on", body="wheels and more")
    writer.add_document(id="body", name="Hilltop", body="Domiciliary care for everyone")
    writer.add_document(id="name", name="Meals on wheels", body="Every weekday")
    writer.commit()

    with index.searcher() as searcher:
        def found(term: str) -> set[str]:
            return {searcher.stored_fields(docnum)["id"] for docnum in searcher.docs_for_query(concept_query(term))}

        assert found(HOME_CARE) == {"body"}
        assert found(MEALS_ON_WHEELS) == {"name"}


def test_plurals_and_word_endings_of_a_phrase_are_the_phrase():
    assert concepts_of("Short breaks for disabled children") == [RESPITE]
    assert concepts_of("A short break by the sea") == [RESPITE]
    assert concepts_of("Domiciliary caring") == [HOME_CARE]
    assert concepts_of("Day centres") == [concept("day", "centre")]


def test_a_listing_can_hold_several_concepts_and_each_once():
    found = concepts_of("Short breaks and home help.\nHome help, meals on wheels and more home help")

    assert found == sorted({RESPITE, HOME_CARE, MEALS_ON_WHEELS})


def test_single_word_synonyms_are_left_to_the_word_search():
    # "respite" and "dementia" are one indexed word each: the text field finds them by a term already.
    assert concepts_of("Respite for carers living with dementia") == []
    assert concepts_of("") == []


def test_every_several_word_phrase_of_the_vocabulary_is_found_in_its_own_words():
    missing = []
    for number, group in enumerate(care_synonyms().groups):
        for words in group:
            if len(stems(words)) > 1 and concept_term(number) not in concepts_of(" ".join(words)):
                missing.append(words)
    assert not missing, missing


def test_the_indexed_words_are_unchanged_and_each_concept_added_once_at_its_phrase():
    text = "Meals on wheels, and domiciliary care; more domiciliary care"
    indexed = build_schema()["body"].analyzer
    words = [(token.text, token.pos) for token in text_analyzer()(text, positions=True)]
    tokens = [(token.text, token.pos) for token in indexed(text, positions=True, mode="index")]

    assert tokens[:len(words)] == words
    # "meals" 0, "on" 1, "wheels" 2, "and" 3, "domiciliary" 4: the first place each phrase is written.
    assert sorted(tokens[len(words):]) == sorted([(MEALS_ON_WHEELS, 0), (HOME_CARE, 4)])
    # Without positions (anything but indexing the text fields) no concept is added.
    assert [token.text for token in indexed(text)] == [word for word, _ in words]


# --- the vocabulary an index was built with --------------------------------------------------------------


def test_changing_the_vocabulary_changes_its_key():
    first = Synonyms.parse("brew, cuppa, cup of tea\n")
    same = Synonyms.parse("# a comment\nBrew,  cuppa , cup of tea\n")
    more = Synonyms.parse("brew, cuppa, cup of tea, pot of tea\n")
    another_group = Synonyms.parse("brew, cuppa, cup of tea\nlift, elevator\n")

    assert vocabulary_key(first) == vocabulary_key(same)
    assert len({vocabulary_key(first), vocabulary_key(more), vocabulary_key(another_group)}) == 3
    assert vocabulary_key() == vocabulary_key(care_synonyms())
    assert vocabulary_key() != vocabulary_key(first)


# --- what was typed ------------------------------------------------------------------------------------


def test_a_typed_synonym_knows_its_vocabulary_group():
    (home_care,) = units_of("home care")
    assert home_care.group == HOME_CARE_NUMBER
    assert ("home", "care") in care_synonyms().groups[home_care.group]

    units = units_of("short breaks in Aldermoor")
    assert [(unit.words, unit.group) for unit in units] == [(("short", "breaks"), group_of("respite")),
                                                            (("aldermoor",), None)]


def test_words_the_vocabulary_does_not_know_and_quoted_phrases_have_no_group():
    assert [unit.group for unit in units_of("lunch club")] == [None, None]
    (quoted,) = units_of('"home care"')
    assert quoted.quoted and quoted.group is None


def test_a_custom_vocabulary_numbers_its_own_groups():
    custom = Synonyms.parse("brew, cuppa, cup of tea\nlift, elevator\n")

    assert [unit.group for unit in units_of("elevator cuppa biscuits", custom)] == [1, 0, None]



def test_with_concepts_a_synonyms_other_phrases_are_one_term():
    (unit,) = units_of("home care")
    alternatives = unit_alternatives(unit, concepts=True)

    assert concept_terms_in(alternatives) == [HOME_CARE]
    assert phrases_in(alternatives) == set()
    # The phrase as typed, unquoted, still matches its words anywhere in the listing...
    loose = q.And([q.Or([q.Term("name", "home"), q.Term("body", "home")]),
                   q.Or([q.Term("name", "care"), q.Term("body", "care")])])
    assert loose in alternatives
    # ...and a one-word way of saying it is still a word on the text fields.
    (homecare,) = stems(("homecare",))
    assert q.Or([q.Term("name", homecare), q.Term("body", homecare)]) in alternatives
    assert len(alternatives) == 3


def test_a_one_word_synonym_keeps_its_word_and_gains_the_concept():
    (unit,) = units_of("respite")
    alternatives = unit_alternatives(unit, concepts=True)

    assert alternatives[0] == q.Or([q.Term("name", "respit"), q.Term("body", "respit")])
    assert concept_terms_in(alternatives) == [RESPITE]
    assert phrases_in(alternatives) == set()


def test_without_concepts_the_phrases_are_matched_as_before():
    (unit,) = units_of("home care")
    alternatives = unit_alternatives(unit, concepts=False)

    assert concept_terms_in(alternatives) == []
    assert {words for _, words in phrases_in(alternatives)} == {("home", "help"), ("domiciliari", "care"),
                                                                 ("care", "home")}
    assert {fieldname for fieldname, _ in phrases_in(alternatives)} == {"name", "body"}
    care_at_home = [leaf for query in alternatives for leaf in query.leaves()
                    if isinstance(leaf, Phrase) and leaf.words == ["care", "home"]]
    assert {leaf.offsets for leaf in care_at_home} == {(0, 2)}  # "at" keeps its place
    assert alternatives == unit_alternatives(unit)


def test_loose_matching_for_ranking_never_uses_concepts():
    for text in ("home care", "respite", "meals on wheels", "short breaks"):
        (unit,) = units_of(text)
        assert unit_alternatives(unit, loose=True, concepts=True) == unit_alternatives(unit, loose=True), text
        assert concept_terms_in(unit_alternatives(unit, loose=True, concepts=True)) == []


def test_a_quoted_phrase_the_vocabulary_does_not_group_stays_a_phrase():
    (unit,) = units_of('"home care"')
    alternatives = unit_alternatives(unit, concepts=True)

    assert concept_terms_in(alternatives) == []
    assert {words for _, words in phrases_in(alternatives)} == {("home", "care")}


def test_a_synonym_asked_for_together_is_the_concept_alone():
    # How the ranking's phrase tier asks for a recognised synonym's phrases written together.
    (unit,) = units_of("meals on wheels")
    together = dataclasses.replace(unit, quoted=True)
    alternatives = unit_alternatives(together, concepts=True)

    assert concept_terms_in(alternatives) == [MEALS_ON_WHEELS]
    assert phrases_in(alternatives) == set()
    assert not any(isinstance(query, q.And) for query in alternatives)  # no loose words
    assert phrases_in(unit_alternatives(together)) >= {("body", ("meal", "wheel"))}


def test_words_that_are_not_synonyms_are_unchanged_by_concepts():
    for text in ("lunch club", '"lunch club"', "garden", "Aldermoor"):
        for unit in units_of(text):
            assert unit_alternatives(unit, concepts=True) == unit_alternatives(unit), text


def test_misspelt_words_keep_their_similar_words_with_concepts():
    (unit,) = units_of("councelling")
    misspelt = {"councelling": ["counselling"]}

    assert unit_alternatives(unit, misspelt=misspelt, concepts=True) == unit_alternatives(unit, misspelt=misspelt)
    assert ("body", "counsel") in set().union(*(terms_in(query) for query in
                                                unit_alternatives(unit, misspelt=misspelt)))


def test_a_care_phrase_in_a_listings_name_does_not_lower_its_rank_for_other_words(tmp_path):
    # Two listings alike but for one word of the name, which is not searched for: they score the same, as
    # before concepts were indexed. A concept is not a word of the listing, so it must not make its name longer.
    index = FileStorage(str(tmp_path)).create_index(build_schema())
    writer = store.writer(index)
    writer.add_document(id="phrase", name="Hilltop domiciliary care", body="Visits every day in Aldermoor")
    writer.add_document(id="plain", name="Hilltop domiciliary visits", body="Visits every day in Aldermoor")
    writer.commit()

    with index.searcher() as searcher:
        scores = {hit["id"]: hit.score for hit in searcher.search(concept_query("hilltop"))}
        lengths = {searcher.stored_fields(docnum)["id"]: searcher.reader().doc_field_length(docnum, "name")
                   for docnum in range(2)}
    assert lengths == {"phrase": 3, "plain": 3}
    assert math.isclose(scores["phrase"], scores["plain"])
