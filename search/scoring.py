"""Scores for a known set of documents, straight from the postings, as array arithmetic.

Ranking a several-word query's thousands of matches through Whoosh's matchers costs several Python calls per
document per query term (union and intersection matchers, skip_to, a scorer call each). The documents to rank
are already known (set algebra found them), so each segment's wanted documents become a mask, each query
term's postings are read a block at a time into arrays (search.codec's blocks are machine arrays already),
scored for the wanted documents with the searcher's own BM25F figures (idf, average field length, B, K1: the
same arithmetic as whoosh.scoring.bm25, in the same order, so the same numbers), and the query's And/Or
structure sums them as Whoosh's matchers do (an And: every part matches; an Or: the parts that match).
Queries of other kinds (fuzzy terms) or other scorers return None: the caller lets Whoosh score them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from whoosh import query as q
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer

from search import codec

Scores = dict[int, float]
# (each of a segment's documents matches?, its score) for one query part in one segment
Part = tuple[np.ndarray, np.ndarray]


def _supported(query: q.Query) -> bool:
    if type(query) is q.Term:
        return query.boost == 1.0
    if type(query) in (q.And, q.Or):
        return query.boost == 1.0 and bool(query.subqueries) and all(_supported(sub) for sub in query.subqueries)
    return False


def term_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """A term's postings in one segment as (local document numbers, weights as float64), deleted documents
    included."""
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if isinstance(matcher, codec.CareLeafMatcher):
        while not matcher._atend:
            block_ids, block_weights = matcher.block_arrays()
            ids.append(block_ids)
            weights.append(block_weights)
            matcher._next_block()
    else:  # another codec's segment: one posting at a time
        found: list[tuple[int, float]] = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight()))
            matcher.next()
        if found:
            ids.append(np.fromiter((docnum for docnum, _ in found), dtype=np.int64, count=len(found)))
            weights.append(np.fromiter((weight for _, weight in found), dtype=np.float64, count=len(found)))
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return np.concatenate(ids).astype(np.int64, copy=False), np.concatenate(weights).astype(np.float64, copy=False)


class _Segment:
    """One segment's share of a scoring: its wanted documents as a mask, and each term's part."""

    def __init__(self, subsearcher, offset: int, local: np.ndarray, lengths) -> None:
        self.searcher = subsearcher
        self.reader = subsearcher.reader()
        self.offset = offset
        self.size = self.reader.doc_count_all()
        self.wanted = np.zeros(self.size, dtype=bool)
        self.wanted[local] = True
        self.lengths = lengths
        self.nothing = (np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float64))

    def term(self, weighting, fieldname: str, text) -> Part | None:
        """The term's part (None: its scorer is not BM25F, so Whoosh must score the query)."""
        try:
            term = self.searcher.schema[fieldname].to_bytes(text)
        except ValueError:
            return self.nothing
        if (fieldname, term) not in self.reader:
            return self.nothing
        scorer = weighting.scorer(self.searcher, fieldname, term)
        if type(scorer) is not BM25FScorer:
            return None
        ids, tf = term_postings(self.reader.postings(fieldname, term))
        keep = self.wanted[ids]
        ids, tf = ids[keep], tf[keep]
        fl = self._lengths(fieldname, scorer)[ids]
        idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        present, scores = np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float64)
        present[ids] = True
        # whoosh.scoring.bm25, operation for operation
        scores[ids] = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
        return present, scores

    def _lengths(self, fieldname: str, scorer) -> np.ndarray:
        known = self.lengths(self.reader, fieldname) if self.lengths is not None else None
        if known is not None:
            return known
        return np.array([scorer.dfl(docnum) or 0 for docnum in range(self.size)], dtype=np.float64)


def _combine(query: q.Query, term: Callable[[str, object], Part | None]) -> Part | None:
    """A query's part: a term's own; an And's documents match every part and score their sum; an Or's match
    any part and score the sum of those that match (a part's score is 0.0 where it does not match)."""
    if type(query) is q.Term:
        return term(query.fieldname, query.text)
    parts = [_combine(sub, term) for sub in query.subqueries]
    if any(part is None for part in parts):
        return None
    present = parts[0][0].copy()
    scores = np.zeros_like(parts[0][1])
    for part_present, part_scores in parts:
        if type(query) is q.And:
            present &= part_present
        else:
            present |= part_present
        scores += part_scores
    if type(query) is q.And:
        scores[~present] = 0.0
    return present, scores


def _scored(searcher, query: q.Query, allowed, lengths=None) -> tuple[np.ndarray, np.ndarray] | None:
    """(global document numbers, scores) of the allowed documents ``query`` matches; None when Whoosh must
    score it."""
    if not _supported(query):
        return None
    schema = searcher.schema
    if not all(leaf.fieldname in schema and schema[leaf.fieldname].scorable for leaf in query.leaves()):
        return None
    weighting = searcher.weighting
    wanted = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
    wanted.sort()
    found_ids: list[np.ndarray] = []
    found_scores: list[np.ndarray] = []
    for subsearcher, offset in searcher.leaf_searchers():
        end = offset + subsearcher.reader().doc_count_all()
        start, stop = np.searchsorted(wanted, [offset, end])
        if start == stop:
            continue
        segment = _Segment(subsearcher, offset, wanted[start:stop] - offset, lengths)
        memo: dict[tuple[str, object], Part | None] = {}

        def term(fieldname: str, text, segment=segment, memo=memo) -> Part | None:
            key = (fieldname, text)
            if key not in memo:
                memo[key] = segment.term(weighting, fieldname, text)
            return memo[key]

        part = _combine(query, term)
        if part is None:
            return None
        present, scores = part
        local = np.flatnonzero(present & segment.wanted)
        found_ids.append(local + offset)
        found_scores.append(scores[local])
    if not found_ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return np.concatenate(found_ids), np.concatenate(found_scores)


def scores_for(searcher, query: q.Query, allowed, lengths=None) -> Scores | None:
    """Each allowed document's score for ``query`` (those it matches), or None for a query of another kind.
    ``lengths(segment reader, field)``: the field's length in each of the segment's documents as an array
    (search.facets.DocSets.field_lengths)."""
    found = _scored(searcher, query, allowed, lengths)
    if found is None:
        return None
    return dict(zip(found[0].tolist(), found[1].tolist(), strict=True))


def best_scored(searcher, query: q.Query, allowed, limit: int, lengths=None) -> list[tuple[int, float]] | None:
    """The best ``limit`` allowed documents for ``query`` as (document, score), best first and equal scores
    by document number (as Whoosh orders them); None for a query of another kind."""
    found = _scored(searcher, query, allowed, lengths)
    if found is None:
        return None
    ids, scores = found
    order = np.lexsort((ids, -scores))[:limit]
    return list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))
