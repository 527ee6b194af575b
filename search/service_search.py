"""Searching the directory's services: what the search page asks the index.

The index supplies only ids in order, the total, each filter option's count, a spelling suggestion and
distances; the page loads the rows themselves from the database.

When every word matching finds nothing, a misspelt word also matches similar index words; when that finds
nothing either, services matching most of the words are shown, and the outcome says which happened.

The index also holds the council's guides. Services are searched, filtered and counted among services only;
the few guides matching the words are found beside them from the same searcher, for the page's Guides block.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import heapq
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import query as q

from search.analysis import Unit, units_of
from search.facets import DocSet, DocSets, apply_filters, intersect
from search.query import TEXT_FIELDS, all_words, any_words, unit_alternatives
from search.scoring import best_scored
from search.searcher import searching

# Text relevance is blended with distance for the best few hundred matches when a postcode is given.
RERANK_DEPTH = 200
# Up to this many allowed results are ranked by scoring each; above it Whoosh's top-N collector is cheaper.
SCORE_ALLOWED_UP_TO = 3000
SUGGESTIONS_PER_WORD = 3
DISTANCE_HALF_WEIGHT_MILES = 5.0  # a result this far away keeps half its text score


class Match(enum.Enum):
    ALL_WORDS = "all"  # every word matched (or there were no words)
    SIMILAR_WORDS = "similar"  # only with misspelt words matching similar ones
    SOME_WORDS = "some"  # most of the words matched, not all
    NOTHING = "nothing"


class Sort(enum.Enum):
    RELEVANCE = "relevance"
    DISTANCE = "distance"
    UPDATED = "updated"


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_miles: float | None = None


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    near: Near | None = None
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    per_page: int = 20
    guides: int = 0  # also find up to this many council guides matching the words (never filtered or counted)


@dataclass(frozen=True)
class SearchOutcome:
    ids: list[uuid.UUID]  # the page's services, in order
    total: int
    counts: dict[str, dict[str, int]]
    match: Match
    suggestion: str | None  # the text with misspelt words corrected, when the index knows better words
    distances: dict[uuid.UUID, float]  # miles from the place asked about, for services on the page with places
    highlight_terms: frozenset[str]  # the indexed (stemmed) words that matched, for snippets
    guide_ids: list[uuid.UUID] = field(default_factory=list)  # published guides matching the words, best first


def search_services(root: Path, request: SearchRequest) -> SearchOutcome:
    """Raises store.IndexUnavailable when there is no usable index (the page then searches the database)."""
    with searching(root) as (searcher, docsets):
        return _Search(searcher, docsets, request).run()


class _Search:
    def __init__(self, searcher, docsets: DocSets, request: SearchRequest) -> None:
        self.searcher, self.docsets, self.request = searcher, docsets, request
        self.reader = searcher.reader()
        self.units = units_of(request.text)
        self._every_distance: np.ndarray | None = None

    # --- spelling ---------------------------------------------------------------------------------------

    def misspelt(self) -> dict[str, list[str]]:
        """Words the index has never seen, each with the index's closest words, best first (single words
        only: a quoted phrase or a known synonym is deliberate)."""
        corrector = self.searcher.corrector("spelling")
        words: dict[str, list[str]] = {}
        for unit in self.units:
            if unit.quoted or unit.is_synonym:
                continue
            for word in unit.words:
                # Never a number or a postcode's part ("am1", "1ew"): the index's nearest words are not meant.
                if len(word) >= 3 and not any(char.isdigit() for char in word) \
                        and ("spelling", word) not in self.reader:
                    words[word] = list(corrector.suggest(word, limit=SUGGESTIONS_PER_WORD, prefix=1))
        return words

    def suggestion(self, misspelt: Mapping[str, list[str]]) -> str | None:
        """The typed words with each misspelt one replaced by the index's closest word ("did you mean")."""
        corrected, changed = [], False
        for unit in self.units:
            for word in unit.words:
                if misspelt.get(word):
                    word, changed = misspelt[word][0], True
                corrected.append(word)
        return " ".join(corrected) if changed else None

    # --- matching ---------------------------------------------------------------------------------------

    def _unit_docs(self, unit: Unit, misspelt: Mapping[str, list[str]]) -> DocSet:
        alternatives = unit_alternatives(unit, misspelt=misspelt, concepts=self.docsets.concepts)
        sets = [self.docsets.query(alternative) for alternative in alternatives]
        return frozenset().union(*sets) if len(sets) > 1 else (sets[0] if sets else frozenset())

    def _matching(self, misspelt: Mapping[str, list[str]]) -> list[DocSet]:
        """The documents matching each searchable unit, from set algebra over (cached) alternatives."""
        return [self._unit_docs(unit, misspelt) for unit in self.units if unit_alternatives(unit)]

    @staticmethod
    def _most(unit_docs: list[DocSet]) -> DocSet:
        needed = max(1, math.ceil(len(unit_docs) / 2))
        hits: dict[int, int] = {}
        for docs in unit_docs:
            for docnum in docs:
                hits[docnum] = hits.get(docnum, 0) + 1
        return frozenset(docnum for docnum, count in hits.items() if count >= needed)

    @functools.cached_property
    def _exact(self) -> list[DocSet]:
        return self._matching({})

    def _services_only(self, docs: DocSet) -> DocSet:
        # isdisjoint walks the few guides, not the many matches: no copy unless a guide matched.
        guides = self.docsets.guides()
        return docs if guides.isdisjoint(docs) else docs - guides

    def _attempts(self, misspelt: Mapping[str, list[str]]):
        """(how it matched, a query to rank by, the services matching) in the order to try them. The ranking
        query is loose (phrases as words): the documents are already known to match exactly."""
        exact = self._exact
        if not exact:
            yield Match.ALL_WORDS, None, self.docsets.services()
            return
        yield Match.ALL_WORDS, all_words(self.units, loose=True), self._services_only(intersect(*exact))
        if misspelt:
            similar = self._matching(misspelt)
            yield (Match.SIMILAR_WORDS, all_words(self.units, misspelt=misspelt, loose=True),
                   self._services_only(intersect(*similar)))
        else:
            similar = exact
        if len(similar) > 1:
            yield (Match.SOME_WORDS, any_words(self.units, misspelt=misspelt, loose=True),
                   self._services_only(self._most(similar)))

    def guides(self, misspelt: Mapping[str, list[str]]) -> list[uuid.UUID]:
        """Up to ``request.guides`` guides holding every word (or, failing that, with misspelt words matching
        similar ones), best first; none without words."""
        everything = self.docsets.guides()
        if not self.request.guides or not everything or not self._exact:
            return []
        matched, query = intersect(*self._exact, everything), all_words(self.units, loose=True)
        if not matched and misspelt:
            matched = intersect(*self._matching(misspelt), everything)
            query = all_words(self.units, misspelt=misspelt, loose=True)
        if not matched:
            return []
        ranked = self._scored(query, matched, self.request.guides)
        return [uuid.UUID(self.searcher.stored_fields(docnum)["id"]) for docnum, _ in ranked]

    def run(self) -> SearchOutcome:
        restrict = self._within_radius()
        misspelt = self.misspelt()
        for match, query, matched in self._attempts(misspelt):
            filtered = apply_filters(self.docsets, matched, self.request.filters, restrict)
            if filtered.allowed:
                break
            if match is Match.ALL_WORDS:
                first = (query, filtered)
        else:
            match, (query, filtered) = Match.NOTHING, first
        ordered = self._order(query, filtered.allowed) if filtered.allowed else []
        return SearchOutcome(
            ids=[uuid.UUID(self.searcher.stored_fields(docnum)["id"]) for docnum in ordered],
            total=len(filtered.allowed),
            counts=filtered.counts,
            match=match,
            suggestion=self.suggestion(misspelt),
            distances=self._page_distances(ordered),
            highlight_terms=self._highlight_terms(query),
            guide_ids=self.guides(misspelt),
        )

    # --- place ------------------------------------------------------------------------------------------

    def _distance(self, docnum: int) -> float | None:
        """Miles from the place asked about to the document's nearest place (None: none, or no place asked)."""
        if self.request.near is None:
            return None
        miles = float(self._all_miles()[docnum])
        return None if math.isnan(miles) else miles

    def _remote(self) -> DocSet:
        return self.docsets.term("attending", "online") | self.docsets.term("attending", "phone")

    def _all_miles(self) -> np.ndarray:
        """Miles from the place asked about to every document's nearest place (NaN: none), once per search."""
        if self._every_distance is None:
            near = self.request.near
            self._every_distance = self.docsets.coordinates().miles_from(near.latitude, near.longitude)
        return self._every_distance

    def _within_radius(self) -> DocSet | None:
        """Services with a place within the radius, and every online or phone service wherever it is."""
        near = self.request.near
        if near is None or near.radius_miles is None:
            return None
        with np.errstate(invalid="ignore"):  # NaN (no place) is never within
            inside = self._all_miles() <= near.radius_miles
        return frozenset(np.flatnonzero(inside).tolist()) | self._remote()

    def _page_distances(self, ordered: list[int]) -> dict[uuid.UUID, float]:
        if self.request.near is None:
            return {}
        distances = {}
        for docnum in ordered:
            distance = self._distance(docnum)
            if distance is not None:
                distances[uuid.UUID(self.searcher.stored_fields(docnum)["id"])] = distance
        return distances

    # --- order ------------------------------------------------------------------------------------------

    def _order(self, query: q.Query | None, allowed: DocSet) -> list[int]:
        request = self.request
        start = (request.page - 1) * request.per_page
        end = start + request.per_page
        if request.sort is Sort.UPDATED:
            return self._sorted(query, allowed, "updated", end, reverse=True)[start:end]
        if request.near is not None and (request.sort is Sort.DISTANCE or query is None):
            return self._by_distance(allowed, end)[start:end]
        if query is None:
            return self._sorted(None, allowed, "sort_name", end)[start:end]
        if request.near is not None:
            return self._relevance_near(query, allowed, end)[start:end]
        return [docnum for docnum, _ in self._ranked(query, allowed, end)][start:end]

    def _sorted(self, query, allowed: DocSet, column: str, limit: int, reverse: bool = False) -> list[int]:
        results = self.searcher.search(query or q.Every(), filter=set(allowed), limit=limit, sortedby=column,
                                       reverse=reverse)
        return [hit.docnum for hit in results]

    def _by_distance(self, allowed: DocSet, end: int) -> list[int]:
        """Nearest first, equal distances by name; services without a place (online, phone) after, by name.
        The same as sorting everything by (no place, distance, name) and slicing, without sorting (or reading
        the names of) thousands."""
        names = self.reader.column_reader("sort_name")
        docs = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
        miles = self._all_miles()[docs]
        has_place = ~np.isnan(miles)
        placed, placed_miles = docs[has_place], miles[has_place]
        ordered: list[int] = []
        if len(placed):
            nearest = min(end, len(placed))
            cutoff = np.partition(placed_miles, nearest - 1)[nearest - 1]  # no nearer document is left out
            near = placed_miles <= cutoff
            candidates = zip(placed_miles[near].tolist(), placed[near].tolist(), strict=True)
            ordered = [docnum for _, docnum in sorted(candidates, key=lambda hit: (hit[0], names[hit[1]]))][:end]
        if len(ordered) < end:
            unplaced = docs[~has_place].tolist()
            ordered += heapq.nsmallest(end - len(ordered), unplaced, key=lambda docnum: names[docnum])
        return ordered

    def _relevance_near(self, query: q.Query, allowed: DocSet, end: int) -> list[int]:
        hits = self._ranked(query, allowed, max(end, RERANK_DEPTH))
        if not hits:
            return []
        top = max(score for _, score in hits) or 1.0

        def blended(hit) -> float:
            docnum, score = hit
            distance = self._distance(docnum)
            miles = DISTANCE_HALF_WEIGHT_MILES if distance is None else distance
            return (score / top) / (1 + miles / DISTANCE_HALF_WEIGHT_MILES)

        tier = self._phrase_tier or frozenset()
        return [docnum for docnum, _ in sorted(hits, key=lambda hit: (hit[0] in tier, blended(hit)), reverse=True)]

    @functools.cached_property
    def _phrase_tier(self) -> DocSet | None:
        """Documents holding, together, every several-word phrase the care vocabulary recognised in what was
        typed unquoted (or one of its other phrases): they rank above documents with the words apart, so
        "care home" lists care homes before "care at home" listings."""
        units = [unit for unit in self.units if unit.is_synonym and not unit.quoted and len(unit.words) > 1]
        if not units:
            return None
        return intersect(*(self._unit_docs(dataclasses.replace(unit, quoted=True), {}) for unit in units))

    def _ranked(self, query: q.Query, allowed: DocSet, limit: int) -> list[tuple[int, float]]:
        """The best ``limit`` of ``allowed``, best first: documents in the phrase tier before the others, each
        part by the query's score."""
        tier = self._phrase_tier
        if tier is None:
            return self._scored(query, allowed, limit)
        first = allowed & tier
        hits = self._scored(query, first, limit) if first else []
        rest = allowed - first
        if len(hits) < limit and rest:
            hits += self._scored(query, rest, limit - len(hits))
        return hits

    def _scored(self, query: q.Query, allowed: DocSet, limit: int) -> list[tuple[int, float]]:
        """The best ``limit`` of ``allowed`` by the query's score, best first, ties by document number (as
        Whoosh orders them). Terms, And and Or (every ranking query but fuzzy ones): scored from the postings
        for just the allowed documents (search.scoring). Otherwise few allowed documents: each reached by
        skipping the query's matcher to it; many: Whoosh's collector."""
        direct = best_scored(self.searcher, query, allowed, limit, self.docsets.field_lengths)
        if direct is not None:
            return direct
        if len(allowed) > SCORE_ALLOWED_UP_TO:
            results = self.searcher.search(query, filter=set(allowed), limit=limit)
            return [(hit.docnum, hit.score) for hit in results]
        scored: list[tuple[int, float]] = []
        context = self.searcher.context()  # scored with the searcher's weighting, as its search() would
        wanted = sorted(allowed)
        position = 0
        for subsearcher, offset in self.searcher.leaf_searchers():
            end = offset + subsearcher.reader().doc_count_all()
            matcher = None
            while position < len(wanted) and wanted[position] < end:
                docnum = wanted[position]
                position += 1
                if matcher is None:
                    matcher = query.matcher(subsearcher, context)
                if not matcher.is_active():
                    continue
                local = docnum - offset
                if matcher.id() < local:
                    matcher.skip_to(local)
                if matcher.is_active() and matcher.id() == local:
                    scored.append((docnum, matcher.score()))
        return heapq.nsmallest(limit, scored, key=lambda hit: (-hit[1], hit[0]))

    # --- snippets ---------------------------------------------------------------------------------------

    def _highlight_terms(self, query: q.Query | None) -> frozenset[str]:
        if query is None:
            return frozenset()
        terms = query.existing_terms(self.reader, phrases=True, expand=True)
        return frozenset(text.decode("utf-8") if isinstance(text, bytes) else text
                         for fieldname, text in terms if fieldname in TEXT_FIELDS)
