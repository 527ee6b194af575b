"""The index survives what production does to it: several writers, crashes, and rebuilds under searching.

These run against a committed SQLite file and real processes (`flask search ...`), because the failures they
guard against happen between processes, not inside one transaction.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from whoosh.query import Every

from portal.extensions import db
from portal.models import ListingChange, Service
from search import indexer, store
from tests.conftest import make_app
from tests.support.factories import make_organisation, make_service

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def file_app(tmp_path):
    database = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    app = make_app(database, SEARCH_INDEX_DIR=str(tmp_path / "index"), SEARCH_SYNC_AFTER_COMMIT=False)
    with app.app_context():
        organisation = make_organisation(name="Aldermoor Carers")
        for number in range(30):
            make_service(organisation=organisation, name=f"Carers group {number}")
        db.session.commit()
        indexer.rebuild()
        yield app
        db.session.remove()
        db.engine.dispose()


def flask_command(app, *args: str, **popen) -> subprocess.Popen:
    env = os.environ | {
        "PORTAL_CONFIG": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
    }
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def publish_new_services(count: int, prefix: str) -> list[str]:
    organisation = make_organisation(name=f"{prefix} trust")
    ids = []
    for number in range(count):
        service = make_service(organisation=organisation, name=f"{prefix} {number}")
        db.session.add(ListingChange(subject_id=service.id))
        ids.append(str(service.id))
    db.session.commit()
    return ids


def test_several_indexer_processes_at_once_lose_nothing_and_never_fail(file_app):
    """Two nodes' timers, or a timer and --follow, may fire together: the writer lock serialises them."""
    with file_app.app_context():
        published = publish_new_services(40, "Day opportunities")
        processes = [flask_command(file_app, "search", "sync") for _ in range(3)]
        results = [process.communicate(timeout=120) + (process.returncode,) for process in processes]
        assert [code for _, _, code in results] == [0, 0, 0], results
        status = indexer.index_status()
        assert status["missing"] == [] and status["extra"] == [] and status["stale"] == []
        assert set(published) <= set(_indexed_ids(file_app))


def test_a_change_committed_before_a_crash_is_applied_by_the_next_sync(file_app):
    """The process died after the database commit and before indexing: the change log still holds it."""
    with file_app.app_context():
        [service_id] = publish_new_services(1, "Reablement at home")
        assert service_id not in _indexed_ids(file_app)

        process = flask_command(file_app, "search", "sync")
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert service_id in _indexed_ids(file_app)


def test_a_writer_killed_mid_write_leaves_no_lock_and_no_half_update(file_app):
    killer = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from search import store\n"
        "root = Path(sys.argv[1])\n"
        "with store.writer_lock(root):\n"
        "    writer = store.open_current(root).writer()\n"
        "    writer.add_document(id='half-written', kind='service', name='never committed')\n"
        "    os._exit(9)\n"
    )
    with file_app.app_context():
        root = Path(file_app.config["SEARCH_INDEX_DIR"])
        crashed = subprocess.run([sys.executable, "-c", killer, str(root)], cwd=PROJECT, timeout=60)
        assert crashed.returncode == 9
        [service_id] = publish_new_services(1, "Shared lives")

        assert indexer.sync() == 1  # neither our lock nor Whoosh's was left behind
        ids = _indexed_ids(file_app)
        assert service_id in ids and "half-written" not in ids


def test_searches_carry_on_during_a_rebuild_and_see_the_new_index_after(file_app):
    with file_app.app_context():
        root = Path(file_app.config["SEARCH_INDEX_DIR"])
        before = store.open_current(root)
        searcher = before.searcher()
        published = publish_new_services(5, "Extra care housing")

        failures: list[BaseException] = []
        counts: list[int] = []
        stop = threading.Event()

        def keep_searching():
            while not stop.is_set():
                try:
                    counts.append(len(searcher.search(Every(), limit=None)))
                except BaseException as error:  # noqa: BLE001 - any failure is the finding
                    failures.append(error)
                    return

        thread = threading.Thread(target=keep_searching)
        thread.start()
        try:
            indexer.rebuild()
        finally:
            stop.set()
            thread.join(timeout=30)
        assert failures == []
        assert counts and set(counts) == {30}  # the old generation answered throughout, unchanged
        assert len(searcher.search(Every(), limit=None)) == 30
        searcher.close()

        assert set(published) <= set(_indexed_ids(file_app))  # a fresh searcher sees the swapped-in index
        assert store.read_meta(store.current_path(root).resolve())["applied_change_id"] == _latest_change()


def _indexed_ids(app) -> list[str]:
    index = store.open_current(Path(app.config["SEARCH_INDEX_DIR"]))
    with index.searcher() as searcher:
        return [fields["id"] for fields in searcher.all_stored_fields()]


def _latest_change() -> int:
    return db.session.scalar(sa.select(sa.func.max(ListingChange.id)))


def test_the_index_only_holds_public_services(file_app):
    with file_app.app_context():
        assert len(_indexed_ids(file_app)) == db.session.scalar(sa.select(sa.func.count(Service.id)))


def test_a_listing_changed_or_unpublished_during_a_rebuild_is_indexed_once_and_correctly(file_app, monkeypatch):
    """Edits that arrive while a rebuild runs are replayed on the new index without duplicates."""
    from portal.models import ServiceStatus

    with file_app.app_context():
        services = db.session.scalars(sa.select(Service).order_by(Service.name)).all()
        edited, closed = services[0], services[1]
        original_batches = indexer._public_service_ids_in_batches

        def batches_then_edit():
            batches = list(original_batches())
            # Published while the build is under way: after the ids were read, before the replay.
            edited.summary = "Now meeting on Thursdays"
            closed.status = ServiceStatus.DEFUNCT
            db.session.add_all([ListingChange(subject_id=edited.id), ListingChange(subject_id=closed.id)])
            db.session.commit()
            yield from batches

        monkeypatch.setattr(indexer, "_public_service_ids_in_batches", batches_then_edit)
        indexer.rebuild()

        ids = _indexed_ids(file_app)
        assert ids.count(str(edited.id)) == 1
        assert str(closed.id) not in ids
