"""Apply published changes to the index right after the request that committed them.

For a single-process server (``make run``, tests) this makes a change searchable within the same request
cycle. In production set ``SEARCH_SYNC_AFTER_COMMIT=false`` and run ``flask search sync --follow`` as the
one indexer per node, so web workers never open a writer. Either way the change log is the source of truth:
if this sync fails or the process dies, the next sync applies the change.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.models import ListingChange

_FLAG = "listing_changes_pending"


@event.listens_for(Session, "after_flush")
def _note_listing_changes(session, flush_context):
    if any(isinstance(obj, ListingChange) for obj in session.new):
        session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
def _remember_committed_changes(session):
    if session.info.pop(_FLAG, False):
        try:
            g.search_sync_needed = True
        except RuntimeError:  # committed outside a request or app context (a script): nothing to schedule
            pass


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session):
    session.info.pop(_FLAG, None)


def _sync_after_request(error: BaseException | None) -> None:
    if not g.pop("search_sync_needed", False):
        return
    from search import indexer, store

    try:
        indexer.sync()
        indexer.tidy()  # the change is searchable already: merging small segments now delays nobody's search
    except store.IndexUnavailable:
        if not store.current_path(indexer.index_root()).exists():
            return  # never built yet (a fresh install loading data): the first rebuild or start-up builds it whole
        current_app.logger.warning("search index unavailable after a change; `flask search rebuild` will fix it")
    except Exception:  # the change is committed and logged: never fail the user's request over the index
        current_app.logger.exception("could not apply listing changes to the search index; the next sync will")


def init_app(app: Flask) -> None:
    if app.config.get("SEARCH_SYNC_AFTER_COMMIT", True):
        app.teardown_appcontext(_sync_after_request)
