"""Small factories for test records: only the fields a test cares about need naming."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from portal.extensions import db
from portal.models import (
    MembershipRole,
    Organisation,
    OrganisationMembership,
    Role,
    Service,
    Taxonomy,
    TaxonomyTerm,
    User,
    UserRole,
    VerificationStatus,
)

_sequence = itertools.count(1)
_hasher = PasswordHasher.from_parameters(CHEAPEST)
DEFAULT_PASSWORD = "correct horse battery staple"


def make_user(*, email: str | None = None, name: str = "Test User", roles: tuple[Role, ...] = (),
              password: str = DEFAULT_PASSWORD, confirmed: bool = True, organisations=(),
              membership_role: MembershipRole = MembershipRole.OWNER) -> User:
    n = next(_sequence)
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        name=name,
        password_hash=_hasher.hash(password),
        email_confirmed_at=datetime.now(UTC) if confirmed else None,
    )
    user.role_grants = [UserRole(role=role) for role in roles]
    db.session.add(user)
    for organisation in organisations:
        db.session.add(OrganisationMembership(user=user, organisation=organisation, role=membership_role))
    db.session.flush()
    return user


def make_organisation(*, name: str | None = None, approved: bool = True, **fields) -> Organisation:
    organisation = Organisation(
        name=name or f"Organisation {next(_sequence)}",
        verification_status=VerificationStatus.APPROVED if approved else VerificationStatus.PENDING,
        **fields,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_service(*, organisation: Organisation | None = None, name: str | None = None, **fields) -> Service:
    fields.setdefault("published_at", datetime.now(UTC))  # a listing the council has approved, unless told
    service = Service(
        organisation=organisation or make_organisation(),
        name=name or f"Service {next(_sequence)}",
        **fields,
    )
    db.session.add(service)
    db.session.flush()
    return service


def make_term(*, name: str, parent: TaxonomyTerm | None = None, taxonomy: Taxonomy | None = None,
              **fields) -> TaxonomyTerm:
    if taxonomy is None:
        taxonomy = parent.taxonomy if parent else db.session.query(Taxonomy).filter_by(name="Test categories").first()
        if taxonomy is None:
            taxonomy = Taxonomy(name="Test categories")
            db.session.add(taxonomy)
    slug = fields.pop("slug", None) or f"{name.lower().replace(' ', '-')}-{next(_sequence)}"
    term = TaxonomyTerm(taxonomy=taxonomy, parent=parent, name=name, slug=slug, **fields)
    db.session.add(term)
    db.session.flush()
    return term


def sign_in(client, user: User) -> None:
    """Sign ``user`` in to the test client's session without the form (the sign-in form has its own tests)."""
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user.id)
        flask_session["_fresh"] = True
