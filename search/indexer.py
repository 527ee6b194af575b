"""The single index writer: applies the listing change log, and rebuilds the index from the database.

Changes are read from ``listing_changes`` past the index's high-water mark and applied in one Whoosh commit,
reloading current rows (so repeated edits coalesce). A crash between a database commit and indexing loses
nothing: the next sync picks the rows up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload
from whoosh import fields, writing
from whoosh import index as whoosh_index

from portal.extensions import db
from portal.models import (
    ChangeKind,
    Guide,
    GuideState,
    ListingChange,
    Offer,
    OfferStatus,
    PayoutDetails,
    PayoutDetailsStatus,
    Service,
    TaxonomyTerm,
)
from search import store
from search.documents import guide_document, service_document
from search.rows import ServiceRows
from search.schema import KIND_GUIDE

BATCH_SIZE = 500
# A rebuild's posting pool: large enough that a 50k-listing build sorts in memory instead of pickling sorted
# runs to temporary files and merging them back (a third of a rebuild's time with Whoosh's 128 MB default).
REBUILD_POOL_MB = 512
# Listings per rebuild writer: each commits its own segments, so its posting pool fits REBUILD_POOL_MB.
REBUILD_CHUNK = 12_000
# From this many listings a rebuild runs two sub-writer processes (the machine's cores; the parent loads rows).
PARALLEL_FROM = 2000
REBUILD_PROCESSES = 2
# Small segments (syncs' own, and merges of them) are merged by tidy(), when the indexer is idle, once the
# index has this many of them...
MERGE_FROM_SEGMENTS = 6
# ...and by sync() itself only past this many (nothing called tidy(): a backstop for query speed).
MERGE_IN_SYNC_FROM_SEGMENTS = 20
SMALL_SEGMENT_DOCS = 1000  # a rebuild's segments hold thousands


def _with_column_checks_cached(writer):
    """Whoosh asks, for every posting it writes, whether the field has a length column, and asks the file
    system each time the answer is no (keyword, ID and numeric fields): a stat() per posting. The answer
    cannot change while the segment is written, so remember it."""
    make_reader = writer.per_document_reader

    def per_document_reader():
        reader = make_reader()
        reader.has_column = functools.lru_cache(maxsize=None)(reader.has_column)
        return reader

    writer.per_document_reader = per_document_reader
    return writer


def index_root() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def _purchasable_ids(ids: Iterable[UUID], session=None) -> set[UUID]:
    """Which of these services a direct payment can buy: a published priced offer (prices are positive by a
    constraint) from an organisation whose payout details the council verified. One query per batch."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(
        (session or db.session).scalars(
            sa.select(Offer.service_id)
            .join(PayoutDetails, PayoutDetails.organisation_id == Offer.organisation_id)
            .where(
                Offer.service_id.in_(wanted),
                Offer.status == OfferStatus.PUBLISHED,
                PayoutDetails.status == PayoutDetailsStatus.VERIFIED,
            )
            .distinct()
        )
    )


def _service_documents(ids: Iterable[UUID], session=None, rows: ServiceRows | None = None
                       ) -> Iterator[tuple[UUID, dict | None]]:
    """(id, document) for each of ``ids``: None for a service that is gone or not public. Built from plain SQL
    rows (search.rows); pass one ``rows`` loader for many batches."""
    wanted = list(ids)
    services = (rows or ServiceRows(session or db.session)).load(wanted)
    purchasable = _purchasable_ids(services, session)
    for service_id in wanted:
        service = services.get(service_id)
        if service is not None:
            yield service_id, service_document(service, purchasable=service_id in purchasable)
        else:
            yield service_id, None


def _load_guides(ids: Iterable[UUID], session=None) -> list[Guide]:
    return list(
        (session or db.session).scalars(
            sa.select(Guide)
            .where(Guide.id.in_(list(ids)))
            .options(selectinload(Guide.categories).selectinload(TaxonomyTerm.parent).selectinload(TaxonomyTerm.parent))
        )
    )


def _published_guides(session=None) -> list[Guide]:
    ids = (session or db.session).scalars(sa.select(Guide.id).where(Guide.state == GuideState.PUBLISHED))
    return _load_guides(list(ids), session)


def _public_service_ids_in_batches() -> Iterator[list[UUID]]:
    from portal.models import public_services_clause

    ids = list(db.session.scalars(sa.select(Service.id).where(public_services_clause()).order_by(Service.id)))
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def latest_change_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ListingChange.id), 0)))


def _apply_changes(writer, after: int) -> tuple[int, int]:
    """Write the documents for every change past ``after``; returns the new high-water mark and the number of
    change rows applied (ids have gaps: sequences skip rolled-back rows).

    Services are reloaded and indexed while public. A guide is reloaded and indexed while published, unless its
    latest change says DELETE. Rows for other kinds of subject are passed over."""
    changes = db.session.execute(
        sa.select(ListingChange.id, ListingChange.subject_type, ListingChange.subject_id, ListingChange.kind)
        .where(ListingChange.id > after)
        .order_by(ListingChange.id)
    ).all()
    if not changes:
        return after, 0
    service_ids: set[UUID] = set()
    guide_kinds: dict[UUID, ChangeKind] = {}  # the latest change to each guide
    for change in changes:
        if change.subject_type == KIND_GUIDE:
            guide_kinds[change.subject_id] = change.kind
        elif change.subject_type in (None, "service"):
            service_ids.add(change.subject_id)
    for service_id, document in _service_documents(service_ids):
        if document is not None:
            writer.update_document(**document)
        else:
            writer.delete_by_term("id", str(service_id))
    reload = [guide_id for guide_id, kind in guide_kinds.items() if kind is not ChangeKind.DELETE]
    guides = {guide.id: guide for guide in _load_guides(reload)} if reload else {}
    for guide_id in guide_kinds:
        guide = guides.get(guide_id)
        if guide is not None and guide.state is GuideState.PUBLISHED:
            writer.update_document(**guide_document(guide))
        else:
            writer.delete_by_term("id", str(guide_id))
    return changes[-1].id, len(changes)


def sync() -> int:
    """Apply pending changes to the current index; returns how many change rows were applied.

    Raises store.IndexUnavailable when there is no usable index (rebuild it)."""
    root = index_root()
    with store.writer_lock(root):
        # Without mmap: the writer opens its segments in ~30 ms at any size, where mapping them grows with the
        # index (NOTES.md); searchers keep the default storage.
        index = store.open_current(root, mmap=False)
        generation = store.current_path(root).resolve()
        try:
            store.check_vocabulary(generation)
        except store.IndexUnavailable:
            index.close()
            raise
        after = store.read_meta(generation).get("applied_change_id", 0)
        if latest_change_id() <= after:
            return 0
        writer = store.writer(index, timeout=30)
        try:
            new_mark, applied = _apply_changes(writer, after)
        except BaseException:
            writer.cancel()
            raise
        # A change's own small segment is committed without merging: the fast path a resident waits on (merging
        # even a few one-listing segments costs Whoosh 0.3-1 s, as every term is rewritten). tidy() merges them
        # while nothing is waiting; sync() merges only if that never happens.
        many = _small_segments(writer.segments) >= MERGE_IN_SYNC_FROM_SEGMENTS
        writer.commit(mergetype=_merge_small_keeping_order if many else writing.NO_MERGE)
        store.write_meta(generation, applied_change_id=new_mark)
        return applied


def _small_segments(segments) -> int:
    return sum(1 for segment in segments if segment.doc_count_all() < SMALL_SEGMENT_DOCS)


def _merge_small_keeping_order(writer, segments):
    """Whoosh's small-segment merge policy (MERGE_SMALL picks which), with the segments it leaves in their
    order: MERGE_SMALL returns them sorted by size, which moves the large segments' document numbers and so
    throws away every searcher's per-segment filter sets (search.facets.DocSets). Merged documents go to the
    writer's new segment, after the others."""
    unchanged = {segment.segment_id() for segment in writing.MERGE_SMALL(writer, list(segments))}
    return [segment for segment in segments if segment.segment_id() in unchanged]


def tidy() -> bool:
    """Merge the small segments syncs left once there are MERGE_FROM_SEGMENTS of them (Whoosh's usual
    small-segment merge; large segments are left alone); returns True when it merged. For idle moments: after
    a sync has made its changes searchable (`flask search sync` and ``--follow`` when no changes are pending,
    the after-request sync). Never blocks a writer for long: it waits for the lock like any writer.

    Raises store.IndexUnavailable when there is no usable index."""
    root = index_root()
    with store.writer_lock(root):
        index = store.open_current(root, mmap=False)
        try:
            if _small_segments(index._segments()) < MERGE_FROM_SEGMENTS:
                return False
            writer = store.writer(index, timeout=30)
            try:
                writer.commit(mergetype=_merge_small_keeping_order)  # no documents: it only merges
            except BaseException:
                writer.cancel()
                raise
            return True
        finally:
            index.close()


def _rebuild_writer(index, listings: int):
    """One writer process for a small directory (and the tests): documents keep the database's id order. From
    PARALLEL_FROM listings on, two sub-writer processes analyse documents side by side and each leaves its own
    segment (multisegment: no single-threaded merge at the end), about doubling a rebuild's throughput."""
    if listings >= PARALLEL_FROM and REBUILD_PROCESSES > 1:
        return _with_column_checks_cached(store.writer(index, procs=REBUILD_PROCESSES, multisegment=True,
                                                       limitmb=REBUILD_POOL_MB // REBUILD_PROCESSES))
    return _with_column_checks_cached(store.writer(index, limitmb=REBUILD_POOL_MB))


def _add_services(writer, batches: list[list[UUID]], reader, rows: ServiceRows,
                  progress: Callable[[int], None] | None) -> int:
    schema, indexed = writer.schema, 0
    for batch in batches:
        for _service_id, document in _service_documents(batch, reader, rows):
            if document is not None:
                writer.add_document(**_checked(schema, document))
                indexed += 1
        if progress:
            progress(len(batch))
        reader.expunge_all()
    return indexed


def _chunks(batches: list[list[UUID]]) -> Iterator[list[list[UUID]]]:
    """The batches in chunks of about REBUILD_CHUNK listings (the last chunk takes a small remainder)."""
    chunk: list[list[UUID]] = []
    size = 0
    total = sum(len(batch) for batch in batches)
    for batch in batches:
        chunk.append(batch)
        size += len(batch)
        total -= len(batch)
        if size >= REBUILD_CHUNK and total >= REBUILD_CHUNK // 2:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _cancel(writer) -> None:
    # A multiprocess writer's cancel() only flags its sub-processes in this process: they would wait on their
    # job queue for ever (and the interpreter waits for them at exit). Stop them first.
    for task in getattr(writer, "tasks", ()):
        task.terminate()
        task.join()
    writer.cancel()


def _checked(schema, document: dict) -> dict:
    """Raise here, in this process, for a document Whoosh would reject: a multiprocess writer's sub-writer that
    raises is lost silently and can leave the writer waiting for ever (NOTES.md)."""
    for name, value in document.items():
        field = schema[name]  # KeyError for a field the schema lacks
        if isinstance(field, fields.NUMERIC):
            low, high = -(1 << (field.bits - 1)), (1 << (field.bits - 1)) - 1
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name}={value!r} is not a {field.bits}-bit integer")
        elif isinstance(field, fields.BOOLEAN):
            if not isinstance(value, bool):
                raise ValueError(f"{name}={value!r} is not a boolean")
        elif isinstance(field, fields.COLUMN):
            if not isinstance(value, bytes):
                raise ValueError(f"{name}={value!r} is not bytes")
        elif not isinstance(value, str):
            raise ValueError(f"{name}={value!r} is not text")
    return document


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Build a new index generation from the database and swap it in; returns the number of documents indexed
    (public listings and published guides).

    Searches carry on against the old generation meanwhile; changes committed during the build are replayed."""
    root = index_root()
    with store.writer_lock(root):
        mark = latest_change_id()
        batches = list(_public_service_ids_in_batches())
        generation, index = store.new_generation(root)
        schema = index.schema
        indexed = 0
        # A side session on the same connection: its identity map is emptied after each batch to keep memory
        # flat on a large directory, without detaching the caller's objects.
        reader = Session(bind=db.session.connection())
        writer = None
        try:
            rows = ServiceRows(reader)
            # One writer (and commit) per chunk of listings: each writer's posting pool then sorts in memory at
            # any directory size (a 50k-listing pool spilled sorted runs to disk and merged them back, more
            # than halving throughput); each chunk adds its segments, none is merged.
            chunks = list(_chunks(batches)) or [[]]
            for number, chunk in enumerate(chunks):
                writer = _rebuild_writer(index, sum(len(batch) for batch in chunk))
                indexed += _add_services(writer, chunk, reader, rows, progress)
                if number < len(chunks) - 1:
                    writer.commit(mergetype=writing.NO_MERGE)
                    writer = None
            # Guides are few (tens): one batch, with the last chunk.
            guides = _published_guides(reader)
            for guide in guides:
                writer.add_document(**_checked(schema, guide_document(guide)))
            indexed += len(guides)
            if progress and guides:
                progress(len(guides))
            writer.commit(mergetype=writing.NO_MERGE)
            writer = None
        except BaseException:
            if writer is not None:
                _cancel(writer)
            raise
        finally:
            reader.close()
        _check_complete(generation, indexed)
        # Changes committed while the build ran are replayed in a second commit: a writer's deletes only see
        # committed documents, so replaying inside the build's own writer would duplicate an edited listing
        # and could not drop one unpublished meanwhile.
        replay = store.writer(index, timeout=30)
        try:
            mark, _ = _apply_changes(replay, mark)
        except BaseException:
            replay.cancel()
            raise
        replay.commit(merge=False)
        store.write_meta(generation, applied_change_id=mark)
        store.swap_in(root, generation)
        return indexed


def _check_complete(generation: Path, indexed: int) -> None:
    # A sub-writer that died loses its documents without an error: never swap in an index missing listings.
    with whoosh_index.open_dir(str(generation)).reader() as reader:
        if reader.doc_count_all() < indexed:
            raise RuntimeError(f"the new index holds {reader.doc_count_all()} of {indexed} listings: not swapped in")


def ensure_index() -> bool:
    """Rebuild when the index is missing, corrupt, of an old schema or built with another care vocabulary;
    returns True when it rebuilt."""
    try:
        store.open_current(index_root()).close()
        store.check_vocabulary(store.current_path(index_root()).resolve())
        return False
    except store.IndexUnavailable as reason:
        current_app.logger.warning("rebuilding the search index: %s", reason)
        rebuild()
        return True


def published_guide_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Guide.id)).where(Guide.state == GuideState.PUBLISHED))


def index_status() -> dict:
    """What the index holds against the database: listings and guides missing, extra or stale in it."""
    from portal.models import public_services_clause

    index = store.open_current(index_root())
    with index.searcher() as searcher:
        stored = list(searcher.all_stored_fields())
    indexed = {fields["id"]: fields.get("updated", 0) for fields in stored}
    indexed_guides = sum(1 for fields in stored if fields.get("kind") == KIND_GUIDE)
    rows = db.session.execute(sa.select(Service.id, Service.updated_at).where(public_services_clause())).all()
    expected = {str(row.id): int(row.updated_at.timestamp()) for row in rows}
    guide_rows = db.session.execute(
        sa.select(Guide.id, Guide.content_updated_at, Guide.published_at).where(Guide.state == GuideState.PUBLISHED)
    ).all()
    expected_guides = {str(row.id): _timestamp(row.content_updated_at or row.published_at) for row in guide_rows}
    expected |= expected_guides
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "extra": sorted(set(indexed) - set(expected)),
        "stale": sorted(i for i in set(expected) & set(indexed) if indexed[i] < expected[i]),
        "indexed": len(indexed) - indexed_guides,
        "expected": len(expected) - len(expected_guides),
        "guides_indexed": indexed_guides,
        "guides_expected": len(expected_guides),
    }


def _timestamp(moment) -> int:
    return int(moment.timestamp()) if moment else 0
