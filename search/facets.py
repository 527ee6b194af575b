"""Filters and their counts from sets of document numbers cached per index generation.

Building a filter's document set from the postings on every query is what makes naive Whoosh facets slow
(NOTES.md); the set of documents holding a filter term only changes when the index does, so each searcher
(one per index generation) keeps its own cache, and a search is then set intersections.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from whoosh import query as q
from whoosh.matching.wrappers import FilterMatcher

from search.documents import decode_points
from search.schema import KIND_GUIDE

DocSet = frozenset[int]


@dataclass(frozen=True)
class FacetGroup:
    """A filter on the search page: its URL parameter and the index field it reads. A ``flag`` group is one
    checkbox over a BOOLEAN field; the others offer each value of a keyword field."""

    name: str
    field: str
    flag: bool = False


GROUPS: tuple[FacetGroup, ...] = (
    FacetGroup("category", "categories"),
    FacetGroup("need", "needs"),
    FacetGroup("age", "ages"),
    FacetGroup("locality", "localities"),
    FacetGroup("attending", "attending"),
    FacetGroup("day", "days"),
    FacetGroup("free", "is_free", flag=True),
    FacetGroup("dp", "dp_purchasable", flag=True),
    FacetGroup("local_offer", "local_offer", flag=True),
)
GROUP_BY_NAME = {group.name: group for group in GROUPS}
FLAG_VALUE = "yes"  # the value a flag's checkbox sends
MAX_CACHED_PHRASES = 512


def _leaf_term_ids(reader, fieldname: str, text) -> list[int]:
    """Document numbers (within one segment) holding a term, read a postings block at a time: iterating a
    Whoosh matcher costs several Python calls per document, a block is one list."""
    if (fieldname, text) not in reader:
        return []
    matcher = reader.postings(fieldname, text)
    deleted = None
    if isinstance(matcher, FilterMatcher):  # the segment has deletions: Whoosh filters them out one by one
        matcher, deleted = matcher.child, reader.deleted_docs_set
    if not all(hasattr(matcher, name) for name in ("_read_ids", "_next_block", "_atend", "_ids")):
        ids = list(matcher.all_ids())  # not Whoosh 3's codec: the slow, general way
    else:
        ids = []
        while not matcher._atend:  # the whoosh3 codec's block reader (whoosh-reloaded is pinned and frozen)
            if matcher._ids is None:
                matcher._read_ids()
            ids.extend(matcher._ids)
            matcher._next_block()
    return [docnum for docnum in ids if docnum not in deleted] if deleted else ids


def term_docs(reader, fieldname: str, text) -> DocSet:
    """Every (live) document holding a term, as global document numbers."""
    found: list[int] = []
    for leaf, offset in reader.leaf_readers():
        ids = _leaf_term_ids(leaf, fieldname, text)
        found.extend(ids if not offset else (docnum + offset for docnum in ids))
    return frozenset(found)


def _phrase_offsets(phrase: q.Phrase) -> tuple[int, ...]:
    return getattr(phrase, "offsets", None) or tuple(range(len(phrase.words)))


def phrase_docs(reader, phrase: q.Phrase) -> DocSet:
    """Documents holding the phrase's words at its offsets (search.query.Phrase: gaps where stop words were).
    The words' document sets are intersected first, from postings blocks; positions are read only for the
    documents holding every word."""
    offsets = _phrase_offsets(phrase)
    found: list[int] = []
    for leaf, base in reader.leaf_readers():
        id_lists = [_leaf_term_ids(leaf, phrase.fieldname, word) for word in phrase.words]
        if not all(id_lists):
            continue
        candidates = sorted(intersect(*(frozenset(ids) for ids in id_lists)))
        if not candidates:
            continue
        matchers = [leaf.postings(phrase.fieldname, word) for word in phrase.words]
        for docnum in candidates:
            starts: set[int] | None = None
            for matcher, offset in zip(matchers, offsets, strict=True):
                matcher.skip_to(docnum)
                shifted = {position - offset for position in matcher.value_as("positions")}
                starts = shifted if starts is None else starts & shifted
                if not starts:
                    break
            if starts:
                found.append(docnum + base)
    return frozenset(found)


def query_docs(searcher, reader, query: q.Query) -> DocSet:
    """Documents matching ``query``: terms from their postings, phrases by positions on the documents holding
    every word, set algebra for And/Or, Whoosh's own matching for anything else (fuzzy terms)."""
    if isinstance(query, q.Term):
        return term_docs(reader, query.fieldname, query.text)
    if isinstance(query, q.Phrase) and query.words:
        return phrase_docs(reader, query)
    if isinstance(query, q.Or) and query.subqueries:
        return frozenset().union(*(query_docs(searcher, reader, sub) for sub in query.subqueries))
    if isinstance(query, q.And) and query.subqueries:
        sets = sorted((query_docs(searcher, reader, sub) for sub in query.subqueries), key=len)
        return intersect(*sets)
    return frozenset(searcher.docs_for_query(query))


class DocSets:
    """Cached document sets for one searcher; safe to share between threads (a lost race only recomputes)."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self._sets: dict[tuple[str, object], DocSet] = {}
        self._values: dict[str, tuple[str, ...]] = {}
        self._every: DocSet | None = None
        self._services: DocSet | None = None
        self._phrases: dict[q.Query, DocSet] = {}
        self._points: dict[int, list[tuple[float, float]]] = {}
        self._points_column = None
        self._lock = threading.Lock()

    def points(self, docnum: int) -> list[tuple[float, float]]:
        """A document's places (latitude, longitude), decoded once per index generation."""
        found = self._points.get(docnum)
        if found is None:
            if self._points_column is None:
                self._points_column = self.searcher.reader().column_reader("points")
            found = self._points[docnum] = decode_points(self._points_column[docnum])
        return found

    def every(self) -> DocSet:
        """Every document, of either kind."""
        if self._every is None:
            self._every = frozenset(self.searcher.reader().all_doc_ids())
        return self._every

    def guides(self) -> DocSet:
        return self.term("kind", KIND_GUIDE)

    def services(self) -> DocSet:
        """Every service (every document but the few guides)."""
        if self._services is None:
            guides = self.guides()
            self._services = self.every() - guides if guides else self.every()
        return self._services

    def term(self, fieldname: str, value: object) -> DocSet:
        key = (fieldname, value)
        found = self._sets.get(key)
        if found is None:
            found = term_docs(self.searcher.reader(), fieldname, value)
            with self._lock:
                self._sets[key] = found
        return found

    def query(self, query: q.Query) -> DocSet:
        """Documents matching ``query``; cached when it holds a phrase (a synonym's, mostly: a small set that
        recurs), as Whoosh's phrase matching is its slowest. Plain terms read their postings each time."""
        if not any(isinstance(leaf, q.Phrase) for leaf in query.leaves()):
            return query_docs(self.searcher, self.searcher.reader(), query)
        found = self._phrases.get(query)
        if found is None:
            found = query_docs(self.searcher, self.searcher.reader(), query)
            with self._lock:
                if len(self._phrases) >= MAX_CACHED_PHRASES:
                    self._phrases.pop(next(iter(self._phrases)))
                self._phrases[query] = found
        return found

    def values(self, fieldname: str) -> tuple[str, ...]:
        """Every value of a keyword field in this generation of the index."""
        found = self._values.get(fieldname)
        if found is None:
            found = tuple(term.decode("utf-8") for term in self.searcher.reader().lexicon(fieldname))
            self._values[fieldname] = found
        return found

    def group(self, group: FacetGroup, values: Iterable[str]) -> DocSet:
        """Documents with any of ``values`` (OR within one filter)."""
        if group.flag:
            return self.term(group.field, True)
        sets = [self.term(group.field, value) for value in values]
        if not sets:
            return frozenset()
        return sets[0] if len(sets) == 1 else frozenset().union(*sets)


def intersect(first: DocSet, *others: DocSet) -> DocSet:
    result = first
    for other in sorted(others, key=len):
        if not result:
            break
        result = result & other
    return result


@dataclass(frozen=True)
class Filtered:
    allowed: DocSet  # matched documents passing every filter
    counts: dict[str, dict[str, int]]  # group name -> value -> results if that value were (also) chosen


def apply_filters(docsets: DocSets, matched: DocSet, selected: Mapping[str, tuple[str, ...]],
                  restrict: DocSet | None = None) -> Filtered:
    """Filters combine with AND; each option's count is what the search would give with that option and
    every other filter (the other groups' choices, within its own group only itself)."""
    chosen = {name: docsets.group(GROUP_BY_NAME[name], values)
              for name, values in selected.items() if values and name in GROUP_BY_NAME}
    fixed = [restrict] if restrict is not None else []
    allowed = intersect(matched, *chosen.values(), *fixed)
    counts: dict[str, dict[str, int]] = {}
    for group in GROUPS:
        base = intersect(matched, *(s for name, s in chosen.items() if name != group.name), *fixed)
        if group.flag:
            counts[group.name] = {FLAG_VALUE: len(base & docsets.term(group.field, True))}
        else:
            counts[group.name] = {value: len(base & docsets.term(group.field, value))
                                  for value in docsets.values(group.field)}
    return Filtered(allowed=allowed, counts=counts)
