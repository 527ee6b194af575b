"""Published council guides listed beside the services: the search page's Guides block (in the index's order)
and a category page's related guides. Read-only; the guides themselves are written in portal.data.guides."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Guide, GuideState, TaxonomyTerm, guide_categories

RELATED_GUIDES_LIMIT = 10


def published_guides_in_order(ids: Sequence[uuid.UUID]) -> list[Guide]:
    """The published guides with ``ids``, in that order. A guide withdrawn since the index last heard of it is
    left out rather than shown."""
    if not ids:
        return []
    found = {
        guide.id: guide
        for guide in db.session.scalars(
            sa.select(Guide).where(Guide.id.in_(list(ids)), Guide.state == GuideState.PUBLISHED)
        )
    }
    return [found[guide_id] for guide_id in ids if guide_id in found]


def _descendant_ids(term: TaxonomyTerm) -> sa.Select:
    tree = sa.select(TaxonomyTerm.id.label("term_id")).where(TaxonomyTerm.parent_id == term.id).cte(
        "descendants", recursive=True
    )
    child = aliased(TaxonomyTerm)
    tree = tree.union_all(sa.select(child.id).where(child.parent_id == tree.c.term_id))
    return sa.select(tree.c.term_id)


def guides_for_category(*, term: TaxonomyTerm, limit: int = RELATED_GUIDES_LIMIT) -> list[Guide]:
    """Published guides filed under ``term``, a category above it or one beneath it: those filed under the term
    itself first, then the rest, each alphabetically."""
    above = [ancestor.id for ancestor in term.ancestors()]
    related = sa.or_(
        guide_categories.c.term_id == term.id,
        guide_categories.c.term_id.in_(above),
        guide_categories.c.term_id.in_(_descendant_ids(term)),
    )
    guide_ids = sa.select(guide_categories.c.guide_id).where(related)
    direct = sa.select(guide_categories.c.guide_id).where(guide_categories.c.term_id == term.id)
    return list(
        db.session.scalars(
            sa.select(Guide)
            .where(Guide.state == GuideState.PUBLISHED, Guide.id.in_(guide_ids))
            .order_by(sa.case((Guide.id.in_(direct), 0), else_=1), Guide.title)
            .limit(limit)
        )
    )
