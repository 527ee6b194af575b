"""CareCodec and CompactPositions (search.codec) give back exactly what Whoosh 3's own codec and Positions
format give: the same postings, weights, positions, block statistics, skipping and search results, for a
directory that is written once, edited and merged. Two indexes of the same documents are compared: one
written the Whoosh way, one our way."""

from __future__ import annotations

from array import array

import pytest
from whoosh import fields, formats
from whoosh import query as q
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.filedb.filestore import FileStorage
from whoosh.matching import FilterMatcher

from search import store
from search.codec import CareCodec, CareLeafMatcher, CompactPositions
from search.schema import build_schema

WORDS = ("care", "home", "respite", "garden", "club", "advice", "dementia", "carers", "lunch", "walk")
FILLER = "zz"  # a stop word that keeps its place: gaps between the positions of the words around it
DOCUMENTS = 700  # "care" is in ~630 of them: five blocks of 128 postings and a shorter last one
FAR = 123  # the document whose "far" positions are 70,001 apart (an "I" array of deltas)
ECHOED = 200  # the document repeating "echo" 300 times (a positions value over 255 bytes long)
DELETED = frozenset(n for n in range(DOCUMENTS) if n % 37 == 0)
SEGMENTS = ((0, 250), (250, 500), (500, DOCUMENTS))


def _analyzer():
    return RegexTokenizer() | LowercaseFilter() | StopFilter(stoplist=frozenset({FILLER}), minsize=1,
                                                              renumber=False)


def _schema(positions: type[formats.Positions]) -> fields.Schema:
    """Text fields with positions in ``positions``' format (one boosted), frequencies alone (fixed-size values:
    a text field without phrases, and keywords, whose format is Frequency too) and ID fields (no values)."""
    body = fields.TEXT(analyzer=_analyzer(), phrase=True)
    body.format = positions(field_boost=1.0)
    title = fields.TEXT(analyzer=_analyzer(), phrase=True, field_boost=2.0)
    title.format = positions(field_boost=2.0)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        kind=fields.ID(),
        body=body,
        title=title,
        counts=fields.TEXT(analyzer=_analyzer(), phrase=False),
        tags=fields.KEYWORD(commas=True),
    )


def _body(number: int) -> str:
    words = []
    for step, word in enumerate(WORDS, start=1):
        if word == "care" and number % 10 == 0:
            continue
        if word != "care" and number % (step + 1):
            continue
        words += [word] * (1 + (number * step) % 4)  # a repeated word weighs more
    words.append("listing")  # once in every document: weight 1.0 throughout
    if number % 50 == 7:
        words += ["garden", *[FILLER] * 300, "garden", "path"]  # a gap over 255
    if number == FAR:
        words += ["far", *[FILLER] * 70_000, "far", "away"]  # a gap over 65,535
    if number == ECHOED:
        words += ["echo"] * 300
    if number % 3 == 0:
        words += ["care", "home"]
    return " ".join(words)


def _document(number: int) -> dict:
    return {
        "id": str(number),
        "kind": "guide" if number % 11 == 0 else "service",
        "body": _body(number),
        "title": f"service number{number % 9}",  # "service" once in each: every weight the field's boost
        "counts": " ".join([WORDS[number % len(WORDS)]] * (1 + number % 5) + ["all"]),
        "tags": ",".join(tag for tag, every in (("red", 2), ("green", 3), ("blue", 1)) if number % every == 0),
    }


def _build(path, positions: type[formats.Positions], codec_factory, *, segments) -> object:
    """An index of every document (in one segment or one per range of ``segments``), with DELETED deleted."""
    path.mkdir()
    index = FileStorage(str(path)).create_index(_schema(positions))
    for start, stop in segments:
        writer = index.writer(codec=codec_factory())
        for number in range(start, stop):
            writer.add_document(**_document(number))
        writer.commit(merge=False)
    writer = index.writer(codec=codec_factory())
    for number in sorted(DELETED):
        writer.delete_by_term("id", str(number))
    writer.commit(merge=False)
    return index


def _optimize(index, codec_factory):
    writer = index.writer(codec=codec_factory())
    writer.commit(optimize=True)
    return index


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """name -> (Whoosh's index, ours) of the same documents."""
    root = tmp_path_factory.mktemp("codec")
    built = {}
    for name, segments in (("one", ((0, DOCUMENTS),)), ("three", SEGMENTS)):
        ours = _build(root / f"care-{name}", CompactPositions, CareCodec, segments=segments)
        theirs = _build(root / f"w3-{name}", formats.Positions, W3Codec, segments=segments)
        built[name] = (theirs, ours)
    ours = _optimize(_build(root / "care-merged", CompactPositions, CareCodec, segments=SEGMENTS), CareCodec)
    theirs = _optimize(_build(root / "w3-merged", formats.Positions, W3Codec, segments=SEGMENTS), W3Codec)
    built["merged"] = (theirs, ours)
    return built


# --- reading postings -------------------------------------------------------------------------------------


def _leaf(matcher):
    """The codec's own matcher under Whoosh's filter of deleted documents."""
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def _value(matcher, fieldname: str):
    if fieldname in ("body", "title"):
        return tuple(matcher.value_as("positions"))
    return matcher.value()


def _posting(matcher, fieldname: str, *, blocks: bool = True) -> tuple:
    """Everything a query can ask of the matcher at its current posting (``blocks``: its block's statistics
    too, which Whoosh's filter of deleted documents does not pass on)."""
    posting = (matcher.id(), matcher.weight(), _value(matcher, fieldname), matcher.value_as("frequency"))
    if not blocks:
        return posting
    return (*posting, matcher.block_min_id(), matcher.block_max_id(), matcher.block_max_weight(),
            matcher.block_min_length(), matcher.block_max_length(), matcher.block_quality())


def _walk(matcher, fieldname: str) -> list[tuple]:
    postings = []
    while matcher.is_active():
        postings.append(_posting(matcher, fieldname))
        matcher.next()
    return postings


def _terms(searcher) -> list[tuple[str, bytes]]:
    return list(searcher.reader().all_terms())


def _pairs(indexes, name: str):
    """(field, term, Whoosh's searcher and ours for one segment) for every term of every segment."""
    theirs, ours = indexes[name]
    with theirs.searcher() as their_searcher, ours.searcher() as our_searcher:
        their_leaves, our_leaves = their_searcher.leaf_searchers(), our_searcher.leaf_searchers()
        assert len(their_leaves) == len(our_leaves)
        for (their_leaf, their_offset), (our_leaf, our_offset) in zip(their_leaves, our_leaves, strict=True):
            assert their_offset == our_offset
            terms = _terms(our_leaf)
            assert terms == _terms(their_leaf)
            yield [(fieldname, text, their_leaf, our_leaf) for fieldname, text in terms]


def _matcher(searcher, fieldname: str, text: bytes):
    scorer = searcher.weighting.scorer(searcher, fieldname, text)
    return searcher.reader().postings(fieldname, text, scorer=scorer)


@pytest.mark.parametrize("name", ["one", "three", "merged"])
def test_every_word_finds_the_same_documents_weights_and_positions_as_whoosh(indexes, name):
    compared = 0
    for leaf_terms in _pairs(indexes, name):
        for fieldname, text, theirs, ours in leaf_terms:
            their_matcher, our_matcher = _matcher(theirs, fieldname, text), _matcher(ours, fieldname, text)
            assert our_matcher.supports_block_quality() == their_matcher.supports_block_quality()
            assert our_matcher.max_quality() == their_matcher.max_quality()
            assert list(our_matcher.all_ids()) == list(their_matcher.all_ids()), (fieldname, text)
            their_leaf, our_leaf = _leaf(_matcher(theirs, fieldname, text)), _leaf(_matcher(ours, fieldname, text))
            assert _walk(our_leaf, fieldname) == _walk(their_leaf, fieldname), (fieldname, text)
            compared += 1
    assert compared > DOCUMENTS


def _block_kinds(indexes, name: str) -> tuple[set, set, set, int]:
    """The weight and value layouts and position array types our index's blocks use, and how many terms
    span several blocks."""
    weight_kinds, value_kinds, typecodes, multi_block = set(), set(), set(), 0
    for leaf_terms in _pairs(indexes, name):
        for fieldname, text, _theirs, ours in leaf_terms:
            matcher = _leaf(_matcher(ours, fieldname, text))
            assert type(matcher) is CareLeafMatcher
            blocks = 0
            while matcher.is_active():
                weight_kinds.add(matcher._weight_kind)
                value_kinds.add(matcher._value_kind)
                if fieldname in ("body", "title"):
                    typecodes.add(chr(matcher.value()[4]))
                blocks += matcher._i == 0
                matcher.next()
            multi_block += blocks > 1
    return weight_kinds, value_kinds, typecodes, multi_block


@pytest.mark.parametrize("name", ["one", "merged"])
def test_the_comparison_covers_every_block_layout(indexes, name):
    """Guards the test above: the documents exercise each way CareCodec lays a block out."""
    weight_kinds, value_kinds, typecodes, multi_block = _block_kinds(indexes, name)
    assert weight_kinds == {0, 1, 2}  # all 1.0, all the same, each its own
    assert value_kinds == {0, 1, 2}  # none (ID fields), fixed size (frequencies), sized (positions)
    assert typecodes == {"B", "H", "I"}
    assert multi_block >= 5
    theirs, _ours = indexes[name]
    with theirs.searcher() as searcher:
        assert type(_leaf(_matcher(searcher, "body", b"care"))) is W3LeafMatcher


def _skipped_to(matcher, fieldname: str, targets, *, blocks: bool = True) -> list:
    """Where skip_to lands for each target in turn (one matcher, moving forward)."""
    landed = []
    for target in targets:
        if not matcher.is_active():
            landed.append(None)
            continue
        matcher.skip_to(target)
        landed.append(_posting(matcher, fieldname, blocks=blocks) if matcher.is_active() else None)
    return landed


@pytest.mark.parametrize("name", ["one", "three", "merged"])
def test_skipping_ahead_in_a_long_list_of_results_lands_where_whoosh_lands(indexes, name):
    for leaf_terms in _pairs(indexes, name):
        for fieldname, text, theirs, ours in leaf_terms:
            if theirs.doc_frequency(fieldname, text) < 50:
                continue
            doc_count = theirs.reader().doc_count_all()
            for targets in (range(0, doc_count + 5, 13), (127, 128, 129, 256, 511, 512, doc_count - 1, doc_count),
                            (doc_count - 2,), (300,), (600, 601)):
                mine = _skipped_to(_leaf(_matcher(ours, fieldname, text)), fieldname, targets)
                assert mine == _skipped_to(_leaf(_matcher(theirs, fieldname, text)), fieldname, targets)
                # Through the filter of deleted documents too, as searches read them.
                mine = _skipped_to(_matcher(ours, fieldname, text), fieldname, targets, blocks=False)
                assert mine == _skipped_to(_matcher(theirs, fieldname, text), fieldname, targets, blocks=False)


@pytest.mark.parametrize("name", ["one", "merged"])
def test_top_results_skip_the_same_low_scoring_blocks_as_whoosh(indexes, name):
    for leaf_terms in _pairs(indexes, name):
        for fieldname, text, theirs, ours in leaf_terms:
            their_matcher = _leaf(_matcher(theirs, fieldname, text))
            best = their_matcher.max_quality()
            for fraction in (0.0, 0.3, 0.6, 0.9, 0.99):
                their_matcher = _leaf(_matcher(theirs, fieldname, text))
                our_matcher = _leaf(_matcher(ours, fieldname, text))
                skipped = our_matcher.skip_to_quality(best * fraction)
                assert skipped == their_matcher.skip_to_quality(best * fraction)
                assert our_matcher.is_active() == their_matcher.is_active()
                if our_matcher.is_active():
                    assert _posting(our_matcher, fieldname) == _posting(their_matcher, fieldname)


def test_a_blocks_highest_weight_is_never_below_a_weight_in_it_whatever_the_boost(tmp_path):
    """A block's highest weight bounds the scores a top-results search skips: with a boost a 32-bit float
    cannot hold exactly, no posting may weigh more than its block's bound, or its document is never shown."""
    schema = _schema(CompactPositions)
    schema["title"].format = CompactPositions(field_boost=1.1)
    index = FileStorage(str(tmp_path)).create_index(schema)
    writer = index.writer(codec=CareCodec())
    for number in range(300):
        writer.add_document(**_document(number))
    writer.commit()
    with index.searcher() as searcher:
        for text in (b"service", b"number1"):
            matcher = _leaf(_matcher(searcher, "title", text))
            assert matcher.is_active()
            while matcher.is_active():
                assert matcher.weight() <= matcher.block_max_weight()
                assert matcher.weight() == pytest.approx(1.1)
                matcher.next()


# --- searching --------------------------------------------------------------------------------------------

QUERIES = [
    q.Term("body", "care"),
    q.Term("body", "garden"),
    q.Term("title", "service"),
    q.Term("counts", "walk"),
    q.Term("tags", "green"),
    q.Phrase("body", ["care", "home"]),
    q.Phrase("body", ["far", "away"]),
    q.Phrase("body", ["garden", "path"]),
    q.Phrase("body", ["garden", "garden"], slop=301),
    q.Phrase("body", ["far", "far"], slop=70_001),
    q.Phrase("body", ["echo", "echo", "echo"]),
    q.And([q.Term("body", "care"), q.Term("body", "dementia")]),
    q.And([q.Phrase("body", ["care", "home"]), q.Term("tags", "red"), q.Term("counts", "all")]),
    q.Or([q.Term("body", "respite"), q.Term("body", "lunch"), q.Term("title", "number3")]),
    q.Or([q.Phrase("body", ["listing", "care"]), q.Term("body", "walk")]),
    q.And([q.Or([q.Term("body", "club"), q.Term("body", "advice")]), q.Not(q.Term("tags", "red"))]),
]


def _results(index, query, limit):
    with index.searcher() as searcher:
        return [(hit.docnum, hit["id"], hit.score) for hit in searcher.search(query, limit=limit)]


@pytest.mark.parametrize("name", ["one", "three", "merged"])
@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_searches_find_and_rank_the_same_documents_as_whoosh(indexes, name, query):
    theirs, ours = indexes[name]
    for limit in (None, 10, 3):
        mine = _results(ours, query, limit)
        assert mine == _results(theirs, query, limit)
        assert mine  # every query finds something, so an empty answer on both sides fails


@pytest.mark.parametrize("name", ["one", "three", "merged"])
def test_phrases_with_words_far_apart_are_found_in_the_right_document(indexes, name):
    _theirs, ours = indexes[name]
    assert [hit[1] for hit in _results(ours, q.Phrase("body", ["far", "away"]), None)] == [str(FAR)]
    assert [hit[1] for hit in _results(ours, q.Phrase("body", ["far", "far"], slop=70_001), None)] == [str(FAR)]
    assert _results(ours, q.Phrase("body", ["far", "far"], slop=70_000), None) == []
    gapped = sorted(str(n) for n in range(DOCUMENTS) if n % 50 == 7 and n not in DELETED)
    assert sorted(hit[1] for hit in _results(ours, q.Phrase("body", ["garden", "path"]), None)) == gapped
    with ours.searcher() as searcher:
        docnum = searcher.document_number(id=str(FAR))
        matcher = searcher.reader().postings("body", "far")
        matcher.skip_to(docnum)
        assert matcher.id() == docnum
        assert matcher.value_as("positions")[-1] - matcher.value_as("positions")[0] == 70_001


def test_merging_segments_written_by_care_codec_writes_care_codec_segments(indexes):
    _theirs, unmerged = indexes["three"]
    assert [type(segment.codec()) for segment in unmerged._segments()] == [CareCodec] * len(SEGMENTS)
    _theirs, ours = indexes["merged"]
    segments = ours._segments()
    assert len(segments) == 1
    assert isinstance(segments[0].codec(), CareCodec)
    with ours.searcher() as searcher:
        assert searcher.doc_count_all() == DOCUMENTS - len(DELETED)
        assert {fields["id"] for fields in searcher.all_stored_fields()} == {
            str(n) for n in range(DOCUMENTS) if n not in DELETED}


# --- CompactPositions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positions", "typecode"),
    [
        ([], "B"),
        ([0], "B"),
        ([0, 0, 1], "B"),
        ([3, 7, 255, 510], "B"),
        ([1, 257], "H"),
        ([0, 300, 301, 65_835], "H"),
        ([2, 65_538], "I"),
        ([5, 6, 100_000, 100_001, 4_000_000_000], "I"),
    ],
)
def test_positions_are_read_back_as_written(positions, typecode):
    compact = CompactPositions(field_boost=2.5)
    encoded = compact.encode(positions)
    assert chr(encoded[4]) == typecode
    assert compact.decode_positions(encoded) == positions
    assert compact.decode_positions(memoryview(encoded)) == positions
    assert compact.decode_frequency(encoded) == len(positions)
    assert compact.decode_weight(encoded) == 2.5 * len(positions)
    assert compact.decode_position_boosts(encoded) == [(position, 1) for position in positions]
    assert len(encoded) == 5 + array(typecode).itemsize * len(positions)
    whoosh = formats.Positions()
    assert whoosh.decode_positions(whoosh.encode(positions)) == positions


def test_positions_of_a_word_in_two_copies_of_a_text_are_combined():
    compact = CompactPositions()
    combined = compact.combine([compact.encode([1, 400]), compact.encode([2, 400, 70_000])])
    assert compact.decode_positions(combined) == [1, 2, 400, 70_000]
    assert compact.decode_frequency(combined) == 4


# --- the portal's own index -------------------------------------------------------------------------------


def test_the_portals_index_is_written_and_read_back_with_care_codec(tmp_path):
    schema = build_schema()
    assert isinstance(schema["name"].format, CompactPositions)
    assert isinstance(schema["body"].format, CompactPositions)
    assert schema["name"].format.field_boost == 3.0
    assert schema["body"].format.field_boost == 1.0

    path, index = store.new_generation(tmp_path)
    writer = store.writer(index)
    for number in range(300):
        writer.add_document(id=str(number), kind="service", name=f"Day centre {number}",
                            body=f"Care at home and respite care for carers {number % 7}")
    writer.commit()
    store.swap_in(tmp_path, path)

    reopened = store.open_current(tmp_path)
    segments = reopened._segments()
    assert segments and all(isinstance(segment.codec(), CareCodec) for segment in segments)
    assert isinstance(reopened.schema["name"].format, CompactPositions)
    assert isinstance(reopened.schema["body"].format, CompactPositions)
    with reopened.searcher() as searcher:
        care = searcher.reader().postings("body", "care")
        assert type(_leaf(care)) is CareLeafMatcher
        assert care.value_as("positions") == [0, 5]  # "at", "and", "for" keep their places
        found = searcher.search(q.Phrase("body", ["respit", "care"]), limit=None)
        assert len(found) == 300
        found = searcher.search(q.And([q.Term("name", "centr"), q.Term("body", "carer")]), limit=None)
        assert len(found) == 300
