"""Whoosh queries built from units of what a person typed (search.analysis), never from QueryParser:
nothing a person types can be query syntax, so nothing they type can raise.

- ``all_words``: every unit must match (AND); a unit the care vocabulary knows matches any of its phrases.
- ``with_fuzzy``: the same, a misspelt word also matching index words a typo or two away.
- ``unit_queries``: one query per unit, for "matches most of your words".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

from whoosh import query as q

from search.analysis import Unit, Words
from search.schema import text_analyzer

TEXT_FIELDS = ("name", "body")


@functools.cache
def _analyzer():
    return text_analyzer()


def stems(words: Words) -> list[str]:
    """The words as the index's text fields hold them (stemmed, folded, stop words dropped)."""
    return [token.text for token in _analyzer()(" ".join(words))]


def _on_text_fields(build) -> q.Query:
    return q.Or([build(fieldname) for fieldname in TEXT_FIELDS])


def _phrase_query(terms: Sequence[str], *, together: bool) -> q.Query:
    if len(terms) == 1:
        return _on_text_fields(lambda f: q.Term(f, terms[0]))
    if together:
        return _on_text_fields(lambda f: q.Phrase(f, list(terms)))
    # Words typed without quotes need not be side by side: each on any text field.
    return q.And([_on_text_fields(lambda f, t=term: q.Term(f, t)) for term in terms])


def unit_alternatives(unit: Unit, *, misspelt: Mapping[str, Sequence[str]] | None = None,
                      loose: bool = False) -> list[q.Query]:
    """Each way one unit can match (a result matches the unit when it matches any); empty when the unit has
    no searchable words. A word in ``misspelt`` also matches index words within a small edit distance, and
    the similar words given for it (the spelling corrector's suggestions, compared unstemmed, where stemming
    hides a typo's distance). ``loose`` turns phrases into their words: for ranking documents already known
    to match, as Whoosh's phrase matching is its slowest query."""
    alternatives: list[q.Query] = []
    seen: set[tuple[tuple[str, ...], bool]] = set()
    for number, phrase in enumerate(unit.alternatives or (unit.words,)):
        terms = tuple(stems(phrase))
        # The phrase as typed, unquoted, matches its words anywhere; a synonym's other phrases match together.
        together = len(terms) > 1 and (unit.quoted or number > 0) and not loose
        if not terms or (terms, together) in seen:
            continue  # "carers" and "carer" stem alike: one query is enough
        seen.add((terms, together))
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
