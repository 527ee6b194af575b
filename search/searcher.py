"""One long-lived searcher per process, refreshed when the index changed.

Opening a searcher copies the index's segments into memory (NOTES.md: ~100 ms at 50k listings), so a worker
keeps one and asks it ``up_to_date()`` per search: a change the indexer committed is seen by the next search.
A rebuild swaps in a new generation directory; the ``current`` link then resolves elsewhere and the searcher
is reopened there. A lock serialises searches inside one process: gunicorn sync workers have one thread
anyway, and the development server's threads must not refresh the searcher under each other.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from search import store
from search.concepts import vocabulary_key
from search.facets import DocSets
from search.schema import SCHEMA_VERSION


@dataclass
class _Open:
    root: Path
    generation: Path
    index: object
    searcher: object
    docsets: DocSets


_lock = threading.RLock()
_open: _Open | None = None


def _open_generation(root: Path) -> _Open:
    link = store.current_path(root)
    if not link.exists():
        raise store.IndexUnavailable(f"no search index at {root}")
    generation = link.resolve()
    meta = store.read_meta(generation)
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise store.IndexUnavailable(f"search index at {generation} is schema {version}, expected {SCHEMA_VERSION}")
    try:
        # The resolved directory, not the link: a later swap must not change files under an open searcher.
        index = whoosh_index.open_dir(str(generation))
        searcher = index.searcher()
    except Exception as error:  # Whoosh raises many kinds for a damaged index
        raise store.IndexUnavailable(f"search index at {generation} cannot be opened: {error}") from error
    # Concept terms answer for the care vocabulary they were found with only (search.concepts); otherwise
    # phrases are matched.
    concepts = meta.get("vocabulary") == vocabulary_key()
    return _Open(root=root, generation=generation, index=index, searcher=searcher,
                 docsets=DocSets(searcher, concepts=concepts))


def _close_searcher(searcher) -> None:
    with contextlib.suppress(Exception):
        searcher.close()


def _segment_view(reader: SegmentReader, segment, generation) -> SegmentReader:
    """The open reader of a segment, seen with ``segment``'s deletions at ``generation``: its files stay
    shared (opening the big segment again costs ~100 ms at 50k listings), nothing cached about deletions is
    carried over."""
    view = copy.copy(reader)
    view.__dict__.pop("deleted_docs_set", None)  # a cached_property of the old deletions
    view._segment, view._gen = segment, generation
    if hasattr(reader, "_perdoc") and hasattr(reader._perdoc, "_segment"):
        view._perdoc = copy.copy(reader._perdoc)
        view._perdoc._segment = segment
    return view


def _reopened(index, old_searcher):
    """A searcher on the index's latest commit that keeps the old searcher's readers of unchanged segments.

    Not ``Searcher.refresh()``: whoosh-reloaded's reader reuse keeps the old copy of a segment whose deletions
    changed (a listing deleted and re-added was found twice) and re-adds segments a merge removed. Here a
    segment is matched by id and always seen with the new commit's deletions; readers of segments that are
    gone are closed."""
    info = index._read_toc()
    old_readers = {}
    for reader, _ in old_searcher.reader().leaf_readers():
        segment = reader.segment() if isinstance(reader, SegmentReader) else None
        if segment is not None:
            old_readers[segment.segment_id()] = reader
    readers, kept = [], set()
    try:
        for segment in info.segments:
            old = old_readers.get(segment.segment_id())
            if old is not None and not old.is_closed:
                readers.append(_segment_view(old, segment, info.generation))
                kept.add(segment.segment_id())
            else:
                readers.append(SegmentReader(index.storage, info.schema, segment, generation=info.generation))
    except BaseException:
        for reader in readers:
            if reader.segment().segment_id() not in kept:
                with contextlib.suppress(Exception):
                    reader.close()
        raise
    for segment_id, reader in old_readers.items():
        if segment_id not in kept:
            with contextlib.suppress(Exception):
                reader.close()
    if not readers:
        reader = EmptyReader(info.schema)
    elif len(readers) == 1:
        reader = readers[0]
    else:
        reader = MultiReader(readers, generation=info.generation)
    return Searcher(reader, fromindex=index)


def _close(opened: _Open | None) -> None:
    if opened is not None:
        with contextlib.suppress(Exception):
            opened.searcher.close()


def _fresh(root: Path) -> _Open:
    global _open
    link = store.current_path(root)
    current = _open
    if current is not None and current.root == root and link.exists() and link.resolve() == current.generation:
        try:
            if not current.searcher.up_to_date():
                searcher = _reopened(current.index, current.searcher)
                current.searcher = searcher
                current.docsets = DocSets(searcher, previous=current.docsets, concepts=current.docsets.concepts)
            return current
        except Exception:  # the generation was damaged or removed under us: open again below
            pass
    _close(current)
    _open = None
    _open = _open_generation(root)
    return _open


def discard() -> None:
    """Forget the open searcher (after an error from it, or a test's index directory going away)."""
    global _open
    with _lock:
        _close(_open)
        _open = None


@contextlib.contextmanager
def searching(root: Path) -> Iterator[tuple[object, DocSets]]:
    """The up-to-date searcher for the index under ``root`` and its cached document sets, held for the
    duration of the block. Raises store.IndexUnavailable when there is no usable index."""
    with _lock:
        opened = _fresh(root)
        try:
            yield opened.searcher, opened.docsets
        except store.IndexUnavailable:
            raise
        except Exception:
            discard()  # a damaged segment: the next search opens the index afresh
            raise
