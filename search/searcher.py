"""One long-lived searcher per process, refreshed when the index changed.

Opening a searcher copies the index's segments into memory (NOTES.md: ~100 ms at 50k listings), so a worker
keeps one and asks it ``up_to_date()`` per search: a change the indexer committed is seen by the next search.
A rebuild swaps in a new generation directory; the ``current`` link then resolves elsewhere and the searcher
is reopened there. A lock serialises searches inside one process: gunicorn sync workers have one thread
anyway, and the development server's threads must not refresh the searcher under each other.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index

from search import store
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
    version = store.read_meta(generation).get("schema_version")
    if version != SCHEMA_VERSION:
        raise store.IndexUnavailable(f"search index at {generation} is schema {version}, expected {SCHEMA_VERSION}")
    try:
        # The resolved directory, not the link: a later swap must not change files under an open searcher.
        index = whoosh_index.open_dir(str(generation))
        searcher = index.searcher()
    except Exception as error:  # Whoosh raises many kinds for a damaged index
        raise store.IndexUnavailable(f"search index at {generation} cannot be opened: {error}") from error
    return _Open(root=root, generation=generation, index=index, searcher=searcher, docsets=DocSets(searcher))


def _close_searcher(searcher) -> None:
    with contextlib.suppress(Exception):
        searcher.close()


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
                # Not refresh(): whoosh-reloaded's reader reuse keeps the old copy of a segment whose deletions
                # changed, so a listing deleted and re-added (unpublish/republish, any re-index) was found twice.
                searcher = current.index.searcher()
                _close_searcher(current.searcher)
                current.searcher, current.docsets = searcher, DocSets(searcher)
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
