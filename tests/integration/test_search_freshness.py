"""A change committed in a request is in the index when that request ends (single-process servers)."""

from pathlib import Path

from flask import current_app

from portal.extensions import db
from portal.models import ListingChange
from search import indexer, store
from tests.support.factories import make_service


def indexed_ids() -> set[str]:
    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    with index.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


def test_a_listing_published_in_a_request_is_searchable_when_the_request_ends(app, session):
    indexer.rebuild()
    with app.app_context(), app.test_request_context("/"):
        service = make_service(name="Shared Lives carers")
        db.session.add(ListingChange(subject_id=service.id))
        db.session.commit()
        service_id = str(service.id)
        assert service_id not in indexed_ids()  # not before the request ends...
    assert service_id in indexed_ids()  # ...and straight after it


def test_a_rolled_back_change_never_reaches_the_index(app, session):
    indexer.rebuild()
    with app.app_context(), app.test_request_context("/"):
        service = make_service(name="Never published")
        db.session.add(ListingChange(subject_id=service.id))
        db.session.flush()
        service_id = str(service.id)
        db.session.rollback()
    assert service_id not in indexed_ids()


def test_a_broken_index_does_not_fail_the_request_that_changed_a_listing(app, session, caplog):
    """The change is safe in the change log; the index catches up on the next sync or rebuild."""
    root = Path(current_app.config["SEARCH_INDEX_DIR"])
    (root / "broken").mkdir(parents=True)
    store.current_path(root).symlink_to(root / "broken")  # a generation with no index in it
    with app.app_context(), app.test_request_context("/"):
        service = make_service(name="Telecare")
        db.session.add(ListingChange(subject_id=service.id))
        db.session.commit()
    assert "search index unavailable" in caplog.text


def test_loading_data_before_the_first_index_build_logs_no_warning(app, session, caplog):
    """A fresh install loads its data, then builds the index whole: nothing was missed, so nothing to warn about."""
    with app.app_context(), app.test_request_context("/"):
        service = make_service(name="Befriending")
        db.session.add(ListingChange(subject_id=service.id))
        db.session.commit()
    assert "search index unavailable" not in caplog.text
    assert not store.current_path(Path(current_app.config["SEARCH_INDEX_DIR"])).exists()
