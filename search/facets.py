"""Filters and their counts from sets of document numbers cached per index segment.

Building a filter's document set from the postings on every query is what makes naive Whoosh facets slow
(NOTES.md); the set of documents holding a filter term only changes when its segment does, so sets are cached
per segment and carried from one searcher to the next (a sync adds a small segment and deletions: only the
new segment is read), and a search is then set intersections.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from whoosh import columns
from whoosh import query as q
from whoosh.codec import whoosh3
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from search import geo
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
MAX_MEMO_TERMS = 64


def _raw_postings(reader, fieldname: str, text):
    """A term's postings in one segment, deleted documents included (Whoosh filters them out one by one)."""
    matcher = reader.postings(fieldname, text)
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def _leaf_term_ids(reader, fieldname: str, text, *, live: bool = True) -> list[int]:
    """Document numbers (within one segment) holding a term, read a postings block at a time: iterating a
    Whoosh matcher costs several Python calls per document, a block is one list. ``live=False``: deleted
    documents included (the caller masks them)."""
    if (fieldname, text) not in reader:
        return []
    matcher = _raw_postings(reader, fieldname, text)
    deleted = reader.deleted_docs_set if live and reader.has_deletions() else None
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


def _leaf_phrase_ids(leaf, phrase: q.Phrase, *, live: bool = True, memo: dict | None = None) -> list[int]:
    """Local numbers of one segment's documents holding the phrase. The words' document sets are intersected
    first, from postings blocks; positions are read only for the documents holding every word."""
    offsets = _phrase_offsets(phrase)
    id_lists = [_memo_term_ids(leaf, phrase.fieldname, word, live, memo) for word in phrase.words]
    if not all(id_lists):
        return []
    candidates = sorted(intersect(*(frozenset(ids) for ids in id_lists)))
    if not candidates:
        return []
    found: list[int] = []
    wanted = frozenset(candidates)
    positions = [_block_positions(_raw_postings(leaf, phrase.fieldname, word), candidates, wanted)
                 for word in phrase.words]
    for docnum in candidates:
        starts: set[int] | None = None
        for by_doc, offset in zip(positions, offsets, strict=True):
            shifted = {position - offset for position in by_doc[docnum]}
            starts = shifted if starts is None else starts & shifted
            if not starts:
                break
        if starts:
            found.append(docnum)
    return found


def _block_positions(matcher, candidates: list[int], wanted: frozenset[int]) -> dict[int, list[int]]:
    """Each wanted document's positions of a term, read a postings block at a time; blocks holding none of
    the (sorted) candidates are passed over undecoded."""
    decode = matcher.format.decoder("positions")
    found: dict[int, list[int]] = {}
    if not all(hasattr(matcher, name) for name in ("_read_ids", "_read_values", "_next_block", "_atend", "_maxid")):
        for docnum in candidates:  # not Whoosh 3's codec: skip to each
            matcher.skip_to(docnum)
            found[docnum] = matcher.value_as("positions")
        return found
    last = -1  # the previous block's highest document number
    while not matcher._atend:
        highest = matcher._maxid
        if bisect.bisect_right(candidates, highest) > bisect.bisect_right(candidates, last):
            if matcher._ids is None:
                matcher._read_ids()
            hits = [(index, docnum) for index, docnum in enumerate(matcher._ids) if docnum in wanted]
            if hits:
                if matcher._values is None:
                    matcher._read_values()
                values = matcher._values
                for index, docnum in hits:
                    found[docnum] = decode(values[index])
        last = highest
        matcher._next_block()
    return found


def phrase_docs(reader, phrase: q.Phrase) -> DocSet:
    """Documents holding the phrase's words at its offsets (search.query.Phrase: gaps where stop words were)."""
    found: list[int] = []
    for leaf, base in reader.leaf_readers():
        found.extend(docnum + base for docnum in _leaf_phrase_ids(leaf, phrase))
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


class _SegmentSets:
    """What one segment contributes, kept while the segment exists (a sync adds a small segment and marks
    deletions; a merge replaces small ones): document sets as global numbers at ``offset`` *including* deleted
    documents (deletions are masked when a searcher's sets are assembled), its values per field, its places."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.sets: dict[object, DocSet] = {}
        self.values: dict[str, frozenset[bytes]] = {}
        self.coordinates: geo.Coordinates | None = None  # every document's places, see DocSets.coordinates
        self.lengths: dict[str, np.ndarray] = {}


@dataclass
class _Leaf:
    reader: object
    offset: int
    end: int
    cache: _SegmentSets
    deleted: DocSet  # global numbers of this segment's deleted documents


def _segment_key(reader) -> str | None:
    segment = reader.segment() if hasattr(reader, "segment") else None
    return segment.segment_id() if segment is not None else None


def _memo_term_ids(leaf, fieldname: str, word, live: bool, memo: dict | None) -> frozenset[int]:
    """A term's document numbers in one segment as a set, read once per ``memo`` (a synonym's phrases share
    words: "home care", "care at home", "domiciliary care")."""
    if memo is None:
        return frozenset(_leaf_term_ids(leaf, fieldname, word, live=live))
    key = (_segment_key(leaf), fieldname, word, live)
    found = memo.get(key)
    if found is None:
        found = frozenset(_leaf_term_ids(leaf, fieldname, word, live=live))
        if len(memo) >= MAX_MEMO_TERMS:
            memo.pop(next(iter(memo)), None)
        memo[key] = found
    return found


def _raw_query_ids(leaf_reader, query: q.Query, memo: dict | None = None) -> list[int] | frozenset[int] | None:
    """Local document numbers matching ``query`` in one segment, deleted documents included; None when the
    query is not made only of terms, phrases, And and Or."""
    if isinstance(query, q.Term):
        return _leaf_term_ids(leaf_reader, query.fieldname, query.text, live=False)
    if isinstance(query, q.Phrase) and query.words:
        return _leaf_phrase_ids(leaf_reader, query, live=False, memo=memo)
    if isinstance(query, (q.Or, q.And)) and query.subqueries:
        parts = []
        for sub in query.subqueries:
            ids = _raw_query_ids(leaf_reader, sub, memo)
            if ids is None:
                return None
            parts.append(frozenset(ids))
        if isinstance(query, q.Or):
            return frozenset().union(*parts)
        return intersect(*sorted(parts, key=len))
    return None


class DocSets:
    """Cached document sets for one searcher; safe to share between threads (a lost race only recomputes).

    Sets are cached per segment and handed on to the next searcher (``previous``): after a sync only the new
    small segment's postings are read, the unchanged segments' sets are reused and the segments' current
    deletions masked with set operations."""

    def __init__(self, searcher, previous: DocSets | None = None, *, concepts: bool = False) -> None:
        self.searcher = searcher
        self.concepts = concepts  # the index's concept terms answer for the care vocabulary in use
        self._sets: dict[tuple[str, object], DocSet] = {}
        self._values: dict[str, tuple[str, ...]] = {}
        self._every: DocSet | None = None
        self._services: DocSet | None = None
        self._arrays: dict[tuple[str, object], np.ndarray] = {}
        self._coordinates: geo.Coordinates | None = None
        self._phrases: dict[q.Query, DocSet] = {}
        # Recently read words' documents per segment, shared by the phrases being matched (a synonym's
        # phrases share words: "home care", "care at home", "domiciliary care").
        self._term_memo: dict[tuple, frozenset[int]] = {}
        self._lock = threading.Lock()
        inherited = previous._segments if previous is not None else {}
        self._segments: dict[str, _SegmentSets] = {}
        self._leaves: list[_Leaf] = []
        for leaf_reader, offset in searcher.reader().leaf_readers():
            key = _segment_key(leaf_reader)
            cache = inherited.get(key) if key is not None else None
            if cache is None or cache.offset != offset:
                cache = _SegmentSets(offset)
            if key is not None:
                self._segments[key] = cache
            deleted = (frozenset(docnum + offset for docnum in leaf_reader.deleted_docs_set)
                       if leaf_reader.has_deletions() else frozenset())
            self._leaves.append(_Leaf(leaf_reader, offset, offset + leaf_reader.doc_count_all(), cache, deleted))

    def _assembled(self, key: object, compute) -> DocSet:
        """The live documents for ``key`` across segments: each segment's cached set (``compute(reader)``
        gives its local numbers, deleted ones included) less that segment's deletions."""
        parts = []
        for leaf in self._leaves:
            found = leaf.cache.sets.get(key)
            if found is None:
                local = compute(leaf.reader)
                found = frozenset(local) if not leaf.offset else frozenset(n + leaf.offset for n in local)
                leaf.cache.sets[key] = found  # a dict store is atomic; a lost race only recomputes
            if found:
                parts.append(found - leaf.deleted if leaf.deleted else found)
        if not parts:
            return frozenset()
        return parts[0] if len(parts) == 1 else frozenset().union(*parts)

    def coordinates(self) -> geo.Coordinates:
        """Every document's places as arrays (search.geo.Coordinates), each segment's decoded once."""
        if self._coordinates is None:
            parts = []
            for leaf in self._leaves:
                cache = leaf.cache
                if cache.coordinates is None:
                    cache.coordinates = geo.Coordinates.of(
                        (decode_points(value) for value in leaf.reader.column_reader("points")),
                        leaf.end - leaf.offset, offset=leaf.offset)
                parts.append(cache.coordinates)
            self._coordinates = geo.Coordinates.joined(parts, self.size())
        return self._coordinates

    def field_lengths(self, reader, fieldname: str) -> np.ndarray | None:
        """Each document's length of a text field in one segment, as the scorer reads it (None as 0), read once
        per segment: the whole lengths column at once, or one by one for another codec."""
        key = _segment_key(reader)
        cache = self._segments.get(key) if key is not None else None
        if cache is None:
            return None
        found = cache.lengths.get(fieldname)
        if found is None:
            found = _column_lengths(reader, fieldname)
            if found is None:
                found = np.array([reader.doc_field_length(docnum, fieldname, 1) or 0
                                  for docnum in range(reader.doc_count_all())], dtype=np.float64)
            cache.lengths[fieldname] = found
        return found

    def every(self) -> DocSet:
        """Every document, of either kind."""
        if self._every is None:
            self._every = self._assembled(("", "every"), lambda reader: range(reader.doc_count_all()))
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
            found = self._assembled(key, lambda reader: _leaf_term_ids(reader, fieldname, value, live=False))
            with self._lock:
                self._sets[key] = found
        return found

    def query(self, query: q.Query) -> DocSet:
        """Documents matching ``query``; cached (per segment) when it holds a phrase (a synonym's, mostly: a
        small set that recurs), as phrase matching is the slowest. Words read their postings each time."""
        if not any(isinstance(leaf, q.Phrase) for leaf in query.leaves()):
            return query_docs(self.searcher, self.searcher.reader(), query)
        found = self._phrases.get(query)
        if found is None:
            if all(_segment_key(leaf.reader) is not None for leaf in self._leaves) and _cacheable(query):
                found = self._assembled(("query", query),
                                        lambda reader: _raw_query_ids(reader, query, self._term_memo))
            else:
                found = query_docs(self.searcher, self.searcher.reader(), query)
            with self._lock:
                if len(self._phrases) >= MAX_CACHED_PHRASES:
                    self._phrases.pop(next(iter(self._phrases)))
                self._phrases[query] = found
        return found

    def size(self) -> int:
        """Document numbers run from 0 to size - 1."""
        return self._leaves[-1].end if self._leaves else 0

    def mask(self, docs: DocSet) -> np.ndarray:
        """``docs`` as a boolean array over document numbers."""
        found = np.zeros(self.size(), dtype=bool)
        if docs:
            found[np.fromiter(docs, dtype=np.int64, count=len(docs))] = True
        return found

    def array(self, fieldname: str, value: object) -> np.ndarray:
        """A filter term's documents (DocSets.term) as an array of document numbers, for counting."""
        key = (fieldname, value)
        found = self._arrays.get(key)
        if found is None:
            docs = self.term(fieldname, value)
            found = self._arrays[key] = np.fromiter(docs, dtype=np.int64, count=len(docs))
        return found

    def values(self, fieldname: str) -> tuple[str, ...]:
        """Every value of a keyword field in this generation of the index (as its lexicon lists them: values of
        deleted documents stay until their segment is merged)."""
        found = self._values.get(fieldname)
        if found is None:
            every: set[bytes] = set()
            for leaf in self._leaves:
                segment_values = leaf.cache.values.get(fieldname)
                if segment_values is None:
                    segment_values = leaf.cache.values[fieldname] = frozenset(leaf.reader.lexicon(fieldname))
                every |= segment_values
            found = tuple(term.decode("utf-8") for term in sorted(every))
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


# Whoosh 3 stores a field's length per document as one byte (whoosh.util.numeric's length_to_byte); a zero
# byte reads back as None (whoosh3.W3PerDocReader.doc_field_length), here 0.
_LENGTH_OF_BYTE = np.array([0.0] + [byte_to_length(byte) for byte in range(1, 256)], dtype=np.float64)


def _column_lengths(reader, fieldname: str) -> np.ndarray | None:
    """A segment's lengths column for ``fieldname`` read as one run of bytes; None when the segment is not
    Whoosh 3's layout (the caller asks document by document)."""
    perdoc = getattr(reader, "_perdoc", None)
    if not isinstance(perdoc, whoosh3.W3PerDocReader):
        return None
    column = perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
    if column is None or not isinstance(column, columns.NumericColumn.Reader) or column._typecode != "B":
        return None
    doccount = reader.doc_count_all()
    stored = min(column._count, doccount)
    lengths = np.zeros(doccount, dtype=np.float64)
    if stored:
        lengths[:stored] = _LENGTH_OF_BYTE[np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)]
    return lengths


def _cacheable(query: q.Query) -> bool:
    if isinstance(query, q.Term) or (isinstance(query, q.Phrase) and query.words):
        return True
    if isinstance(query, (q.Or, q.And)) and query.subqueries:
        return all(_cacheable(sub) for sub in query.subqueries)
    return False


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
    every other filter (the other groups' choices, within its own group only itself). Counts are taken over
    masks (numpy): each option's documents looked up in its group's base, a couple of hundred options a search."""
    chosen = {name: docsets.group(GROUP_BY_NAME[name], values)
              for name, values in selected.items() if values and name in GROUP_BY_NAME}
    fixed = [restrict] if restrict is not None else []
    allowed = intersect(matched, *chosen.values(), *fixed)
    masks = {name: docsets.mask(docs) for name, docs in chosen.items()}
    common = docsets.mask(matched)
    for docs in fixed:
        common &= docsets.mask(docs)
    counts: dict[str, dict[str, int]] = {}
    for group in GROUPS:
        base = common
        for name, mask in masks.items():
            if name != group.name:
                base = base & mask
        if group.flag:
            counts[group.name] = {FLAG_VALUE: int(np.count_nonzero(base[docsets.array(group.field, True)]))}
        else:
            counts[group.name] = {value: int(np.count_nonzero(base[docsets.array(group.field, value)]))
                                  for value in docsets.values(group.field)}
    return Filtered(allowed=allowed, counts=counts)
