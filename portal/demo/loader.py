"""Writing the demonstration borough into the database, idempotently.

Every row has an id derived from a stable name, so loading again finds the same rows and changes only what
differs (nothing, on the same day). Listings go through ``portal.data.listings`` like any other listing, so
each created or changed service gets its ``ListingChange`` row for the search indexer. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.data import audit, listings, vocabularies
from portal.demo.generator import Borough, DemoService, demo_uuid, generate, load_json
from portal.extensions import db
from portal.models import (
    AccessibilityFeature,
    Contact,
    Locality,
    Location,
    MembershipRole,
    Need,
    Organisation,
    OrganisationMembership,
    Role,
    Service,
    ServiceArea,
    ServiceAtLocation,
    TaxonomyTerm,
    User,
    UserRole,
    VerificationStatus,
)

Progress = Callable[[int], None]


@dataclass
class DemoLogin:
    email: str
    password: str
    role: Role
    name: str
    note: str


@dataclass
class LoadSummary:
    organisations: int = 0
    locations: int = 0
    services: int = 0
    users: int = 0
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool, changed: bool) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1
        elif changed:
            self.changed[kind] = self.changed.get(kind, 0) + 1


def demo_logins() -> list[DemoLogin]:
    """The documented demo accounts, one or more per role."""
    return [
        DemoLogin(
            email=item["email"],
            password=item["password"],
            role=Role(item["role"]),
            name=item["name"],
            note=item["note"],
        )
        for item in load_json("logins")["users"]
    ]


def has_services() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Service)) > 0


def load_demo(*, today: date | None = None, progress: Progress | None = None) -> LoadSummary:
    """Create or bring up to date the demo borough, its providers and its users. Never commits."""
    borough = generate(today=today)
    summary = LoadSummary()
    _load_vocabularies(borough)
    organisations = _load_organisations(borough, summary)
    locations = _load_locations(borough, organisations, summary)
    _load_services(borough, organisations, locations, summary, progress)
    _load_users(borough, summary)
    _load_guides(today or date.today(), summary)
    _load_offers(borough, summary)
    _load_dp_accounts(today or date.today(), summary)
    audit.record(
        actor=None,
        action="demo.loaded",
        subject_type="system",
        details={"services": summary.services, "created": summary.created, "changed": summary.changed},
    )
    db.session.flush()
    return summary


def _load_dp_accounts(today: date, summary: LoadSummary) -> None:
    from portal.demo.dp_accounts import load_dp_accounts

    counts = load_dp_accounts(today=today)
    for kind, label in (("created", "direct-payment accounts"), ("allocated", "direct-payment budgets")):
        if counts[kind]:
            summary.created[label] = counts[kind]


def _load_offers(borough: Borough, summary: LoadSummary) -> None:
    from portal.demo.offers import load_offers

    counts = load_offers(borough)
    for kind in ("created", "changed"):
        if counts[kind]:
            getattr(summary, kind)["offers and bank details"] = counts[kind]


def _load_guides(today: date, summary: LoadSummary) -> None:
    from portal.demo.guides import load_guides

    counts = load_guides(today=today)
    for kind in ("created", "changed"):
        if counts[kind]:
            getattr(summary, kind)["guides"] = counts[kind]


# --- vocabularies ----------------------------------------------------------------------------------------


def _load_vocabularies(borough: Borough) -> None:
    taxonomy_data = borough.taxonomy
    taxonomy = vocabularies.ensure_taxonomy(
        name=taxonomy_data["name"],
        description=taxonomy_data["description"],
        version=taxonomy_data["version"],
        taxonomy_id=demo_uuid("taxonomy"),
    )
    for group_position, group in enumerate(taxonomy_data["groups"]):
        parent = vocabularies.ensure_term(
            taxonomy=taxonomy,
            position=group_position,
            term_id=demo_uuid("term", group["slug"]),
            **_term_fields(group),
        )
        for position, term in enumerate(group["terms"]):
            vocabularies.ensure_term(
                taxonomy=taxonomy,
                parent=parent,
                position=position,
                term_id=demo_uuid("term", term["slug"]),
                **_term_fields(term),
            )
    vocab = load_json("vocabularies")
    for send, key in ((False, "needs"), (True, "send_needs")):
        for item in vocab[key]:
            vocabularies.ensure_need(
                slug=item["slug"],
                name=item["name"],
                name_cy=item["name_cy"],
                send=send,
                need_id=demo_uuid("need", item["slug"]),
            )
    for item in vocab["accessibility"]:
        vocabularies.ensure_accessibility_feature(
            slug=item["slug"],
            name=item["name"],
            name_cy=item["name_cy"],
            feature_id=demo_uuid("accessibility", item["slug"]),
        )
    for item in borough.localities:
        vocabularies.ensure_locality(
            slug=item["slug"],
            name=item["name"],
            name_cy=item["name_cy"],
            latitude=item["latitude"],
            longitude=item["longitude"],
            locality_id=demo_uuid("locality", item["slug"]),
        )


def _term_fields(item: dict) -> dict:
    return {
        "slug": item["slug"],
        "code": item["slug"],
        "name": item["name"],
        "name_cy": item["name_cy"],
        "description": item["description"],
        "description_cy": item["description_cy"],
    }


def _by_slug(model) -> dict:
    return {row.slug: row for row in db.session.scalars(sa.select(model))}


# --- organisations, places, services ----------------------------------------------------------------------


def _existing(model, ids: list[uuid.UUID], *options) -> dict[uuid.UUID, object]:
    rows = db.session.scalars(sa.select(model).where(model.id.in_(ids)).options(*options))
    return {row.id: row for row in rows}


def _load_organisations(borough: Borough, summary: LoadSummary) -> dict[uuid.UUID, Organisation]:
    existing = _existing(
        Organisation, [o.id for o in borough.organisations], selectinload(Organisation.services)
    )
    saved = {}
    for item in borough.organisations:
        current = existing.get(item.id)
        data = item.data
        if current is not None and current.verification_status is data.verification_status:
            data = replace(data, verified_at=current.verified_at)  # keep the day it was really approved
        organisation, changed = listings.save_organisation(
            actor=None, data=data, organisation=current, organisation_id=item.id
        )
        summary.count("organisations", current is None, changed)
        saved[item.id] = organisation
    summary.organisations = len(saved)
    return saved


def _load_locations(borough: Borough, organisations: dict, summary: LoadSummary) -> dict[uuid.UUID, Location]:
    items = [(o, place) for o in borough.organisations for place in o.locations]
    existing = _existing(
        Location,
        [place.id for _, place in items],
        selectinload(Location.services_at).selectinload(ServiceAtLocation.service),
    )
    saved = {}
    for organisation, place in items:
        current = existing.get(place.id)
        location, changed = listings.save_location(
            actor=None,
            data=place.data,
            location=current,
            organisation=organisations[organisation.id],
            location_id=place.id,
        )
        summary.count("locations", current is None, changed)
        saved[place.id] = location
    summary.locations = len(saved)
    return saved


def _service_loader_options() -> list:
    return [
        selectinload(Service.taxonomy_terms),
        selectinload(Service.needs),
        selectinload(Service.accessibility_features),
        selectinload(Service.languages),
        selectinload(Service.cost_options),
        selectinload(Service.schedules),
        selectinload(Service.contacts).selectinload(Contact.phones),
        selectinload(Service.local_offer_answers),
        selectinload(Service.service_areas).selectinload(ServiceArea.locality),
        selectinload(Service.locations_at).selectinload(ServiceAtLocation.location),
    ]


def _load_services(
    borough: Borough, organisations: dict, locations: dict, summary: LoadSummary, progress: Progress | None
) -> None:
    terms = _by_slug(TaxonomyTerm)
    needs = _by_slug(Need)
    features = _by_slug(AccessibilityFeature)
    localities = _by_slug(Locality)
    published = datetime(2024, 1, 1, tzinfo=UTC)
    existing = _existing(Service, [s.id for s in borough.services], *_service_loader_options())
    # One flush at the end inserts every new row in a few batched statements.
    with db.session.no_autoflush:
        _save_services(
            borough,
            organisations,
            existing,
            terms,
            needs,
            features,
            localities,
            locations,
            published,
            summary,
            progress,
        )


def _save_services(
    borough,
    organisations,
    existing,
    terms,
    needs,
    features,
    localities,
    locations,
    published,
    summary,
    progress,
) -> None:
    for organisation in borough.organisations:
        for item in organisation.services:
            data = _listing_data(item, terms, needs, features, localities, locations, borough.name)
            current = existing.get(item.id)
            if current is None:
                listings.create_listing(
                    actor=None,
                    organisation=organisations[organisation.id],
                    data=data,
                    service_id=item.id,
                    published_at=published,
                )
            else:
                changed = listings.update_listing(actor=None, service=current, data=data)
                moved = listings.move_listing(
                    actor=None, service=current, organisation=organisations[organisation.id]
                )
                summary.count("services", False, bool(changed) or moved)
            if current is None:
                summary.count("services", True, True)
            summary.services += 1
        if progress:
            progress(len(organisation.services))


def _listing_data(item: DemoService, terms, needs, features, localities, locations, borough_name: str):
    area_name = f"All of {borough_name}"
    return replace(
        item.listing,
        taxonomy_terms=[terms[slug] for slug in item.term_slugs],
        needs=[needs[slug] for slug in item.need_slugs],
        accessibility_features=[features[slug] for slug in item.feature_slugs],
        locations=[locations[location_id] for location_id in item.location_ids],
        service_areas=[
            listings.AreaData(name=area_name)
            if slug is None
            else listings.AreaData(name=localities[slug].name, locality=localities[slug])
            for slug in item.area_localities
        ],
    )


# --- people ----------------------------------------------------------------------------------------------


def _password_tools():
    """The app's own hasher when there is one; argon2 with the configured profile otherwise."""
    try:
        from portal.passwords import hash_password, verify_password

        return hash_password, verify_password
    except ImportError:  # pragma: no cover - only before portal/passwords.py existed
        import argon2
        from flask import current_app

        hasher = argon2.PasswordHasher.from_parameters(
            getattr(argon2.profiles, current_app.config["PASSWORD_HASH_PROFILE"])
        )

        def verify(password_hash: str, password: str) -> bool:
            try:
                return hasher.verify(password_hash, password)
            except argon2.exceptions.VerificationError:
                return False

        return hasher.hash, verify


def _load_users(borough: Borough, summary: LoadSummary) -> None:
    hash_password, verify_password = _password_tools()
    # argon2 is slow on purpose: hash or verify each demo password once (users sharing one share the hash).
    hashes: dict[str, str] = {}
    confirmed = datetime(2024, 1, 1, tzinfo=UTC)
    for login in demo_logins():
        user = db.session.scalar(sa.select(User).where(User.email == login.email))
        created = user is None
        if created:
            user = User(
                id=demo_uuid("user", login.email), email=login.email, name=login.name, password_hash=""
            )
            db.session.add(user)
        if hashes.get(login.password) != user.password_hash and not (
            user.password_hash and verify_password(user.password_hash, login.password)
        ):
            if login.password not in hashes:
                hashes[login.password] = hash_password(login.password)
            user.password_hash = hashes[login.password]
        hashes.setdefault(login.password, user.password_hash)
        user.name, user.active = login.name, True
        user.email_confirmed_at = user.email_confirmed_at or confirmed
        if login.role not in user.roles:
            user.role_grants.append(UserRole(role=login.role))
        _memberships(user, login.email, borough)
        summary.count("users", created, False)
    summary.users = len(demo_logins())


def _memberships(user: User, email: str, borough: Borough) -> None:
    spec = next(item for item in load_json("logins")["users"] if item["email"] == email)
    for target, role in spec.get("memberships", []):
        organisation_id = _membership_target(target, borough)
        membership = db.session.scalar(
            sa.select(OrganisationMembership).where(
                OrganisationMembership.user_id == user.id,
                OrganisationMembership.organisation_id == organisation_id,
            )
        )
        if membership is None:
            db.session.add(
                OrganisationMembership(
                    id=demo_uuid("membership", email, str(organisation_id)),
                    user=user,
                    organisation_id=organisation_id,
                    role=MembershipRole(role),
                )
            )
        else:
            membership.role = MembershipRole(role)


def _membership_target(target: str, borough: Borough) -> uuid.UUID:
    """ "first:<kind>" is the first organisation of that kind; "first_pending" the first awaiting approval."""
    if target == "first_pending":
        return next(
            o.id for o in borough.organisations if o.data.verification_status is VerificationStatus.PENDING
        )
    kind = target.removeprefix("first:")
    return next(o.id for o in borough.organisations if o.kind == kind)
