"""Where the index lives on disk: generations, the ``current`` pointer, metadata and the writer lock.

    SEARCH_INDEX_DIR/
        current -> gen-20261122T083000-1a2b   (symlink, swapped atomically by a rebuild)
        gen-.../                              (a Whoosh index + portal-meta.json)
        writer.lock                           (flock: one writing process at a time)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from search.codec import CareCodec
from search.concepts import vocabulary_key
from search.schema import SCHEMA_VERSION, build_schema

META_FILE = "portal-meta.json"
KEEP_GENERATIONS = 2  # the current one and the one before, which searchers may still hold open


class IndexUnavailable(Exception):
    """There is no usable index (missing, corrupt or of an old schema version)."""


def current_path(root: Path) -> Path:
    return root / "current"


def read_meta(generation: Path) -> dict:
    try:
        return json.loads((generation / META_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write_meta(generation: Path, **values) -> None:
    meta = read_meta(generation) | values
    temporary = generation / f".{META_FILE}.{secrets.token_hex(4)}"
    temporary.write_text(json.dumps(meta))
    os.replace(temporary, generation / META_FILE)


def open_current(root: Path, *, mmap: bool = True):
    """Open the current generation's index, or raise IndexUnavailable. ``mmap=False`` for the writer: opening
    then costs the same at any index size."""
    generation = current_path(root)
    if not generation.exists():
        raise IndexUnavailable(f"no search index at {root}")
    meta = read_meta(generation)
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise IndexUnavailable(f"search index at {generation} is schema {meta.get('schema_version')}, "
                               f"expected {SCHEMA_VERSION}")
    try:
        return FileStorage(str(generation), supports_mmap=mmap).open_index()
    except Exception as error:  # Whoosh raises many kinds for a damaged index
        raise IndexUnavailable(f"search index at {generation} cannot be opened: {error}") from error


def writer(index, **options):
    """A Whoosh writer on ``index`` that writes its segments (new documents, and merges) with CareCodec."""
    return index.writer(codec=CareCodec(), **options)


def check_vocabulary(generation: Path) -> None:
    """Raise IndexUnavailable when the index's concepts were found with another care vocabulary (synonyms.txt
    changed since it was built): a writer must not add listings found with this one (rebuild instead)."""
    built_with = read_meta(generation).get("vocabulary")
    if built_with != vocabulary_key():
        raise IndexUnavailable(f"search index at {generation} was built with another care vocabulary")


def new_generation(root: Path):
    """Create an empty index in a new generation directory; returns (path, index)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = root / f"gen-{stamp}-{secrets.token_hex(3)}"
    path.mkdir()
    index = FileStorage(str(path)).create_index(build_schema())
    write_meta(path, schema_version=SCHEMA_VERSION, applied_change_id=0, vocabulary=vocabulary_key())
    return path, index


def swap_in(root: Path, generation: Path) -> None:
    """Point ``current`` at ``generation`` in one atomic rename; searchers keep what they have open."""
    link = current_path(root)
    temporary = root / f".current-{secrets.token_hex(4)}"
    temporary.symlink_to(generation.name)
    os.replace(temporary, link)
    _remove_old_generations(root, keep=generation)


def _remove_old_generations(root: Path, keep: Path) -> None:
    generations = sorted((p for p in root.glob("gen-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    stale = [p for p in generations if p.resolve() != keep.resolve()][: -(KEEP_GENERATIONS - 1) or None]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(root: Path, *, wait: bool = True):
    """Hold the one-writer lock for this index root (an flock: a crashed writer leaves no stale lock)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "writer.lock", "a+") as handle:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        fcntl.flock(handle, flags)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
