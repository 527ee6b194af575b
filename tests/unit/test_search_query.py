"""Turning what a person types into a Whoosh query: words, phrases, care synonyms, and nothing that raises."""

from __future__ import annotations

from whoosh import query as q

from search.analysis import MAX_UNITS, Synonyms, care_synonyms, units_of
from search.geo import postcode_in_text
from search.query import all_words, any_words, stems, unit_query


def words(text: str) -> list[tuple[str, ...]]:
    return [unit.words for unit in units_of(text)]


def terms_of(query: q.Query) -> set[tuple[str, str]]:
    return {(fieldname, text) for fieldname, text in query.all_terms(phrases=True)}


def phrases_of(query: q.Query) -> set[tuple[str, ...]]:
    return {tuple(sub.words) for sub in query.leaves() if isinstance(sub, q.Phrase)}


def test_each_typed_word_must_match_on_the_name_or_the_description():
    query = all_words(units_of("lunch club"))

    assert isinstance(query, q.And)
    assert terms_of(query) == {("name", "lunch"), ("body", "lunch"), ("name", "club"), ("body", "club")}


def test_words_are_stemmed_like_the_listings():
    assert stems(("counselling",)) == ["counsel"]
    assert terms_of(all_words(units_of("Carers"))) >= {("body", "carer")}


def test_respite_also_means_short_breaks_as_a_phrase():
    query = all_words(units_of("respite"))

    assert ("short", "break") in phrases_of(query)
    assert ("body", "respit") in terms_of(query)


def test_a_several_word_synonym_is_recognised_in_what_was_typed():
    units = units_of("home care in Aylesbury")

    assert [unit.words for unit in units] == [("home", "care"), ("aylesbury",)]
    query = unit_query(units[0])
    assert {("domiciliari", "care"), ("home", "help")} <= phrases_of(query)
    # The words as typed still match apart, not only side by side.
    assert ("body", "home") in terms_of(query)


def test_abbreviations_people_use_find_the_words_providers_write():
    assert ("person", "assist") in phrases_of(all_words(units_of("PA")))
    assert ("learn", "disabl") in phrases_of(all_words(units_of("LD")))
    assert ("fund", "childcar") in phrases_of(all_words(units_of("30 hours")))
    assert ("body", "dementia") in terms_of(all_words(units_of("Alzheimer's")))


def test_synonyms_are_read_from_the_data_file():
    vocabulary = care_synonyms()

    assert vocabulary.alternatives(("meals", "on", "wheels"))
    assert vocabulary.alternatives(("tutor",)) is not None
    custom = Synonyms.parse("# comment\nbrew, cuppa, cup of tea\n\nlonely\n")
    assert custom.alternatives(("cuppa",)) == (("cuppa",), ("brew",), ("cup", "of", "tea"))
    assert custom.alternatives(("lonely",)) is None  # a group of one is no synonym


def test_a_quoted_phrase_must_match_its_words_together_and_is_not_expanded():
    units = units_of('"home care" Aylesbury')

    assert units[0].quoted and units[0].words == ("home", "care")
    assert phrases_of(unit_query(units[0])) == {("home", "care")}


def test_query_syntax_characters_and_boolean_words_are_plain_text():
    for text in ['title:"x', "a AND b", "NOT c", "c* ?d", "[1 TO 5]", "x^2 ~y", "(a OR b)", "\\ / : ! { }"]:
        query = all_words(units_of(text))
        if query is None:
            continue
        assert not any(isinstance(sub, (q.Wildcard, q.Prefix, q.TermRange, q.Not)) for sub in query.leaves()), text
    assert words("care AND support OR NOT respite") == [("care",), ("support",), ("respite",)]


def test_emoji_are_dropped_and_welsh_letters_are_folded():
    assert words("café 🙂👍🏽 gofal ŵyr") == [("cafe",), ("gofal",), ("wyr",)]
    assert all_words(units_of("🙂👍🏽")) is None  # nothing to search for: the page lists everything


def test_very_long_input_is_truncated_to_a_bounded_query():
    text = " ".join(f"word{n}" for n in range(2000))

    units = units_of(text)

    assert len(units) == MAX_UNITS
    assert len(all_words(units).subqueries) == MAX_UNITS
    assert words("x" * 10_000) == [("x" * 40,)]


def test_stop_words_alone_do_not_stop_a_search_matching():
    assert words("help for the carers") == [("help",), ("carers",)]
    assert all_words(units_of("the and of")) is None


def test_most_words_query_accepts_any_word():
    query = any_words(units_of("swimming adults tuesday"))

    assert isinstance(query, q.Or) and len(query.subqueries) == 3


def test_a_misspelt_word_also_matches_similar_index_words():
    units = units_of("bereavemnet")

    query = unit_query(units[0], misspelt={"bereavemnet": ["bereavement"]})

    assert any(isinstance(sub, q.FuzzyTerm) for sub in query.leaves())
    assert ("body", "bereav") in terms_of(query)


def test_apostrophes_and_dotted_abbreviations_are_one_way_of_writing_a_word():
    assert words("Alzheimer's") == words("Alzheimer\u2019s") == words("alzheimer") == [("alzheimer",)]
    assert words("P.A.") == words("PA")
    assert words("O.T.") == [("ot",)]
    assert ("occup", "therapi") in phrases_of(all_words(units_of("O.T.")))
    assert words("3.5 hours") == [("3.5",), ("hours",)]  # a number keeps its point


def test_a_phrase_keeps_the_gap_where_a_small_word_was():
    (phrase,) = [sub for sub in all_words(units_of('"care at home"')).leaves() if sub.fieldname == "body"]
    assert (tuple(phrase.words), phrase.offsets) == (("care", "home"), (0, 2))
    (together,) = [sub for sub in all_words(units_of('"care home"')).leaves() if sub.fieldname == "body"]
    assert together.offsets == (0, 1) and together != phrase


def test_plurals_of_a_care_phrase_are_the_same_phrase():
    assert ("residenti", "care") in phrases_of(all_words(units_of("care homes")))
    assert ("hear", "impair") in phrases_of(all_words(units_of("deaf")))


def test_a_postcode_among_the_words_is_the_place_and_the_rest_is_what_to_find():
    assert postcode_in_text("AM1 1EW") == ("AM1 1EW", "")
    assert postcode_in_text(" hp217jf ") == ("HP21 7JF", "")
    assert postcode_in_text("AM1") == ("AM1", "")
    assert postcode_in_text("dementia near HP21 7JF") == ("HP21 7JF", "dementia")
    assert postcode_in_text("day centre hp21, please") == ("HP21", "day centre please")
    for text in ("30 hours", "respite", "PA", "", "home care for 2 people"):
        assert postcode_in_text(text) is None, text
