"""Council guides: drafts, publishing with history, withdrawal, restoring, stale guides, the public queries and
"Is this page useful?" feedback.

A guide's public fields (title, summary, body, Welsh, safeguarding, review-by date, categories) change only in
``publish``; every edit before that lives in ``Guide.draft``, a dict in the same shape as ``GuideVersion.data``
(see ``CONTENT_FIELDS``), so a draft never reaches the public page. Each publish appends a ``GuideVersion``;
each publish or withdrawal appends a ``ListingChange(subject_type="guide")`` for the search indexer, in the
same transaction. Every change is audited. Nothing here commits.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from portal import richtext
from portal.data import audit
from portal.data.directory import _term_tree
from portal.data.feedback_scrub import scrub
from portal.extensions import db
from portal.models import (
    ChangeKind,
    Guide,
    GuideFeedback,
    GuideState,
    GuideVersion,
    ListingChange,
    Service,
    TaxonomyTerm,
    public_services_clause,
    utcnow,
)
from portal.models.directory import service_taxonomy_terms

SUBJECT_TYPE = "guide"
TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 50_000
COMMENT_MAX = 2000
NOTE_MAX = 255
SLUG_MAX = 120

# The content of a draft or a published version; the same keys in Guide.draft and GuideVersion.data.
TEXT_FIELDS = ("title", "summary", "body", "title_cy", "summary_cy", "body_cy")
CONTENT_FIELDS = (*TEXT_FIELDS, "safeguarding", "review_by", "categories")
FIELD_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "body": _l("Guide text"),
    "title_cy": _l("Welsh title"),
    "summary_cy": _l("Welsh summary"),
    "body_cy": _l("Welsh guide text"),
    "safeguarding": _l("Safeguarding guide"),
    "review_by": _l("Review by"),
    "categories": _l("Categories"),
}
STATE_LABELS = {
    GuideState.DRAFT: _l("Draft"),
    GuideState.PUBLISHED: _l("Published"),
    GuideState.WITHDRAWN: _l("Withdrawn"),
}


class GuideError(Exception):
    """Base of the guide domain's errors."""


class NothingToPublish(GuideError):
    """The guide is published and has no draft: there is no change to publish."""


class IncompleteGuide(GuideError):
    """The content lacks a title, summary or text (or Welsh title without Welsh text): it cannot be published."""


class NotPublished(GuideError):
    """Only a published guide can be withdrawn."""


class VersionNotFound(GuideError):
    """The guide has no published version with that number."""


# --- content dicts -------------------------------------------------------------------------------------------


def empty_content() -> dict:
    return {"title": "", "summary": "", "body": "", "title_cy": "", "summary_cy": "", "body_cy": "",
            "safeguarding": False, "review_by": None, "categories": []}


def normalise_content(values: dict) -> dict:
    """``values`` as stored content: every key present, text stripped, the guide texts sanitised (raw HTML and
    bad links removed, what the editor typed otherwise kept), the date as ISO text, category ids as sorted text."""
    content = empty_content()
    for name in TEXT_FIELDS:
        content[name] = (values.get(name) or "").strip()
    for name in ("body", "body_cy"):  # summaries are plain text, escaped wherever they are shown
        content[name] = richtext.sanitise(content[name])
    content["safeguarding"] = bool(values.get("safeguarding"))
    review_by = values.get("review_by")
    content["review_by"] = review_by.isoformat() if isinstance(review_by, date) else (review_by or None)
    content["categories"] = sorted({str(term_id) for term_id in values.get("categories") or []})
    return content


def published_content(guide: Guide) -> dict:
    """The guide's public content as a content dict (empty text when it has never been published)."""
    return normalise_content({
        **{name: getattr(guide, name) for name in TEXT_FIELDS},
        "safeguarding": guide.safeguarding,
        "review_by": guide.review_by,
        "categories": [term.id for term in guide.categories],
    })


def working_content(guide: Guide) -> dict:
    """What the editor works on: the draft if there is one, else the published content."""
    return normalise_content(guide.draft) if guide.draft else published_content(guide)


def review_date(content: dict) -> date | None:
    value = content.get("review_by")
    return date.fromisoformat(value) if value else None


def has_welsh(content: dict) -> bool:
    return bool(content["title_cy"].strip() and content["body_cy"].strip())


def problems_with(content: dict) -> list[str]:
    """Why ``content`` cannot be published, in GOV.UK wording (empty when it can)."""
    problems = []
    if not content["title"]:
        problems.append(str(_l("Enter a title")))
    if not content["summary"]:
        problems.append(str(_l("Enter a summary")))
    if not content["body"]:
        problems.append(str(_l("Enter the guide text")))
    if not content["review_by"]:
        problems.append(str(_l("Enter the review-by date")))
    if any(content[name] for name in ("title_cy", "summary_cy", "body_cy")) and not has_welsh(content):
        problems.append(str(_l("Enter the Welsh title and Welsh guide text, or leave all the Welsh fields empty")))
    return problems


def terms_by_id(ids: Sequence[str]) -> list[TaxonomyTerm]:
    wanted = [uuid.UUID(value) for value in ids]
    if not wanted:
        return []
    return list(db.session.scalars(
        sa.select(TaxonomyTerm).where(TaxonomyTerm.id.in_(wanted)).order_by(TaxonomyTerm.position, TaxonomyTerm.name)
    ))


# --- slugs -------------------------------------------------------------------------------------------------


def _slug_taken(slug: str, guide_id: uuid.UUID | None) -> bool:
    query = sa.select(Guide.id).where(Guide.slug == slug)
    if guide_id is not None:
        query = query.where(Guide.id != guide_id)
    return db.session.scalar(query) is not None


def unique_slug(title: str, *, guide_id: uuid.UUID | None = None) -> str:
    """A URL slug from ``title`` ("Paying for care" -> "paying-for-care"), unique among guides."""
    base = richtext.heading_id(title, set())[:SLUG_MAX - 4].strip("-")
    if base.startswith("section-") and not title.lower().startswith("section"):
        base = base.removeprefix("section-")  # a title starting with a digit keeps its digits
    base = base or "guide"
    candidate, number = base, 2
    while _slug_taken(candidate, guide_id):
        candidate, number = f"{base}-{number}", number + 1
    return candidate


# --- editing -------------------------------------------------------------------------------------------------


def create_guide(*, actor, values: dict, guide_id: uuid.UUID | None = None, slug: str | None = None) -> Guide:
    """A new guide, never published, holding ``values`` as its draft. Its slug comes from the title (or is
    ``slug``, when free) and follows the title until the first publication. ``guide_id``: for demo data."""
    content = normalise_content(values)
    now = utcnow()
    guide = Guide(
        id=guide_id or uuid.uuid4(),
        slug=slug if slug and not _slug_taken(slug, None) else unique_slug(content["title"]),
        state=GuideState.DRAFT, title="", summary="", body="",
        draft=content, draft_updated_at=now, draft_updated_by_id=getattr(actor, "id", None),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(guide)
    db.session.flush()
    audit.record(actor=actor, action="guide.created", subject=guide, after={"slug": guide.slug, **content})
    return guide


def save_draft(*, actor, guide: Guide, values: dict) -> Guide:
    """Keep ``values`` as the guide's draft; the published content does not change."""
    before = working_content(guide)
    content = normalise_content(values)
    guide.draft = content
    guide.draft_updated_at = utcnow()
    guide.draft_updated_by_id = getattr(actor, "id", None)
    if guide.published_at is None:  # the address is stable once people may have bookmarked it
        guide.slug = unique_slug(content["title"], guide_id=guide.id)
    audit.record(actor=actor, action="guide.draft_saved", subject=guide, before=before, after=content)
    db.session.flush()
    return guide


def discard_draft(*, actor, guide: Guide) -> None:
    """Forget the draft of a guide that has been published (a never-published guide's draft is all it has)."""
    if guide.draft is None or guide.version == 0:
        return
    audit.record(actor=actor, action="guide.draft_discarded", subject=guide, before=guide.draft)
    guide.draft = None
    guide.draft_updated_at = None
    guide.draft_updated_by_id = None


def _note_change(guide: Guide, kind: ChangeKind) -> None:
    db.session.add(ListingChange(subject_type=SUBJECT_TYPE, subject_id=guide.id, kind=kind))


def publish(*, actor, guide: Guide, note: str = "") -> GuideVersion:
    """Publish the draft (or, for a withdrawn guide with no draft, its last published content again).

    Raises NothingToPublish when a published guide has no draft, IncompleteGuide when the content lacks what
    a page needs."""
    if guide.draft:
        content = normalise_content(guide.draft)
    elif guide.state is GuideState.WITHDRAWN:
        content = published_content(guide)
    else:
        raise NothingToPublish(guide.slug)
    problems = problems_with(content)
    if problems:
        raise IncompleteGuide("; ".join(problems))
    before = {"state": guide.state, **published_content(guide)}
    now = utcnow()
    for name in TEXT_FIELDS:
        setattr(guide, name, content[name])
    guide.safeguarding = content["safeguarding"]
    guide.review_by = review_date(content)
    guide.categories = terms_by_id(content["categories"])
    guide.state = GuideState.PUBLISHED
    guide.published_at = guide.published_at or now
    guide.content_updated_at = now
    guide.version += 1
    guide.draft = None
    guide.draft_updated_at = None
    guide.draft_updated_by_id = None
    version = GuideVersion(guide_id=guide.id, number=guide.version, data=content, published_at=now,
                           published_by_id=getattr(actor, "id", None), note=(note or "").strip()[:NOTE_MAX])
    db.session.add(version)
    _note_change(guide, ChangeKind.UPSERT)
    audit.record(actor=actor, action="guide.published", subject=guide, before=before,
                 after={"state": guide.state, **content}, details={"version": version.number, "note": version.note})
    db.session.flush()
    return version


def withdraw(*, actor, guide: Guide) -> None:
    """Take a published guide off the site and out of search. Its history and any draft are kept.

    Raises NotPublished unless the guide is published."""
    if guide.state is not GuideState.PUBLISHED:
        raise NotPublished(guide.slug)
    guide.state = GuideState.WITHDRAWN
    _note_change(guide, ChangeKind.DELETE)
    audit.record(actor=actor, action="guide.withdrawn", subject=guide, before={"state": GuideState.PUBLISHED},
                 after={"state": GuideState.WITHDRAWN})
    db.session.flush()


def restore_version(*, actor, guide: Guide, number: int) -> GuideVersion:
    """Copy an old version's content into the draft, to check and publish. Nothing public changes.

    Raises VersionNotFound."""
    version = version_of(guide, number)
    before = working_content(guide)
    guide.draft = normalise_content(version.data)
    guide.draft_updated_at = utcnow()
    guide.draft_updated_by_id = getattr(actor, "id", None)
    audit.record(actor=actor, action="guide.version_restored_to_draft", subject=guide, before=before,
                 after=guide.draft, details={"version": number})
    db.session.flush()
    return version


# --- history -------------------------------------------------------------------------------------------------


def versions_of(guide: Guide) -> list[GuideVersion]:
    """Published versions, newest first."""
    return list(db.session.scalars(
        sa.select(GuideVersion).where(GuideVersion.guide_id == guide.id).order_by(GuideVersion.number.desc())
        .options(selectinload(GuideVersion.published_by))
    ))


def version_of(guide: Guide, number: int) -> GuideVersion:
    """Raises VersionNotFound."""
    version = db.session.scalar(
        sa.select(GuideVersion).where(GuideVersion.guide_id == guide.id, GuideVersion.number == number)
    )
    if version is None:
        raise VersionNotFound(f"{guide.slug} v{number}")
    return version


@dataclass(frozen=True)
class Difference:
    field: str
    before: str
    after: str
    removed_lines: list[str]
    added_lines: list[str]

    @property
    def label(self) -> str:
        return str(FIELD_LABELS.get(self.field, self.field))


def _readable(field: str, value, term_names: dict[str, str]) -> str:
    if field == "categories":
        return ", ".join(term_names.get(term_id, term_id) for term_id in value or [])
    if field == "safeguarding":
        return str(_l("Yes")) if value else str(_l("No"))
    return value or ""


def differences(before: dict | None, after: dict) -> list[Difference]:
    """What changed from ``before`` (None: nothing published before) to ``after``, field by field, with the
    lines taken out and put in for long texts."""
    old, new = normalise_content(before or {}), normalise_content(after)
    ids = set(old["categories"]) | set(new["categories"])
    term_names = {str(term.id): term.name for term in terms_by_id(sorted(ids))}
    found = []
    for field in CONTENT_FIELDS:
        if old[field] == new[field]:
            continue
        was, now = _readable(field, old[field], term_names), _readable(field, new[field], term_names)
        removed, added = [], []
        if field in TEXT_FIELDS:
            for line in difflib.ndiff(was.splitlines(), now.splitlines()):
                if line.startswith("- ") and line[2:].strip():
                    removed.append(line[2:])
                elif line.startswith("+ ") and line[2:].strip():
                    added.append(line[2:])
        found.append(Difference(field, was, now, removed, added))
    return found


def previous_data(guide: Guide, number: int) -> dict | None:
    if number <= 1:
        return None
    try:
        return version_of(guide, number - 1).data
    except VersionNotFound:
        return None


# --- lists for editors ---------------------------------------------------------------------------------------


def find_guide(guide_id: uuid.UUID) -> Guide | None:
    return db.session.get(Guide, guide_id)


def is_due_for_review(guide: Guide, today: date) -> bool:
    """A published guide whose review-by date has passed."""
    return guide.state is GuideState.PUBLISHED and guide.review_by is not None and guide.review_by < today


def _due_clause(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(Guide.state == GuideState.PUBLISHED, Guide.review_by.is_not(None), Guide.review_by < today)


def all_guides() -> list[Guide]:
    """Every guide for the editors' list: published and drafts by title, withdrawn last."""
    guides = db.session.scalars(sa.select(Guide).options(selectinload(Guide.draft_updated_by))).all()
    order = {GuideState.PUBLISHED: 0, GuideState.DRAFT: 1, GuideState.WITHDRAWN: 2}
    return sorted(guides, key=lambda g: (order[g.state], working_title(g).lower()))


def due_for_review(today: date) -> list[Guide]:
    """Published guides past their review-by date, longest overdue first."""
    return list(db.session.scalars(sa.select(Guide).where(_due_clause(today)).order_by(Guide.review_by, Guide.title)))


def due_for_review_count(today: date) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Guide).where(_due_clause(today))) or 0


def working_title(guide: Guide) -> str:
    """The title an editor knows the guide by: the draft's when there is one."""
    if guide.draft and guide.draft.get("title"):
        return guide.draft["title"]
    return guide.title or guide.slug


# --- public --------------------------------------------------------------------------------------------------


def public_guide(slug: str) -> Guide | None:
    """The published guide at ``slug``, or None (drafts and withdrawn guides are not public)."""
    return db.session.scalar(sa.select(Guide).where(Guide.slug == slug, Guide.state == GuideState.PUBLISHED))


def published_guides() -> list[Guide]:
    return list(db.session.scalars(
        sa.select(Guide).where(Guide.state == GuideState.PUBLISHED).order_by(sa.func.lower(Guide.title))
    ))


@dataclass(frozen=True)
class GuideGroup:
    term: TaxonomyTerm | None  # a top-level category; None for guides in no category
    guides: list[Guide]


def published_guides_by_category() -> list[GuideGroup]:
    """Published guides under the top-level category of each of their categories (a guide may appear under
    several), categories in their usual order, then guides in no category."""
    groups: dict[uuid.UUID | None, list[Guide]] = {}
    roots: dict[uuid.UUID, TaxonomyTerm] = {}
    for guide in published_guides():
        guide_roots = {}
        for term in guide.categories:
            root = (term.ancestors() or [term])[-1]
            guide_roots[root.id] = root
        roots.update(guide_roots)
        for key in guide_roots or [None]:
            groups.setdefault(key, []).append(guide)
    ordered = sorted(roots.values(), key=lambda term: (term.position, term.name))
    found = [GuideGroup(term, groups[term.id]) for term in ordered]
    if None in groups:
        found.append(GuideGroup(None, groups[None]))
    return found


def services_for(guide: Guide, *, limit: int = 5) -> list[Service]:
    """A few public services filed under the guide's categories or beneath them, alphabetically."""
    if not guide.categories:
        return []
    tree = _term_tree(sa.select(TaxonomyTerm.id.label("root_id"), TaxonomyTerm.id.label("term_id")).where(
        TaxonomyTerm.id.in_([term.id for term in guide.categories])
    ))
    in_tree = Service.id.in_(sa.select(service_taxonomy_terms.c.service_id).where(
        service_taxonomy_terms.c.taxonomy_term_id.in_(sa.select(tree.c.term_id))
    ))
    return list(db.session.scalars(
        sa.select(Service).where(public_services_clause(), in_tree)
        .order_by(sa.func.lower(Service.name), Service.id).limit(limit)
        .options(selectinload(Service.organisation))
    ))


def record_feedback(*, guide: Guide, useful: bool | None, comment: str, locale: str) -> GuideFeedback:
    """Store an answer to "Is this page useful?", the comment stripped of personal data first."""
    feedback = GuideFeedback(guide_id=guide.id, useful=useful, comment=scrub(comment)[:COMMENT_MAX],
                             locale=locale[:5])
    db.session.add(feedback)
    db.session.flush()
    return feedback


@dataclass(frozen=True)
class FeedbackSummary:
    useful: int
    not_useful: int
    comments: list[GuideFeedback]


def feedback_for(guide: Guide, *, comments: int = 20) -> FeedbackSummary:
    """Counts of yes and no answers and the latest comments, for the guide's editors."""
    counts = dict(db.session.execute(
        sa.select(GuideFeedback.useful, sa.func.count()).where(GuideFeedback.guide_id == guide.id)
        .group_by(GuideFeedback.useful)
    ).all())
    latest = db.session.scalars(
        sa.select(GuideFeedback).where(GuideFeedback.guide_id == guide.id, GuideFeedback.comment != "")
        .order_by(GuideFeedback.created_at.desc()).limit(comments)
    ).all()
    return FeedbackSummary(useful=counts.get(True, 0), not_useful=counts.get(False, 0), comments=list(latest))
