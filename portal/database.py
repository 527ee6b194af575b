"""Database behaviour that must hold the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.engine import Engine


@sa.event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not _is_sqlite(dbapi_connection):
        return
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so savepoints and
    # rollbacks behave as on PostgreSQL; enforce foreign keys; wait for a writer instead of failing;
    # write-ahead logging so readers in other processes (the indexer, other workers) never block a writer
    # (an in-memory database answers "memory" and carries on).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


@sa.event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection):
    if connection.dialect.name == "sqlite":
        # A request that may write takes the write lock up front (waiting its turn under the busy timeout):
        # a deferred transaction that reads and then writes fails at once if another process wrote meanwhile.
        # Reading requests stay deferred, so they never wait for writers (WAL).
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _in_writing_request() else "BEGIN")


def _in_writing_request() -> bool:
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")

