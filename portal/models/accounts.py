"""People who sign in: users, their roles and their organisation memberships."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column, utcnow
from portal.models.directory import Organisation


class Role(enum.Enum):
    PROVIDER = "provider"
    DP_HOLDER = "dp_holder"
    NOMINATED_PERSON = "nominated_person"
    COUNCIL_MODERATOR = "council_moderator"
    COUNCIL_DP_OFFICER = "council_dp_officer"
    COUNCIL_EDITOR = "council_editor"
    COUNCIL_COMMISSIONER = "council_commissioner"
    COUNCIL_ADMIN = "council_admin"

    @property
    def is_council(self) -> bool:
        return self.value.startswith("council_")


class MembershipRole(enum.Enum):
    OWNER = "owner"
    EDITOR = "editor"


class User(UserMixin, UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(sa.String(320), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(sa.String(255))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    email_confirmed_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    last_signed_in_at: Mapped[datetime | None]
    preferred_locale: Mapped[str | None] = mapped_column(sa.String(5))

    role_grants: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    memberships: Mapped[list[OrganisationMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot sign in
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {grant.role for grant in self.role_grants}

    def has_role(self, *roles: Role) -> bool:
        mine = self.roles
        # A council admin can do whatever any council role can.
        if Role.COUNCIL_ADMIN in mine and any(role.is_council for role in roles):
            return True
        return any(role in mine for role in roles)

    @property
    def is_council(self) -> bool:
        return any(role.is_council for role in self.roles)

    @property
    def organisations(self) -> list[Organisation]:
        return [membership.organisation for membership in self.memberships]


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_grants")


class OrganisationMembership(UUIDPrimaryKey, Base):
    __tablename__ = "organisation_memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MembershipRole] = mapped_column(enum_column(MembershipRole), default=MembershipRole.EDITOR)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (sa.UniqueConstraint("user_id", "organisation_id"),)


class OutboxMessage(UUIDPrimaryKey, Base):
    """Mail that was not sent over SMTP because none is configured (development): shown at /outbox."""

    __tablename__ = "outbox_messages"

    recipient: Mapped[str] = mapped_column(sa.String(320), index=True)
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
