"""The search index is derived from the database through the change log and rebuilt safely."""

from pathlib import Path

from flask import current_app
from whoosh.query import Term

from portal.models import ListingChange, ServiceStatus
from search import indexer, store
from tests.support.factories import make_organisation, make_service, make_term


def indexed_ids() -> set[str]:
    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    with index.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


def publish(session, service) -> None:
    session.add(ListingChange(subject_id=service.id))
    session.flush()


def test_a_rebuild_indexes_only_public_listings(session):
    visible = make_service(name="Riverside day centre")
    make_service(name="Closed club", status=ServiceStatus.INACTIVE)
    make_service(name="Unapproved agency", organisation=make_organisation(approved=False))

    assert indexer.rebuild() == 1
    assert indexed_ids() == {str(visible.id)}


def test_a_published_change_reaches_the_index_on_sync(session):
    indexer.rebuild()
    service = make_service(name="Carers' café")
    publish(session, service)

    assert indexer.sync() == 1
    assert str(service.id) in indexed_ids()
    assert indexer.sync() == 0  # nothing pending: a second sync is a no-op


def test_unpublishing_removes_the_listing_on_sync(session):
    service = make_service(name="Befriending by phone")
    indexer.rebuild()
    service.status = ServiceStatus.DEFUNCT
    publish(session, service)

    indexer.sync()
    assert str(service.id) not in indexed_ids()


def test_a_parent_category_includes_its_children(session):
    parent = make_term(name="Short breaks")
    child = make_term(name="Overnight respite", parent=parent)
    service = make_service(name="Oak house")
    service.taxonomy_terms.append(child)
    session.flush()
    indexer.rebuild()

    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    with index.searcher() as searcher:
        hits = searcher.search(Term("categories", parent.slug))
        assert [hit["id"] for hit in hits] == [str(service.id)]


def test_a_corrupt_or_missing_index_is_rebuilt_at_start(session):
    service = make_service(name="Dementia café")
    assert indexer.ensure_index() is True  # nothing there yet
    assert indexer.ensure_index() is False

    generation = store.current_path(Path(current_app.config["SEARCH_INDEX_DIR"])).resolve()
    for segment in generation.glob("*.seg"):
        segment.write_bytes(b"not an index")
    for toc in generation.glob("*.toc"):
        toc.write_bytes(b"garbage")
    assert indexer.ensure_index() is True
    assert indexed_ids() == {str(service.id)}


def test_check_reports_missing_and_stale_listings(session):
    first = make_service(name="Home care west")
    indexer.rebuild()
    second = make_service(name="Home care east")  # committed without a change-log row: missing

    status = indexer.index_status()
    assert status["missing"] == [str(second.id)]
    assert status["extra"] == []
    assert str(first.id) not in status["stale"]


def test_a_rebuild_in_several_chunks_indexes_every_public_listing_once(session, monkeypatch):
    from search.service_search import SearchRequest, search_services

    services = [make_service(name=f"Chunked lunch club {number}") for number in range(7)]
    make_service(name="Chunked lunch club closed", status=ServiceStatus.INACTIVE)
    monkeypatch.setattr(indexer, "BATCH_SIZE", 2)
    monkeypatch.setattr(indexer, "REBUILD_CHUNK", 3)  # chunks of 4, 4: each its own commit and segment

    assert indexer.rebuild() == 7
    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    assert len(index._segments()) >= 2
    assert indexed_ids() == {str(service.id) for service in services}
    outcome = search_services(Path(current_app.config["SEARCH_INDEX_DIR"]), SearchRequest(text="chunked lunch"))
    assert outcome.total == 7


def test_merging_small_segments_after_syncs_keeps_every_listing_once(session):
    indexer.rebuild()
    services = []
    for number in range(indexer.MERGE_FROM_SEGMENTS + 1):
        services.append(make_service(name=f"Tidy walking group {number}"))
        publish(session, services[-1])
        indexer.sync()
    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    before = len(index._segments())

    assert indexer.tidy() is True
    assert len(store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))._segments()) < before
    assert indexed_ids() >= {str(service.id) for service in services}
    assert indexer.tidy() is False  # nothing left to merge
