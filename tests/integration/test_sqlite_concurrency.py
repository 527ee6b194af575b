"""SQLite under several workers: a request that reads and then writes must not fail because another process
wrote in between (SQLite refuses to upgrade such a read snapshot to a write at once, whatever the timeout)."""

from __future__ import annotations

import sqlalchemy as sa

from portal.data import search_log
from portal.extensions import db
from portal.models import SearchLog
from search import indexer
from tests.conftest import make_app
from tests.support.factories import make_service


def test_a_search_is_logged_even_when_another_worker_wrote_during_it(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    app = make_app(database, SEARCH_INDEX_DIR=str(tmp_path / "index"))
    other_worker = sa.create_engine(database)
    with app.app_context():
        service = make_service(name="Carers' café")
        db.session.commit()
        indexer.rebuild()
        service_id = service.id

    real_record = search_log.record_search

    def another_worker_writes_first(**entry):
        # Committed after this request read its result rows, just before it writes the log.
        with other_worker.begin() as connection:
            connection.execute(sa.text("UPDATE services SET summary = 'Tuesdays' WHERE id = :id"),
                               {"id": service_id.hex})
        return real_record(**entry)

    monkeypatch.setattr(search_log, "record_search", another_worker_writes_first)
    response = app.test_client().get("/services?q=carers")

    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SearchLog.id))) == 1
        db.session.remove()
        db.engine.dispose()
    other_worker.dispose()
