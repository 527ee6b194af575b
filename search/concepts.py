"""The care vocabulary's phrases found in a listing while it is indexed, so a search need not look for them.

A search for "home care" also finds "domiciliary care", "home help" and "care at home" written together
(search.query: a synonym's other phrases match as phrases). Matching a phrase means reading the positions of
its words in every document holding all of them: at 50,000 listings "care at home" alone is some 15,000
candidates, the slowest part of the first search for it. Which of the vocabulary's phrases a listing holds is
known while its words are analysed for the index, so ``ConceptFilter`` (the last step of the name and body
analyzer) adds one term per vocabulary group one of whose phrases of two or more indexed words the field
holds together; a search then reads one short posting list per synonym (search.query.concept_term).

The terms mean exactly what the phrase queries mean (the same analysis, words at the same offsets within one
field) and only for the vocabulary they were found with: the index's metadata records the vocabulary's key and
a search uses the terms only while it is the vocabulary in use (search.searcher); otherwise it matches the
phrases as before, and the next ``flask search sync`` rebuilds the index (search.store.check_vocabulary).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping

from whoosh.analysis import Filter

from search.analysis import Synonyms, care_synonyms
from search.query import concept_term, stem_positions

Phrase = tuple[tuple[str, int], ...]  # (stem, offset from the first word), as search.query.Phrase matches


def vocabulary_key(synonyms: Synonyms | None = None) -> str:
    """Names the vocabulary an index's concepts were found with: its groups as the search reads them."""
    synonyms = synonyms if synonyms is not None else care_synonyms()
    return hashlib.sha256(repr(synonyms.groups).encode("utf-8")).hexdigest()[:16]


@functools.cache
def _phrases() -> dict[str, tuple[tuple[str, Phrase], ...]]:
    """(concept term, phrase) for each phrase of two or more indexed words in the care vocabulary, by the stem
    of its first word."""
    found: dict[str, list[tuple[str, Phrase]]] = {}
    for number, group in enumerate(care_synonyms().groups):
        for words in group:
            positioned = stem_positions(words)
            if len(positioned) > 1:
                first = positioned[0][1]
                phrase = tuple((stem, position - first) for stem, position in positioned)
                found.setdefault(phrase[0][0], []).append((concept_term(number), phrase))
    return {stem: tuple(phrases) for stem, phrases in found.items()}


def _found(positions: Mapping[str, set[int]]) -> Iterable[tuple[str, int]]:
    """(concept term, the first word's position) for each vocabulary group a phrase of which is at
    ``positions`` (stem -> its positions in one field), once per group."""
    phrases = _phrases()
    found: dict[str, int] = {}
    for first in phrases.keys() & positions.keys():
        for concept, phrase in phrases[first]:
            if any(stem not in positions for stem, _ in phrase):
                continue
            starts = positions[first]
            for stem, offset in phrase[1:]:
                starts = {start for start in starts if start + offset in positions[stem]}
                if not starts:
                    break
            if starts:
                found[concept] = min(found.get(concept, min(starts)), min(starts))
    return sorted(found.items())


def concepts_of(text: str) -> list[str]:
    """The concept terms ConceptFilter adds to a field holding ``text``."""
    positions: dict[str, set[int]] = {}
    for stem, position in stem_positions((text,)):
        positions.setdefault(stem, set()).add(position)
    return sorted(concept for concept, _ in _found(positions))


class ConceptFilter(Filter):
    """Passes every token on, then adds a token for each care vocabulary group one of whose phrases the
    stream held (at the phrase's first word). Only when positions are asked for (indexing the text fields);
    the vocabulary is read when filtering, never stored with the index's schema."""

    def __eq__(self, other) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, tokens):
        positions: dict[str, set[int]] = {}
        last = None
        for token in tokens:
            if token.positions:
                positions.setdefault(token.text, set()).add(token.pos)
            last = token
            yield token
        if last is None or not positions:
            return
        for concept, position in _found(positions):
            # Whoosh's tokenizer hands one token object along, each consumer reading it before the next.
            last.text, last.pos, last.boost, last.stopped = concept, position, 1.0, False
            yield last
