"""Whoosh as the application runs it: ``search.indexer.rebuild()`` / ``sync()`` to write, and the query
engine's public function ``search.service_search.search_services`` (long-lived searcher, per-generation
filter sets) to search, inside a Flask app bound to a copy of the corpus."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa

from bench.baselines import Outcome
from bench.queries import QuerySpec


class WhooshEngine:
    name = "whoosh"

    def __init__(self, database_url: str, index_dir: Path) -> None:
        from portal import create_app

        self.index_dir = Path(index_dir)
        self.app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url,
                              SEARCH_INDEX_DIR=str(self.index_dir), SEARCH_SYNC_AFTER_COMMIT=False,
                              POSTCODE_CACHE_SECONDS=300)
        self.context = self.app.app_context()
        self.context.push()

    def close(self) -> None:
        from portal.extensions import db
        from search import searcher

        searcher.discard()
        db.session.remove()
        self.context.pop()

    def build(self, procs: int = 1) -> int:
        from portal.extensions import db
        from search import indexer

        count = indexer.rebuild()
        db.session.commit()
        return count

    def search(self, spec: QuerySpec) -> Outcome:
        from portal.extensions import db
        from search.service_search import Near, SearchRequest, Sort, search_services

        near = Near(spec.near[0], spec.near[1], spec.near[2]) if spec.near else None
        sort = Sort.DISTANCE if near is not None and not spec.text else Sort.RELEVANCE
        outcome = search_services(self.index_dir, SearchRequest(text=spec.text, filters=dict(spec.filters),
                                                                near=near, sort=sort, page=1, per_page=20))
        db.session.rollback()  # end the read transaction, as a request would
        return Outcome(ids=[str(i) for i in outcome.ids], total=outcome.total, counts=outcome.counts)

    def update_name(self, service_id: str, token: str) -> None:
        """Publish a change the way the app does (row + ListingChange in one commit), then run the indexer."""
        from portal.extensions import db
        from portal.models import ListingChange, Service, utcnow
        from search import indexer

        sid = uuid.UUID(service_id)
        db.session.execute(sa.update(Service).where(Service.id == sid)
                           .values(name=Service.name + " " + token, updated_at=utcnow()))
        db.session.add(ListingChange(subject_type="service", subject_id=sid))
        db.session.commit()
        indexer.sync()
        db.session.commit()

    def idle(self) -> None:
        """Between changes, as ``flask search sync --follow`` (and the after-request sync) does once a change is
        searchable: merge the small segments syncs left."""
        from portal.extensions import db
        from search import indexer

        indexer.tidy()
        db.session.rollback()

    def size_bytes(self) -> dict[str, int]:
        generation = (self.index_dir / "current").resolve()
        total = sum(path.stat().st_size for path in generation.rglob("*") if path.is_file())
        return {"index": total, "text_index": total}

    def public_ids(self) -> list[str]:
        from portal.extensions import db
        from portal.models import Service, public_services_clause

        ids = [str(i) for i in db.session.scalars(sa.select(Service.id).where(public_services_clause())
                                                    .order_by(Service.id))]
        db.session.rollback()
        return ids
