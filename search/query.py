"""Whoosh queries built from units of what a person typed (search.analysis), never from QueryParser:
nothing a person types can be query syntax, so nothing they type can raise.

- ``all_words``: every unit must match (AND); a unit the care vocabulary knows matches any of its phrases.
- ``with_fuzzy``: the same, a misspelt word also matching index words a typo or two away.
- ``unit_queries``: one query per unit, for "matches most of your words".
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence

from whoosh import query as q

from search.analysis import Unit, Words
from search.codec import UNCOUNTED_PREFIX
from search.schema import text_analyzer

TEXT_FIELDS = ("name", "body")


def concept_term(group: int) -> str:
    """The term search.concepts.ConceptFilter indexes where a phrase of the care vocabulary's group ``group``
    is written: "~" is never in a word, so no typed word is one, and such terms do not count towards the field's
    length (search.codec.UNCOUNTED_PREFIX)."""
    return f"{UNCOUNTED_PREFIX}{group}"


@functools.cache
def _analyzer():
    return text_analyzer()


def stems(words: Words) -> list[str]:
    """The words as the index's text fields hold them (stemmed, folded, stop words dropped)."""
    return [text for text, _ in stem_positions(words)]


def stem_positions(words: Words) -> list[tuple[str, int]]:
    """(stem, position) of each indexed word: a dropped stop word leaves a gap, as it does in the index."""
    return [(token.text, token.pos) for token in _analyzer()(" ".join(words), positions=True)]


class Phrase(q.Phrase):
    """Words at fixed distances from the first one: the index keeps stop words' positions, so "meals on
    wheels" is "meal" then "wheel" two places on, and "care home" never matches "care at home". Documents are
    found by search.facets.phrase_docs; Whoosh's own phrase matcher only sees ``slop`` (the widest gap)."""

    def __init__(self, fieldname: str, words: Sequence[str], offsets: Sequence[int]) -> None:
        gaps = [after - before for before, after in itertools.pairwise(offsets)]
        super().__init__(fieldname, list(words), slop=max(gaps, default=1))
        self.offsets = tuple(offsets)

    def __eq__(self, other) -> bool:
        return super().__eq__(other) and getattr(other, "offsets", None) == self.offsets

    def __hash__(self) -> int:
        return hash((self.fieldname, tuple(self.words), self.offsets, self.boost))

    def __repr__(self) -> str:
        return f"Phrase({self.fieldname!r}, {self.words!r}, offsets={self.offsets!r})"


def _on_text_fields(build) -> q.Query:
    return q.Or([build(fieldname) for fieldname in TEXT_FIELDS])


def _phrase_query(positioned: Sequence[tuple[str, int]], *, together: bool) -> q.Query:
    terms = [text for text, _ in positioned]
    if len(terms) == 1:
        return _on_text_fields(lambda f: q.Term(f, terms[0]))
    if together:
        offsets = [position - positioned[0][1] for _, position in positioned]
        return _on_text_fields(lambda f: Phrase(f, terms, offsets))
    # Words typed without quotes need not be side by side: each on any text field.
    return q.And([_on_text_fields(lambda f, t=term: q.Term(f, t)) for term in terms])


def unit_alternatives(unit: Unit, *, misspelt: Mapping[str, Sequence[str]] | None = None,
                      loose: bool = False, concepts: bool = False) -> list[q.Query]:
    """Each way one unit can match (a result matches the unit when it matches any); empty when the unit has
    no searchable words. A word in ``misspelt`` also matches index words within a small edit distance, and
    the similar words given for it (the spelling corrector's suggestions, compared unstemmed, where stemming
    hides a typo's distance). ``loose`` turns phrases into their words: for ranking documents already known
    to match, as Whoosh's phrase matching is its slowest query. ``concepts``: the index holds this
    vocabulary's concept terms (search.concepts), so a synonym's phrases of several words, which match
    together, are its one concept term instead."""
    alternatives: list[q.Query] = []
    seen: set[tuple[tuple, bool]] = set()
    concept: q.Query | None = None
    for number, phrase in enumerate(unit.alternatives or (unit.words,)):
        positioned = stem_positions(phrase)
        first = positioned[0][1] if positioned else 0
        terms = tuple((text, position - first) for text, position in positioned)
        # The phrase as typed, unquoted, matches its words anywhere; a synonym's other phrases match together.
        together = len(terms) > 1 and (unit.quoted or number > 0) and not loose
        key = (terms if together else tuple(text for text, _ in terms), together)
        if not terms or key in seen:
            continue  # "carers" and "carer" stem alike: one query is enough
        seen.add(key)
        if together and concepts and unit.group is not None:
            if concept is None:
                concept = _on_text_fields(lambda f: q.Term(f, concept_term(unit.group)))
                alternatives.append(concept)
            continue
        alternatives.append(_phrase_query(terms, together=together))
    if misspelt and not unit.quoted:
        for word in unit.words:
            if word in misspelt:
                alternatives.extend(_similar(word, misspelt[word]))
    return alternatives


def unit_query(unit: Unit, *, misspelt: Mapping[str, Sequence[str]] | None = None,
               loose: bool = False) -> q.Query | None:
    """What one unit matches (see unit_alternatives); None when it has no searchable words."""
    alternatives = unit_alternatives(unit, misspelt=misspelt, loose=loose)
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else q.Or(alternatives)


def _similar(word: str, suggestions: Sequence[str]) -> list[q.Query]:
    queries: list[q.Query] = []
    terms = stems((word,))
    if terms:
        # One typo in a short word, two in a long one; the first letter is rarely the wrong one (and keeping
        # it keeps the term scan small).
        distance = 1 if len(word) <= 5 else 2
        queries.append(_on_text_fields(lambda f: q.FuzzyTerm(f, terms[0], maxdist=distance, prefixlength=1)))
    for suggestion in suggestions:
        suggested = stems((suggestion,))
        if suggested and suggested != terms:
            queries.append(_on_text_fields(lambda f, t=suggested[0]: q.Term(f, t)))
    return queries


def unit_queries(units: Sequence[Unit], *, misspelt: Mapping[str, Sequence[str]] | None = None,
                 loose: bool = False) -> list[q.Query]:
    queries = (unit_query(unit, misspelt=misspelt, loose=loose) for unit in units)
    return [query for query in queries if query is not None]


def all_words(units: Sequence[Unit], *, misspelt: Mapping[str, Sequence[str]] | None = None,
              loose: bool = False) -> q.Query | None:
    """Every unit must match; None when nothing typed is searchable (list everything then)."""
    queries = unit_queries(units, misspelt=misspelt, loose=loose)
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else q.And(queries)


def any_words(units: Sequence[Unit], *, misspelt: Mapping[str, Sequence[str]] | None = None,
              loose: bool = False) -> q.Query | None:
    """Any unit may match; more matching units score higher."""
    queries = unit_queries(units, misspelt=misspelt, loose=loose)
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else q.Or(queries)


def filter_query(fieldname: str, values: Iterable[str]) -> q.Query:
    """Any of ``values`` in a keyword field (OR within one filter; filters combine with AND)."""
    terms = [q.Term(fieldname, value) for value in values]
    return terms[0] if len(terms) == 1 else q.Or(terms)
