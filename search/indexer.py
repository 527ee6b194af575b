"""The single index writer: applies the listing change log, and rebuilds the index from the database.

Changes are read from ``listing_changes`` past the index's high-water mark and applied in one Whoosh commit,
reloading current rows (so repeated edits coalesce). A crash between a database commit and indexing loses
nothing: the next sync picks the rows up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from portal.extensions import db
from portal.models import ListingChange, Service, ServiceArea, ServiceAtLocation, TaxonomyTerm
from search import store
from search.documents import service_document

BATCH_SIZE = 500


def index_root() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def _load_services(ids: Iterable[UUID], session=None) -> list[Service]:
    return list(
        (session or db.session).scalars(
            sa.select(Service)
            .where(Service.id.in_(list(ids)))
            .options(
                selectinload(Service.organisation),
                selectinload(Service.taxonomy_terms)
                .selectinload(TaxonomyTerm.parent)
                .selectinload(TaxonomyTerm.parent),
                selectinload(Service.needs),
                selectinload(Service.languages),
                selectinload(Service.service_areas).selectinload(ServiceArea.locality),
                selectinload(Service.locations_at).selectinload(ServiceAtLocation.location),
                selectinload(Service.schedules),
                selectinload(Service.cost_options),
            )
        )
    )


def _public_service_ids_in_batches() -> Iterator[list[UUID]]:
    from portal.models import public_services_clause

    ids = list(db.session.scalars(sa.select(Service.id).where(public_services_clause()).order_by(Service.id)))
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def latest_change_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ListingChange.id), 0)))


def _apply_changes(writer, after: int) -> tuple[int, int]:
    """Write the documents for every change past ``after``; returns the new high-water mark and the number of
    change rows applied (ids have gaps: sequences skip rolled-back rows)."""
    changes = db.session.execute(
        sa.select(ListingChange.id, ListingChange.subject_id).where(ListingChange.id > after).order_by(ListingChange.id)
    ).all()
    if not changes:
        return after, 0
    subject_ids = {subject_id for _, subject_id in changes}
    services = {service.id: service for service in _load_services(subject_ids)}
    for subject_id in subject_ids:
        service = services.get(subject_id)
        if service is not None and service.is_public:
            writer.update_document(**service_document(service))
        else:
            writer.delete_by_term("id", str(subject_id))
    return changes[-1].id, len(changes)


def sync() -> int:
    """Apply pending changes to the current index; returns how many change rows were applied.

    Raises store.IndexUnavailable when there is no usable index (rebuild it)."""
    root = index_root()
    with store.writer_lock(root):
        index = store.open_current(root)
        generation = store.current_path(root).resolve()
        after = store.read_meta(generation).get("applied_change_id", 0)
        if latest_change_id() <= after:
            return 0
        writer = index.writer(timeout=30)
        try:
            new_mark, applied = _apply_changes(writer, after)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        store.write_meta(generation, applied_change_id=new_mark)
        return applied


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Build a new index generation from the database and swap it in; returns the number of listings indexed.

    Searches carry on against the old generation meanwhile; changes committed during the build are replayed."""
    root = index_root()
    with store.writer_lock(root):
        mark = latest_change_id()
        generation, index = store.new_generation(root)
        writer = index.writer()
        indexed = 0
        # A side session on the same connection: its identity map is emptied after each batch to keep memory
        # flat on a large directory, without detaching the caller's objects.
        reader = Session(bind=db.session.connection())
        try:
            for batch in _public_service_ids_in_batches():
                for service in _load_services(batch, reader):
                    writer.add_document(**service_document(service))
                indexed += len(batch)
                if progress:
                    progress(len(batch))
                reader.expunge_all()
            mark, _ = _apply_changes(writer, mark)
        except BaseException:
            writer.cancel()
            raise
        finally:
            reader.close()
        writer.commit()
        store.write_meta(generation, applied_change_id=mark)
        store.swap_in(root, generation)
        return indexed


def ensure_index() -> bool:
    """Rebuild when the index is missing, corrupt or of an old schema; returns True when it rebuilt."""
    try:
        store.open_current(index_root()).close()
        return False
    except store.IndexUnavailable as reason:
        current_app.logger.warning("rebuilding the search index: %s", reason)
        rebuild()
        return True


def index_status() -> dict:
    """What the index holds against the database: listings missing, extra or stale in it."""
    from portal.models import public_services_clause

    index = store.open_current(index_root())
    with index.searcher() as searcher:
        indexed = {fields["id"]: fields.get("updated", 0) for fields in searcher.all_stored_fields()}
    rows = db.session.execute(sa.select(Service.id, Service.updated_at).where(public_services_clause())).all()
    expected = {str(row.id): int(row.updated_at.timestamp()) for row in rows}
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "extra": sorted(set(indexed) - set(expected)),
        "stale": sorted(i for i in set(expected) & set(indexed) if indexed[i] < expected[i]),
        "indexed": len(indexed),
        "expected": len(expected),
    }
