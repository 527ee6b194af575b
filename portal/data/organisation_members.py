"""Who belongs to a provider organisation: join requests, emailed invitations, roles and removals.

Stages changes in the caller's transaction, writes audit events with the organisation's id, never commits.
Only a sha256 of an invitation's token is stored: the working link exists only in the email.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import _

from portal.data import audit
from portal.data.organisations import (
    AlreadyMember,
    DuplicateInvitation,
    DuplicateJoinRequest,
    InvalidTransition,
    InvitationNotUsable,
    LastOwner,
    OrganisationNotFound,
    WrongInvitee,
    is_member,
    membership_of,
    owners_of,
)
from portal.extensions import db
from portal.mail import send_templated_email
from portal.models import (
    JoinRequest,
    MembershipRole,
    Organisation,
    OrganisationInvitation,
    OrganisationMembership,
    RequestState,
    Role,
    User,
    UserRole,
    utcnow,
)

INVITATION_LIFETIME = timedelta(days=7)


# --- Join requests ------------------------------------------------------------------------------------------


def request_to_join(*, actor: User, organisation: Organisation, message: str) -> JoinRequest:
    """Ask the owners of an approved organisation to let ``actor`` in; they are emailed.

    Raises OrganisationNotFound (not approved), AlreadyMember or DuplicateJoinRequest.
    """
    if not organisation.is_approved:
        raise OrganisationNotFound(organisation.id)
    if is_member(actor, organisation):
        raise AlreadyMember(organisation.id)
    waiting = db.session.scalar(
        sa.select(JoinRequest).where(
            JoinRequest.organisation_id == organisation.id,
            JoinRequest.user_id == actor.id,
            JoinRequest.state == RequestState.PENDING,
        )
    )
    if waiting is not None:
        raise DuplicateJoinRequest(organisation.id)
    request = JoinRequest(organisation=organisation, user=actor, message=message.strip(),
                          state=RequestState.PENDING)
    db.session.add(request)
    db.session.flush()
    audit.record(actor=actor, action="join_request.created", subject=request, organisation_id=organisation.id,
                 after={"state": request.state, "message": request.message})
    page = url_for("provider.organisation", organisation_id=organisation.id, _external=True)
    for owner in owners_of(organisation):
        send_templated_email(
            to=owner.email,
            subject=_("%(name)s has asked to join %(organisation)s", name=actor.name, organisation=organisation.name),
            template="organisation_join_request",
            owner=owner,
            requester=actor,
            organisation=organisation,
            message=request.message,
            page_url=page,
        )
    return request


def pending_join_requests(organisation: Organisation) -> list[JoinRequest]:
    return list(
        db.session.scalars(
            sa.select(JoinRequest)
            .where(JoinRequest.organisation_id == organisation.id, JoinRequest.state == RequestState.PENDING)
            .order_by(JoinRequest.created_at, JoinRequest.id)
        )
    )


def join_requests_of(user: User) -> list[JoinRequest]:
    """The user's requests still waiting for an answer."""
    return list(
        db.session.scalars(
            sa.select(JoinRequest)
            .where(JoinRequest.user_id == user.id, JoinRequest.state == RequestState.PENDING)
            .order_by(JoinRequest.created_at)
        )
    )


def decide_join_request(*, actor: User, organisation: Organisation, request_id: uuid.UUID,
                        approve: bool) -> JoinRequest:
    """An owner lets the requester in (as an editor) or turns them down; the requester is emailed.

    Raises OrganisationNotFound when the request is not this organisation's, InvalidTransition when it has
    already been decided.
    """
    request = db.session.get(JoinRequest, request_id)
    if request is None or request.organisation_id != organisation.id:
        raise OrganisationNotFound(request_id)
    if request.state is not RequestState.PENDING:
        raise InvalidTransition(request.state)
    before = {"state": request.state}
    request.state = RequestState.APPROVED if approve else RequestState.REJECTED
    request.decided_at = utcnow()
    request.decided_by_id = actor.id
    if approve and membership_of(request.user_id, organisation.id) is None:
        db.session.add(OrganisationMembership(user_id=request.user_id, organisation_id=organisation.id,
                                              role=MembershipRole.EDITOR))
    audit.record(actor=actor, action="join_request.approved" if approve else "join_request.rejected",
                 subject=request, organisation_id=organisation.id, before=before,
                 after={"state": request.state, "user_id": request.user_id})
    send_templated_email(
        to=request.user.email,
        subject=(_("You have joined %(organisation)s", organisation=organisation.name) if approve
                 else _("Your request to join %(organisation)s", organisation=organisation.name)),
        template="organisation_join_decision",
        requester=request.user,
        organisation=organisation,
        approved=approve,
        dashboard_url=url_for("provider.dashboard", _external=True),
    )
    return request


# --- Invitations --------------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(*, actor: User, organisation: Organisation, email: str, role: MembershipRole) -> OrganisationInvitation:
    """Email an invitation link; only the token's sha256 is stored, so the link is only in the email.

    Raises AlreadyMember when the address already belongs to a member, DuplicateInvitation when an unexpired
    invitation to it is waiting.
    """
    email = email.strip().lower()
    member = db.session.scalar(
        sa.select(OrganisationMembership)
        .join(User, OrganisationMembership.user_id == User.id)
        .where(OrganisationMembership.organisation_id == organisation.id, User.email == email)
    )
    if member is not None:
        raise AlreadyMember(email)
    now = utcnow()
    waiting = db.session.scalar(
        sa.select(OrganisationInvitation).where(
            OrganisationInvitation.organisation_id == organisation.id,
            OrganisationInvitation.email == email,
            *_open_clauses(now),
        )
    )
    if waiting is not None:
        raise DuplicateInvitation(email)
    token = secrets.token_urlsafe(32)
    invitation = OrganisationInvitation(
        organisation=organisation, email=email, role=role, token_hash=hash_token(token),
        invited_by_id=actor.id, created_at=now, expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor=actor, action="invitation.created", subject=invitation, organisation_id=organisation.id,
                 after={"email": email, "role": role, "expires_at": invitation.expires_at})
    send_templated_email(
        to=email,
        subject=_("You are invited to join %(organisation)s", organisation=organisation.name),
        template="invitation_to_join",
        inviter=actor,
        organisation=organisation,
        role=role,
        accept_url=url_for("provider.invitation", token=token, _external=True),
        expires_at=invitation.expires_at,
    )
    return invitation


def _open_clauses(now: datetime) -> list:
    return [
        OrganisationInvitation.accepted_at.is_(None),
        OrganisationInvitation.revoked_at.is_(None),
        OrganisationInvitation.expires_at > now,
    ]


def open_invitations(organisation: Organisation) -> list[OrganisationInvitation]:
    """Invitations not yet accepted, revoked or expired, newest first."""
    return list(
        db.session.scalars(
            sa.select(OrganisationInvitation)
            .where(OrganisationInvitation.organisation_id == organisation.id, *_open_clauses(utcnow()))
            .order_by(OrganisationInvitation.created_at.desc(), OrganisationInvitation.id)
        )
    )


def invitations_for(user: User) -> list[OrganisationInvitation]:
    """Open invitations sent to the user's (confirmed) email address: shown on their dashboard."""
    return list(
        db.session.scalars(
            sa.select(OrganisationInvitation)
            .where(OrganisationInvitation.email == user.email, *_open_clauses(utcnow()))
            .order_by(OrganisationInvitation.created_at)
        )
    )


def invitation_by_token(token: str) -> OrganisationInvitation:
    """The invitation this emailed token belongs to, if it can still be accepted. Raises InvitationNotUsable."""
    invitation = db.session.scalar(
        sa.select(OrganisationInvitation).where(OrganisationInvitation.token_hash == hash_token(token))
    )
    return _usable(invitation)


def invitation_for(user: User, invitation_id: uuid.UUID) -> OrganisationInvitation:
    """An invitation addressed to ``user``'s email. Raises InvitationNotUsable (not_found for anyone else's)."""
    invitation = db.session.get(OrganisationInvitation, invitation_id)
    if invitation is None or invitation.email != user.email:
        raise InvitationNotUsable("not_found")
    return _usable(invitation)


def _usable(invitation: OrganisationInvitation | None) -> OrganisationInvitation:
    if invitation is None:
        raise InvitationNotUsable("not_found")
    if invitation.revoked_at is not None:
        raise InvitationNotUsable("revoked")
    if invitation.accepted_at is not None:
        raise InvitationNotUsable("accepted")
    if invitation.expires_at <= utcnow():
        raise InvitationNotUsable("expired")
    return invitation


def accept_invitation(*, actor: User, invitation: OrganisationInvitation) -> OrganisationMembership:
    """Make ``actor`` a member with the invited role. Raises WrongInvitee, AlreadyMember, InvitationNotUsable."""
    _usable(invitation)
    if actor.email != invitation.email or actor.email_confirmed_at is None:
        raise WrongInvitee(invitation.id)
    if membership_of(actor.id, invitation.organisation_id) is not None:
        raise AlreadyMember(invitation.organisation_id)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = actor.id
    membership = OrganisationMembership(user=actor, organisation_id=invitation.organisation_id,
                                        role=invitation.role)
    db.session.add(membership)
    granted_role = Role.PROVIDER not in actor.roles
    if granted_role:
        # Being invited by an owner is what makes someone a provider user; the grant is audited below.
        actor.role_grants.append(UserRole(role=Role.PROVIDER))
    db.session.flush()
    audit.record(actor=actor, action="invitation.accepted", subject=invitation,
                 organisation_id=invitation.organisation_id, before={"accepted_at": None},
                 after={"accepted_at": invitation.accepted_at, "membership_role": invitation.role,
                        "user_id": actor.id, "granted_provider_role": granted_role})
    return membership


def revoke_invitation(*, actor: User, organisation: Organisation, invitation_id: uuid.UUID) -> OrganisationInvitation:
    """Raises OrganisationNotFound when the invitation is not this organisation's or no longer open."""
    invitation = db.session.get(OrganisationInvitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        raise OrganisationNotFound(invitation_id)
    if invitation.revoked_at is not None or invitation.accepted_at is not None:
        raise InvalidTransition(invitation_id)
    invitation.revoked_at = utcnow()
    audit.record(actor=actor, action="invitation.revoked", subject=invitation, organisation_id=organisation.id,
                 before={"revoked_at": None}, after={"revoked_at": invitation.revoked_at, "email": invitation.email})
    return invitation


# --- Members ------------------------------------------------------------------------------------------------


def members_of(organisation: Organisation) -> list[OrganisationMembership]:
    return list(
        db.session.scalars(
            sa.select(OrganisationMembership)
            .join(User, OrganisationMembership.user_id == User.id)
            .where(OrganisationMembership.organisation_id == organisation.id)
            .order_by(sa.func.lower(User.name), User.email)
        )
    )



def member(organisation: Organisation, membership_id: uuid.UUID) -> OrganisationMembership:
    """Raises OrganisationNotFound when the membership is not this organisation's."""
    found = db.session.get(OrganisationMembership, membership_id)
    if found is None or found.organisation_id != organisation.id:
        raise OrganisationNotFound(membership_id)
    return found


def _owner_count(organisation: Organisation) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OrganisationMembership).where(
            OrganisationMembership.organisation_id == organisation.id,
            OrganisationMembership.role == MembershipRole.OWNER,
        )
    ) or 0


def change_member_role(*, actor: User, organisation: Organisation, membership_id: uuid.UUID,
                       role: MembershipRole) -> OrganisationMembership:
    """Raises OrganisationNotFound, or LastOwner when the last owner would become an editor."""
    found = member(organisation, membership_id)
    if found.role is role:
        return found
    if found.role is MembershipRole.OWNER and _owner_count(organisation) <= 1:
        raise LastOwner(organisation.id)
    before = {"role": found.role}
    found.role = role
    audit.record(actor=actor, action="membership.role_changed", subject=found, organisation_id=organisation.id,
                 before=before, after={"role": role, "user_id": found.user_id})
    return found


def remove_member(*, actor: User, organisation: Organisation, membership_id: uuid.UUID) -> None:
    """Raises OrganisationNotFound, or LastOwner when removing the only owner."""
    found = member(organisation, membership_id)
    if found.role is MembershipRole.OWNER and _owner_count(organisation) <= 1:
        raise LastOwner(organisation.id)
    audit.record(actor=actor, action="membership.removed", subject=found, organisation_id=organisation.id,
                 before={"user_id": found.user_id, "role": found.role}, after=None)
    db.session.delete(found)
