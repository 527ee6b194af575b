"""Who may act on which organisation's records. Provider users reach only their own organisations' things;
anything else answers "not found", so ids cannot be probed across organisations."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    MembershipRole,
    Organisation,
    OrganisationMembership,
    Service,
    User,
)


class NotPermitted(LookupError):
    """The user may not see or change this record. Routes answer 404, never 403, so nothing leaks."""


def membership(user: User, organisation_id: uuid.UUID) -> OrganisationMembership | None:
    return db.session.scalar(
        sa.select(OrganisationMembership).where(
            OrganisationMembership.user_id == user.id,
            OrganisationMembership.organisation_id == organisation_id,
        )
    )


def organisation_for(user: User, organisation_id: uuid.UUID, *, owner: bool = False) -> Organisation:
    """The organisation, if ``user`` is a member (an owner, when ``owner``). Raises NotPermitted."""
    found = membership(user, organisation_id)
    if found is None or (owner and found.role is not MembershipRole.OWNER):
        raise NotPermitted(organisation_id)
    return found.organisation


def service_for(user: User, service_id: uuid.UUID) -> Service:
    """The listing, if ``user`` belongs to the organisation that runs it. Raises NotPermitted."""
    service = db.session.get(Service, service_id)
    if service is None or membership(user, service.organisation_id) is None:
        raise NotPermitted(service_id)
    return service


def organisation_ids_of(user: User) -> list[uuid.UUID]:
    return list(
        db.session.scalars(
            sa.select(OrganisationMembership.organisation_id).where(OrganisationMembership.user_id == user.id)
        )
    )
