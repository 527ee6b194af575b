"""The fast paths of the query engine (postings read a block at a time, set algebra, scoring only the allowed
documents) give exactly what Whoosh's own matching gives, across segments and deletions."""

from whoosh import query as q
from whoosh.filedb.filestore import FileStorage

from search import store
from search.facets import GROUP_BY_NAME, DocSets, query_docs, term_docs
from search.schema import build_schema

WORDS = ("care", "home", "respite", "carers", "garden", "club", "dementia", "advice")


def _document(number: int) -> dict:
    words = [WORDS[(number * step) % len(WORDS)] for step in (1, 3, 5) if number % (step + 1)]
    return {"id": str(number), "name": f"Service {number} {WORDS[number % len(WORDS)]}",
            "body": " ".join(words * (1 + number % 3)), "ages": "0-4" if number % 2 else "65-plus",
            "is_free": number % 3 == 0}


def _index(tmp_path):
    """Three segments (three commits, no merging), with deletions in the first two."""
    index = FileStorage(str(tmp_path)).create_index(build_schema())
    for start in (0, 400, 700):
        writer = store.writer(index)
        for number in range(start, start + 300):
            writer.add_document(**_document(number))
        writer.commit(merge=False)
    writer = store.writer(index)
    for number in (5, 17, 250, 401, 402, 650):
        writer.delete_by_term("id", str(number))
    writer.commit(merge=False)
    return index


def test_filter_and_word_sets_match_whoosh_across_segments_and_deletions(tmp_path):
    with _index(tmp_path).searcher() as searcher:
        reader = searcher.reader()
        assert len(list(reader.leaf_readers())) == 3
        for fieldname, text in [("body", "care"), ("body", "dementia"), ("name", "home"), ("ages", "0-4"),
                                ("is_free", True), ("is_free", False), ("body", "absent")]:
            expected = frozenset(searcher.docs_for_query(q.Term(fieldname, text)))
            assert term_docs(reader, fieldname, text) == expected
        words = q.And([q.Or([q.Term("name", "home"), q.Term("body", "home")]),
                       q.Or([q.Term("body", "care"), q.Phrase("body", ["respit", "carer"])])])
        assert query_docs(searcher, reader, words) == frozenset(searcher.docs_for_query(words))
        every_age = DocSets(searcher).group(GROUP_BY_NAME["age"], ["0-4", "65-plus"])
        assert every_age == frozenset(reader.all_doc_ids())


def test_the_best_results_are_the_best_scored_of_everything_allowed(tmp_path):
    from search.service_search import SearchRequest, _Search

    with _index(tmp_path).searcher() as searcher:
        search = _Search(searcher, DocSets(searcher), SearchRequest(text="home care"))
        ranking = q.Or([q.Term("body", "home"), q.Term("body", "care"), q.Term("name", "home")])
        allowed = frozenset(docnum for docnum in searcher.docs_for_query(ranking) if docnum % 2)
        everything = sorted(((hit.docnum, hit.score) for hit in searcher.search(ranking, filter=set(allowed),
                                                                               limit=None)),
                            key=lambda hit: (-hit[1], hit[0]))
        assert search._ranked(ranking, allowed, 20) == everything[:20]


def _every_way_of_matching(searcher, docsets: DocSets) -> dict:
    """What the page asks the cached sets, beside what Whoosh's own matching gives."""
    phrase = q.Or([q.Phrase("body", ["respit", "carer"]), q.Term("name", "garden")])
    found = {
        "every": (docsets.every(), frozenset(searcher.reader().all_doc_ids())),
        "phrase": (docsets.query(phrase), frozenset(searcher.docs_for_query(phrase))),
        "ages": (docsets.values("ages"), tuple(t.decode() for t in searcher.reader().lexicon("ages"))),
    }
    for fieldname, text in [("body", "care"), ("ages", "0-4"), ("ages", "65-plus"), ("is_free", True)]:
        found[fieldname, text] = (docsets.term(fieldname, text),
                                  frozenset(searcher.docs_for_query(q.Term(fieldname, text))))
    return found


def test_filters_stay_right_when_the_searcher_reuses_segments_after_changes_and_merges(tmp_path):
    from search.searcher import _reopened

    index = _index(tmp_path)
    searcher = index.searcher()
    docsets = DocSets(searcher)
    _every_way_of_matching(searcher, docsets)  # fill the per-segment caches
    for round_number in range(12):  # one-listing syncs: a new small segment and a deletion each
        writer = store.writer(index)
        number = (round_number * 37) % 1000
        writer.update_document(**_document(number) | {"body": "respite carers garden", "ages": "0-4"})
        writer.delete_by_term("id", str(1 + round_number * 53 % 900))
        writer.commit(merge=round_number % 5 == 4)  # now and then a merge replaces small segments
        old_readers = [reader for reader, _ in searcher.reader().leaf_readers()]
        searcher = _reopened(index, searcher)
        docsets = DocSets(searcher, previous=docsets)
        assert searcher.up_to_date()
        # The big segments were not opened again.
        assert any(reader._terms is old._terms for reader, _ in searcher.reader().leaf_readers()
                   for old in old_readers)
        for what, (cached, whoosh) in _every_way_of_matching(searcher, docsets).items():
            assert cached == whoosh, (round_number, what)
        ids = [searcher.stored_fields(docnum)["id"] for docnum in searcher.reader().all_doc_ids()]
        assert len(ids) == len(set(ids))  # a listing re-indexed is found once
        with index.searcher() as fresh:
            assert _every_way_of_matching(fresh, DocSets(fresh)) == _every_way_of_matching(searcher, docsets)


def test_several_word_rankings_score_every_allowed_document_as_whoosh_does(tmp_path):
    from search.scoring import scores_for

    with _index(tmp_path).searcher() as searcher:
        docsets = DocSets(searcher)
        queries = [
            q.And([q.Or([q.Term("name", "home"), q.Term("body", "home")]),
                   q.Or([q.Term("body", "advic"), q.And([q.Term("body", "respit"), q.Term("body", "carer")])])]),
            q.Or([q.Term("body", "garden"), q.Term("body", "club"), q.Term("name", "dementia")]),
            q.And([q.Term("body", "advic"), q.Term("body", "home")]),
        ]
        for query in queries:
            matching = frozenset(searcher.docs_for_query(query))
            allowed = frozenset(docnum for docnum in matching if docnum % 3)
            expected = {hit.docnum: hit.score for hit in searcher.search(query, filter=set(allowed), limit=None)}
            assert expected
            found = scores_for(searcher, query, allowed, docsets.field_lengths)
            assert found.keys() == expected.keys()
            assert all(abs(found[docnum] - score) < 1e-9 for docnum, score in expected.items())
        assert scores_for(searcher, q.FuzzyTerm("body", "gardne"), allowed) is None  # Whoosh scores those
