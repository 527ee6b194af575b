"""Vocabularies listings use: taxonomies and their terms, needs, accessibility features and localities.

``ensure_*`` functions create or update a vocabulary entry to match (for seeded vocabularies such as the
demo borough's); ``*_for`` functions find an entry as it is or add it (for imports, which never rename
ours). They stage changes and never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from portal.data.listings import ListingError
from portal.extensions import db
from portal.models import AccessibilityFeature, Locality, Need, Taxonomy, TaxonomyTerm


def ensure_taxonomy(
    *,
    name: str,
    description: str = "",
    uri: str | None = None,
    version: str | None = None,
    taxonomy_id: uuid.UUID | None = None,
) -> Taxonomy:
    """The taxonomy called ``name``, created or updated to match."""
    taxonomy = db.session.scalar(sa.select(Taxonomy).where(Taxonomy.name == name))
    if taxonomy is None:
        taxonomy = Taxonomy(id=taxonomy_id or uuid.uuid4(), name=name)
        db.session.add(taxonomy)
    taxonomy.description, taxonomy.uri, taxonomy.version = description, uri, version
    return taxonomy


def ensure_term(
    *,
    taxonomy: Taxonomy,
    slug: str,
    name: str,
    parent: TaxonomyTerm | None = None,
    code: str | None = None,
    name_cy: str = "",
    description: str = "",
    description_cy: str = "",
    position: int = 0,
    term_id: uuid.UUID | None = None,
) -> TaxonomyTerm:
    """The term with ``slug``, created or updated to match. Raises ListingError when the slug belongs to
    another taxonomy."""
    term = db.session.scalar(sa.select(TaxonomyTerm).where(TaxonomyTerm.slug == slug))
    if term is None:
        term = TaxonomyTerm(id=term_id or uuid.uuid4(), taxonomy=taxonomy, slug=slug)
        db.session.add(term)
    elif term.taxonomy_id != taxonomy.id:
        raise ListingError(f"the category slug {slug!r} already belongs to another taxonomy")
    values = {
        "parent": parent,
        "code": code,
        "name": name,
        "name_cy": name_cy,
        "description": description,
        "description_cy": description_cy,
        "position": position,
    }
    for key, value in values.items():
        if getattr(term, key) is not value and getattr(term, key) != value:
            setattr(term, key, value)
    return term


def ensure_need(
    *, slug: str, name: str, name_cy: str = "", send: bool = False, need_id: uuid.UUID | None = None
) -> Need:
    need = db.session.scalar(sa.select(Need).where(Need.slug == slug))
    if need is None:
        need = Need(id=need_id or uuid.uuid4(), slug=slug, name=name, name_cy=name_cy, send=send)
        db.session.add(need)
    else:
        need.name, need.name_cy, need.send = name, name_cy or need.name_cy, send
    return need


def ensure_accessibility_feature(
    *, slug: str, name: str, name_cy: str = "", feature_id: uuid.UUID | None = None
) -> AccessibilityFeature:
    feature = db.session.scalar(sa.select(AccessibilityFeature).where(AccessibilityFeature.slug == slug))
    if feature is None:
        feature = AccessibilityFeature(id=feature_id or uuid.uuid4(), slug=slug, name=name, name_cy=name_cy)
        db.session.add(feature)
    else:
        feature.name, feature.name_cy = name, name_cy or feature.name_cy
    return feature


def ensure_locality(
    *,
    slug: str,
    name: str,
    name_cy: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    locality_id: uuid.UUID | None = None,
) -> Locality:
    locality = db.session.scalar(sa.select(Locality).where(Locality.slug == slug))
    if locality is None:
        locality = Locality(id=locality_id or uuid.uuid4(), slug=slug)
        db.session.add(locality)
    locality.name, locality.name_cy, locality.latitude, locality.longitude = (
        name,
        name_cy,
        latitude,
        longitude,
    )
    return locality


def need_for(*, slug: str, name: str, send: bool) -> Need:
    """The need with ``slug`` as it is (an import never renames our vocabulary), or a new one.

    A SEND need whose slug is taken by a general need gets its own ``send-`` slug, and the other way round."""
    need = db.session.scalar(sa.select(Need).where(Need.slug == slug))
    if need is not None and need.send != send:
        slug = f"{'send' if send else 'need'}-{slug}"
        need = db.session.scalar(sa.select(Need).where(Need.slug == slug))
    if need is None:
        need = Need(id=uuid.uuid4(), slug=slug, name=name, send=send)
        db.session.add(need)
    return need


def feature_for(*, slug: str, name: str) -> AccessibilityFeature:
    """The accessibility feature with ``slug`` as it is, or a new one."""
    feature = db.session.scalar(sa.select(AccessibilityFeature).where(AccessibilityFeature.slug == slug))
    if feature is None:
        feature = AccessibilityFeature(id=uuid.uuid4(), slug=slug, name=name)
        db.session.add(feature)
    return feature
