"""Scores for a known set of documents, straight from the postings.

Ranking a several-word query's thousands of matches through Whoosh's matchers costs several Python calls per
document per query term (union and intersection matchers, skip_to, a scorer call each), and building the
matcher of a synonym-rich query reads every alternative's postings again. The documents to rank are already
known (set algebra found them), so each query term's postings are read a block at a time, scored only for
those documents with the searcher's own BM25F scorer (the same numbers Whoosh's matcher would give), and the
query's And/Or structure sums them as Whoosh's matchers do (an And: every part matches; an Or: the parts
that match). Queries of other kinds (fuzzy terms) return None: the caller lets Whoosh score them.
"""

from __future__ import annotations

import bisect

from whoosh import query as q
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer

Scores = dict[int, float]


def _supported(query: q.Query) -> bool:
    if type(query) is q.Term:
        return query.boost == 1.0
    if type(query) in (q.And, q.Or):
        return query.boost == 1.0 and bool(query.subqueries) and all(_supported(sub) for sub in query.subqueries)
    return False


def _block_scorer(scorer, length, local: frozenset[int], offset: int, scores: Scores):
    """A function scoring a block's (ids, weights) into ``scores`` for the wanted (``local``) documents."""
    if type(scorer) is BM25FScorer and isinstance(length, list):
        # BM25FScorer._score's arithmetic (whoosh.scoring.bm25), written out: three calls a document fewer.
        idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1

        def score_block(ids, weights) -> None:
            for docnum, tf in zip(ids, weights, strict=True):
                if docnum in local:
                    scores[docnum + offset] = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length[docnum]
                                                                                     / avgfl)))
    else:
        score = scorer._score
        if isinstance(length, list):
            length = length.__getitem__

        def score_block(ids, weights) -> None:
            for docnum, weight in zip(ids, weights, strict=True):
                if docnum in local:
                    scores[docnum + offset] = score(weight, length(docnum))

    return score_block


def _segment_scores(matcher, local: frozenset[int], offset: int, scorer, length, scores: Scores) -> None:
    """Scores of one segment's wanted documents from a term's postings, read a block at a time. ``length``:
    each document's field length (a list by local number), or a function giving it."""
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # deleted documents are never wanted
    if not all(hasattr(matcher, name) for name in ("_read_ids", "_read_weights", "_next_block", "_atend")):
        get_length = length.__getitem__ if isinstance(length, list) else length
        while matcher.is_active():  # not Whoosh 3's codec: one posting at a time
            if matcher.id() in local:
                scores[matcher.id() + offset] = scorer._score(matcher.weight(), get_length(matcher.id()))
            matcher.next()
        return
    score_block = _block_scorer(scorer, length, local, offset, scores)
    wanted = sorted(local)
    last = -1  # the previous block's highest document number
    while not matcher._atend:  # the whoosh3 codec's block reader (whoosh-reloaded is pinned and frozen)
        highest = matcher._maxid
        # A block none of whose documents are wanted is passed over without decoding it.
        if bisect.bisect_right(wanted, highest) > bisect.bisect_right(wanted, last):
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            score_block(matcher._ids, matcher._weights)
        last = highest
        matcher._next_block()


def _term_scores(weighting, fieldname: str, text, wanted: list[tuple[object, int, frozenset[int]]],
                 lengths=None) -> Scores:
    """Global document number -> score for the wanted documents holding the term, with the scorer Whoosh's
    term matcher uses in each segment."""
    scores: Scores = {}
    for subsearcher, offset, local in wanted:
        try:
            term = subsearcher.schema[fieldname].to_bytes(text)
        except ValueError:
            return scores
        reader = subsearcher.reader()
        if (fieldname, term) in reader:
            scorer = weighting.scorer(subsearcher, fieldname, term)
            known = lengths(reader, fieldname) if lengths is not None else None
            length = known if known is not None else scorer.dfl
            _segment_scores(reader.postings(fieldname, term), local, offset, scorer, length, scores)
    return scores


def _combine(query: q.Query, term_scores) -> Scores:
    """Document -> score for the documents matching ``query``: a term's own scores; an And's documents match
    every part and score their sum; an Or's match any part and score the sum of those that match."""
    if type(query) is q.Term:
        return term_scores(query.fieldname, query.text)
    parts = [_combine(sub, term_scores) for sub in query.subqueries]
    if type(query) is q.And:
        smallest = min(parts, key=len)
        common = [docnum for docnum in smallest if all(docnum in part for part in parts)]
        return {docnum: sum(part[docnum] for part in parts) for docnum in common}
    combined: Scores = {}
    for part in parts:
        for docnum, score in part.items():
            combined[docnum] = combined.get(docnum, 0.0) + score
    return combined


def scores_for(searcher, query: q.Query, allowed, lengths=None) -> Scores | None:
    """Each allowed document's score for ``query`` (those it matches), or None for a query of another kind.
    ``lengths(segment reader, field)``: the field's length in each of the segment's documents, when cached
    (search.facets.DocSets.field_lengths)."""
    if not _supported(query):
        return None
    schema = searcher.schema
    if not all(leaf.fieldname in schema and schema[leaf.fieldname].scorable for leaf in query.leaves()):
        return None
    weighting = searcher.weighting
    wanted = []
    ordered = sorted(allowed)
    position = 0
    for subsearcher, offset in searcher.leaf_searchers():
        end = offset + subsearcher.reader().doc_count_all()
        local = []
        while position < len(ordered) and ordered[position] < end:
            local.append(ordered[position] - offset)
            position += 1
        if local:
            wanted.append((subsearcher, offset, frozenset(local)))
    cache: dict[tuple[str, object], Scores] = {}

    def term_scores(fieldname: str, text) -> Scores:
        key = (fieldname, text)
        if key not in cache:
            cache[key] = _term_scores(weighting, fieldname, text, wanted, lengths)
        return cache[key]

    return _combine(query, term_scores)
