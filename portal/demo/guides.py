"""The demo borough's starter guides (portal/demo/data/guides.json), published through portal.data.guides.

Each guide has a stable id (uuid5 of its slug). Loading again changes nothing unless the text in the JSON file
changed, in which case the new text is published as a new version (with its ListingChange for the indexer).
The review-by date is set when a guide is first loaded (``review_in_days`` from that day; one guide is
deliberately overdue so the "due for review" pages have something to show) and kept afterwards.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.data import guides
from portal.demo.generator import demo_uuid, load_json
from portal.extensions import db
from portal.models import Guide, TaxonomyTerm


def _term_ids(slugs: list[str]) -> list[str]:
    found = dict(db.session.execute(
        sa.select(TaxonomyTerm.slug, TaxonomyTerm.id).where(TaxonomyTerm.slug.in_(slugs))).all())
    return [str(found[slug]) for slug in slugs if slug in found]


def load_guides(*, today: date) -> dict[str, int]:
    """Create or bring up to date the demo guides, published. Returns how many were created and changed."""
    counts = {"created": 0, "changed": 0}
    for item in load_json("guides")["guides"]:
        guide_id = demo_uuid("guide", item["slug"])
        guide = db.session.get(Guide, guide_id)
        values = {name: item.get(name, "") for name in guides.TEXT_FIELDS}
        values["safeguarding"] = bool(item.get("safeguarding"))
        values["categories"] = _term_ids(item.get("categories", []))
        if guide is None:
            values["review_by"] = today + timedelta(days=item.get("review_in_days", 365))
            # A stable id and address, so a reload finds the same guide.
            guide = guides.create_guide(actor=None, values=values, guide_id=guide_id, slug=item["slug"])
            guides.publish(actor=None, guide=guide, note="Demo starter guide")
            counts["created"] += 1
            continue
        values["review_by"] = guide.review_by
        if guides.normalise_content(values) != guides.published_content(guide) or guide.state.value != "published":
            guides.save_draft(actor=None, guide=guide, values=values)
            guides.publish(actor=None, guide=guide, note="Demo starter guide updated")
            counts["changed"] += 1
    return counts
