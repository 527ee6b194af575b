"""Accounts: signing in, provider sign-up with email confirmation, password reset and change, roles.

Functions stage changes and audit events in the caller's transaction and never commit. Messages that reach
people are deliberately the same whether or not an account exists, so nobody can use these pages to find
out who has an account.
"""

from __future__ import annotations

import getpass
import uuid
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal import passwords
from portal.data.audit import record
from portal.extensions import db
from portal.mail import send_templated_email
from portal.models import MembershipRole, OrganisationMembership, Role, User, UserRole, utcnow

# One place for the words people see for each role (templates use the ``role_label`` filter).
ROLE_LABELS = {
    Role.PROVIDER: _l("Provider user"),
    Role.DP_HOLDER: _l("Direct payment holder"),
    Role.NOMINATED_PERSON: _l("Nominated person for a direct payment"),
    Role.COUNCIL_MODERATOR: _l("Council moderator"),
    Role.COUNCIL_DP_OFFICER: _l("Council direct payments officer"),
    Role.COUNCIL_EDITOR: _l("Council editor"),
    Role.COUNCIL_COMMISSIONER: _l("Council commissioner"),
    Role.COUNCIL_ADMIN: _l("Council administrator"),
}

MEMBERSHIP_ROLE_LABELS = {
    MembershipRole.OWNER: _l("Owner"),
    MembershipRole.EDITOR: _l("Editor"),
}

# Different salts keep a confirmation link from ever working as a reset link, and the other way round.
CONFIRM_EMAIL_SALT = "account.confirm-email"
RESET_PASSWORD_SALT = "account.reset-password"


class AccountError(Exception):
    """Base class for account problems a page explains to the user."""


class InvalidCredentials(AccountError):
    """The email address and password do not match an account (which one is wrong is not said)."""


class EmailNotConfirmed(AccountError):
    """The password is right but the email address has not been confirmed yet."""

    def __init__(self, user: User) -> None:
        super().__init__(user.email)
        self.user = user


class AccountDeactivated(AccountError):
    """The password is right but the council has deactivated the account."""


class WrongCurrentPassword(AccountError):
    """Changing a password needs the current one, and it was not right."""


class EmailTaken(AccountError):
    """An account with this email address already exists."""


class UnknownUser(AccountError):
    """No account has this email address."""


class InvalidToken(AccountError):
    """A link from an email is not valid: mistyped, tampered with, or already used."""


class ExpiredToken(InvalidToken):
    """A link from an email is genuine but too old."""


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def membership_role_label(role: MembershipRole) -> str:
    return str(MEMBERSHIP_ROLE_LABELS[role])


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(*, email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def session_fingerprint(user: User) -> str:
    """Kept in the session at sign-in: a session whose fingerprint no longer matches is signed out."""
    return passwords.fingerprint(user.password_hash)


# Signing in and out -----------------------------------------------------------------------------------


def sign_in(*, email: str, password: str) -> User:
    """The user whose email and password these are, with the sign-in recorded.

    Raises InvalidCredentials, EmailNotConfirmed or AccountDeactivated; the last two only once the
    password is right, so they reveal nothing to someone guessing. Every failure is audited (never the
    password), in the caller's transaction: the caller commits even when this raises.
    """
    email = normalise_email(email)
    user = find_user(email=email)
    if user is None:
        passwords.spend_verification_time(password)
        _record_failed_sign_in(email=email, user=None, reason="no_account")
        raise InvalidCredentials()
    if not passwords.verify_password(user.password_hash, password):
        _record_failed_sign_in(email=email, user=user, reason="wrong_password")
        raise InvalidCredentials()
    if not user.active:
        _record_failed_sign_in(email=email, user=user, reason="deactivated")
        raise AccountDeactivated()
    if user.email_confirmed_at is None:
        _record_failed_sign_in(email=email, user=user, reason="email_not_confirmed")
        raise EmailNotConfirmed(user)
    if passwords.needs_rehash(user.password_hash):
        # Parameters went up since this hash was made: upgrade it while we hold the plain password.
        user.password_hash = passwords.hash_password(password)
    user.last_signed_in_at = utcnow()
    record(actor=user, action="account.signed_in", subject=user)
    return user


def _record_failed_sign_in(*, email: str, user: User | None, reason: str) -> None:
    record(
        actor=None,
        action="account.sign_in_failed",
        subject_type="users",
        subject_id=user.id if user else None,
        details={"email": email, "reason": reason},
    )


def record_sign_out(*, user: User) -> None:
    record(actor=user, action="account.signed_out", subject=user)


# Provider sign-up and email confirmation ---------------------------------------------------------------


def sign_up_provider(*, name: str, email: str, password: str) -> User | None:
    """Create an unconfirmed provider user and email them a confirmation link.

    When the address already has an account, nothing is created: its owner is emailed instead, and the
    caller shows the same page either way. Returns the new user, or None for an existing address.
    Raises passwords.PasswordRuleError when the password breaks a rule.
    """
    email = normalise_email(email)
    passwords.check_password_rules(password, email=email)
    existing = find_user(email=email)
    if existing is not None:
        record(actor=None, action="account.sign_up_with_existing_email", subject=existing)
        send_templated_email(
            to=existing.email,
            subject=_("You already have an account"),
            template="account_exists",
            user=existing,
            sign_in_url=url_for("account.sign_in", _external=True),
            reset_url=url_for("account.forgot_password", _external=True),
        )
        return None
    user = User(email=email, name=name.strip(), password_hash=passwords.hash_password(password))
    user.role_grants = [UserRole(role=Role.PROVIDER)]
    db.session.add(user)
    db.session.flush()
    record(actor=user, action="account.signed_up", subject=user, after=_account_snapshot(user))
    _send_confirmation(user)
    return user


def resend_confirmation(*, email: str) -> None:
    """Email a new confirmation link when this address has an unconfirmed account; otherwise do nothing."""
    user = find_user(email=email)
    if user is None or not user.active or user.email_confirmed_at is not None:
        return
    record(actor=None, action="account.confirmation_resent", subject=user)
    _send_confirmation(user)


def email_confirmation_token(user: User) -> str:
    return _serializer(CONFIRM_EMAIL_SALT).dumps({"user": str(user.id), "email": user.email})


def confirm_email(*, token: str) -> User:
    """Mark the email address in ``token`` as confirmed (again is harmless).

    Raises ExpiredToken or InvalidToken."""
    payload = _load_token(token, salt=CONFIRM_EMAIL_SALT, max_age=current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = _user_from_payload(payload)
    # A link for an address the account no longer has must not confirm the new one.
    if user is None or not user.active or payload.get("email") != user.email:
        raise InvalidToken()
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        record(actor=user, action="account.email_confirmed", subject=user, details={"email": user.email})
    return user


def _send_confirmation(user: User) -> None:
    send_templated_email(
        to=user.email,
        subject=_("Confirm your email address"),
        template="confirm_email",
        user=user,
        confirm_url=url_for("account.confirm_email", token=email_confirmation_token(user), _external=True),
        max_age_hours=current_app.config["EMAIL_TOKEN_MAX_AGE"] // 3600,
    )


# Password reset and change ----------------------------------------------------------------------------


def request_password_reset(*, email: str) -> None:
    """Email a reset link when an active account has this address; otherwise do nothing, silently."""
    user = find_user(email=email)
    if user is None or not user.active:
        return
    record(actor=None, action="account.password_reset_requested", subject=user)
    send_templated_email(
        to=user.email,
        subject=_("Reset your password"),
        template="reset_password",
        user=user,
        reset_url=url_for("account.reset_password", token=password_reset_token(user), _external=True),
        max_age_minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
    )


def password_reset_token(user: User) -> str:
    # Bound to the current password: once any new password is set, every earlier link stops working.
    return _serializer(RESET_PASSWORD_SALT).dumps(
        {"user": str(user.id), "password": passwords.fingerprint(user.password_hash)}
    )


def user_for_reset_token(*, token: str) -> User:
    """The user a reset link is for.

    Raises ExpiredToken, or InvalidToken when tampered with or already used."""
    payload = _load_token(
        token, salt=RESET_PASSWORD_SALT, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
    )
    user = _user_from_payload(payload)
    if (
        user is None
        or not user.active
        or payload.get("password") != passwords.fingerprint(user.password_hash)
    ):
        raise InvalidToken()
    return user


def reset_password(*, token: str, password: str) -> User:
    """Set a new password from an emailed link, which then stops working, as do other signed-in sessions.

    Raises ExpiredToken, InvalidToken or passwords.PasswordRuleError.
    """
    user = user_for_reset_token(token=token)
    passwords.check_password_rules(password, email=user.email)
    user.password_hash = passwords.hash_password(password)
    if user.email_confirmed_at is None:
        # Following a link sent to the address proves it is theirs as well as a confirmation link would.
        user.email_confirmed_at = utcnow()
    record(actor=user, action="account.password_reset", subject=user)
    _send_password_changed(user)
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Replace a signed-in user's password. Raises WrongCurrentPassword or passwords.PasswordRuleError."""
    if not passwords.verify_password(user.password_hash, current_password):
        record(
            actor=user,
            action="account.password_change_failed",
            subject=user,
            details={"reason": "wrong_current_password"},
        )
        raise WrongCurrentPassword()
    passwords.check_password_rules(new_password, email=user.email)
    user.password_hash = passwords.hash_password(new_password)
    record(actor=user, action="account.password_changed", subject=user)
    _send_password_changed(user)


def _send_password_changed(user: User) -> None:
    # Tells the real owner when someone else changed it, with the way back in.
    send_templated_email(
        to=user.email,
        subject=_("Your password has been changed"),
        template="password_changed",
        user=user,
        reset_url=url_for("account.forgot_password", _external=True),
    )


# Administration (the ``flask users`` commands) ------------------------------------------------------------


def create_admin(*, email: str, name: str, password: str, actor: User | None = None) -> User:
    """Create a confirmed council administrator. Raises EmailTaken or passwords.PasswordRuleError."""
    email = normalise_email(email)
    if find_user(email=email) is not None:
        raise EmailTaken(email)
    passwords.check_password_rules(password, email=email)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=passwords.hash_password(password),
        email_confirmed_at=utcnow(),
    )
    user.role_grants = [UserRole(role=Role.COUNCIL_ADMIN)]
    db.session.add(user)
    db.session.flush()
    record(
        actor=actor,
        action="account.admin_created",
        subject=user,
        after=_account_snapshot(user),
        details=_operator_details(actor),
    )
    return user


def grant_role(*, email: str, role: Role, actor: User | None = None) -> tuple[User, bool]:
    """Give the user with ``email`` a role. Returns the user and whether anything changed.

    Raises UnknownUser."""
    user = find_user(email=email)
    if user is None:
        raise UnknownUser(normalise_email(email))
    if role in user.roles:
        return user, False
    before = sorted(r.value for r in user.roles)
    user.role_grants.append(UserRole(role=role))
    db.session.flush()
    record(
        actor=actor,
        action="account.role_granted",
        subject=user,
        before={"roles": before},
        after={"roles": sorted(r.value for r in user.roles)},
        details=_operator_details(actor),
    )
    return user, True


def list_users(*, actor: User | None = None) -> list[User]:
    """Every user, by email. Listing people's details is itself audited."""
    users = list(db.session.scalars(sa.select(User).order_by(User.email)))
    record(
        actor=actor,
        action="account.users_listed",
        subject_type="users",
        details={**_operator_details(actor), "count": len(users)},
    )
    return users


def memberships_of(user: User) -> list[OrganisationMembership]:
    """The organisations a user belongs to, by name, with their role in each."""
    return sorted(user.memberships, key=lambda membership: membership.organisation.name.casefold())


# Helpers ----------------------------------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _load_token(token: str, *, salt: str, max_age: int) -> dict[str, Any]:
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ExpiredToken() from None
    except BadSignature:
        raise InvalidToken() from None
    if not isinstance(payload, dict):
        raise InvalidToken()
    return payload


def _user_from_payload(payload: dict[str, Any]) -> User | None:
    try:
        return db.session.get(User, uuid.UUID(str(payload.get("user"))))
    except ValueError:
        return None


def _account_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(role.value for role in user.roles),
        "email_confirmed": user.email_confirmed_at is not None,
    }


def _operator_details(actor: User | None) -> dict[str, str]:
    # Without a signed-in actor the change came from the command line: say which system account ran it.
    if actor is not None:
        return {}
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):
        operator = "unknown"
    return {"via": "command line", "operator": operator}
