"""``flask demo load``: the demo borough loads, covers every role, and loading again changes nothing."""

from __future__ import annotations

import hashlib
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.demo.loader import demo_logins, load_demo
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Guide,
    ListingChange,
    Location,
    Organisation,
    OrganisationMembership,
    Role,
    Schedule,
    Service,
    TaxonomyTerm,
    User,
)
from portal.passwords import verify_password
from tests.conftest import count

TODAY = date(2025, 6, 2)


def borough_digest() -> str:
    """A digest of what a resident or a provider would see: ids, names and the rows under each service."""
    parts = []
    for columns in (
        (Organisation.id, Organisation.name, Organisation.verification_status),
        (Location.id, Location.postcode, Location.latitude, Location.longitude),
        (Service.id, Service.name, Service.summary, Service.description, Service.last_checked_at),
        (Schedule.id, Schedule.byday, Schedule.opens_at),
        (TaxonomyTerm.id, TaxonomyTerm.slug, TaxonomyTerm.name_cy),
        (User.id, User.email),
        (OrganisationMembership.user_id, OrganisationMembership.organisation_id),
    ):
        rows = db.session.execute(sa.select(*columns).order_by(columns[0])).all()
        parts.append(repr([tuple(str(value) for value in row) for row in rows]))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_demo_load_fills_the_borough_with_listings_and_logins(app, session):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "300 services" in result.output
    assert "provider@example.org" in result.output and "aldermoor-provider" in result.output
    assert count(Service) == 300
    assert count(Organisation) == 120
    changed = sa.select(ListingChange.subject_type, sa.func.count(sa.distinct(ListingChange.subject_id))).group_by(
        ListingChange.subject_type)
    # every listing (some twice: their priced offers were published after them), and every starter guide
    assert dict(db.session.execute(changed).all()) == {"service": 300, "guide": count(Guide)}


def test_every_demo_service_has_a_provider_a_category_and_a_way_to_attend(session):
    load_demo(today=TODAY)
    services = session.scalars(
        sa.select(Service).options(selectinload(Service.taxonomy_terms), selectinload(Service.locations_at))
    ).all()
    assert len(services) == 300
    for service in services:
        assert service.organisation_id is not None
        assert service.taxonomy_terms and all(term.parent_id is not None for term in service.taxonomy_terms)
        assert service.in_person or service.online or service.by_phone
    changed = {change.subject_id for change in session.scalars(
        sa.select(ListingChange).where(ListingChange.subject_type == "service"))}
    assert changed == {service.id for service in services}


def test_every_role_has_a_confirmed_demo_user_who_can_sign_in_with_the_documented_password(session):
    load_demo(today=TODAY)
    users = {user.email: user for user in session.scalars(sa.select(User))}
    covered = set()
    for login in demo_logins():
        user = users[login.email]
        assert user.email_confirmed_at is not None and user.active
        assert verify_password(user.password_hash, login.password)
        covered |= user.roles
    assert covered == set(Role)
    assert len([u for u in users.values() if Role.DP_HOLDER in u.roles]) >= 3


def test_one_provider_user_belongs_to_two_organisations(session):
    load_demo(today=TODAY)
    provider = session.scalar(sa.select(User).where(User.email == "provider@example.org"))
    assert len(provider.memberships) == 2
    assert {m.role.value for m in provider.memberships} == {"owner", "editor"}
    pending = session.scalar(sa.select(User).where(User.email == "pending@example.org"))
    assert not pending.memberships[0].organisation.is_approved


def test_loading_the_demo_twice_leaves_exactly_the_same_data(session):
    load_demo(today=TODAY)
    first = borough_digest()
    changes, events = count(ListingChange), count(AuditEvent)
    summary = load_demo(today=TODAY)
    assert borough_digest() == first
    assert summary.created == {} and summary.changed == {}
    assert count(ListingChange) == changes  # nothing changed, so nothing to re-index
    assert count(AuditEvent) == events + 1  # only the "demo loaded" event


def test_demo_load_if_empty_leaves_an_existing_directory_alone(app, session):
    load_demo(today=TODAY)
    before = borough_digest()
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "not loaded" in result.output
    assert borough_digest() == before


def test_demo_logins_prints_every_account(app, session):
    result = app.test_cli_runner().invoke(args=["demo", "logins"])
    assert result.exit_code == 0
    for login in demo_logins():
        assert login.email in result.output and login.password in result.output
