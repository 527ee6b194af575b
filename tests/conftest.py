"""Fixtures: the app on a real SQLite file and a real PostgreSQL, each test inside a rolled-back transaction.

Every test that takes ``app``, ``client`` or ``session`` runs twice: once on SQLite, once on PostgreSQL.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from portal import create_app
from portal.extensions import db, limiter
from tests.support.postgres import TemporaryPostgres

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server():
    server = TemporaryPostgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database("test_app")


@pytest.fixture(params=DATABASES)
def committed_database_url(request, tmp_path):
    """A fresh, empty database of each kind for one test whose work must really commit (concurrency tests):
    unlike ``session``, nothing is rolled back, so each test gets its own database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'committed.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"committed_{uuid.uuid4().hex[:12]}")


def make_app(database_url: str, **overrides):
    overrides.setdefault("SEARCH_INDEX_DIR", tempfile.mkdtemp(prefix="careportal-index-"))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    with app.app_context():
        upgrade()  # the schema comes from the migrations, on both databases
    return app


@pytest.fixture(scope="session")
def app(database_url):
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


class _BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session, but honouring an explicit bind: the test's outer connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is not None:
            return bind
        if self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, **kwargs)


@pytest.fixture
def session(app, tmp_path, request):
    """The test's database session. Requests in the test join the same outer transaction, which is rolled
    back at the end: a route's commit only releases a savepoint. After the test, the ledger's invariants are
    checked over everything it left (tests that break the ledger on purpose mark themselves `breaks_ledger`)."""
    app.config["SEARCH_INDEX_DIR"] = str(tmp_path / "search-index")
    limiter.reset()
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"class_": _BoundSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        try:
            yield db.session
            if request.node.get_closest_marker("breaks_ledger") is None:
                _assert_ledger_sound()
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


def _assert_ledger_sound() -> None:
    from portal.ledger import check_invariants

    if not db.session.is_active:  # the test ended inside a failed transaction: look at what was committed
        db.session.rollback()
    db.session.flush()
    problems = check_invariants()
    assert not problems, "the ledger is unsound after this test:\n" + "\n".join(problems)


class _IsolatedClient(FlaskClient):
    """Each request gets a fresh app context (fresh ``g``, fresh session scope), as in production; the test's
    own context would otherwise leak cached state such as the locale between requests. Requests share the
    test's connection, so they see its flushed rows and it sees their commits."""

    def open(self, *args, **kwargs):
        db.session.flush()  # what the test staged is visible to the request, as if committed
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()  # and the test sees what the request changed
        return response


@pytest.fixture
def client(app, session):
    app.test_client_class = _IsolatedClient
    return app.test_client()


@pytest.fixture
def dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the project: the ORUK schemas and real sample listings."""
    path = Path(__file__).resolve().parents[2] / "shared"
    if not path.is_dir():
        raise RuntimeError(f"expected the shared folder at {path}")
    return path


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
