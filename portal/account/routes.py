"""Account pages: sign in and out, provider sign-up, email confirmation, password reset and change, the
development outbox. The account blueprint has no blanket rule: every view declares its own."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import _
from flask_login import current_user, login_user, logout_user

from portal import mail, passwords
from portal.account import bp
from portal.account.forms import (
    ChangePasswordForm,
    EmailOnlyForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
)
from portal.data import accounts
from portal.extensions import db, limiter, login_manager
from portal.security import public, rule_for_endpoint, signed_in

# The session remembers which password it was signed in with: changing the password ends the others.
SESSION_FINGERPRINT_KEY = "password_fingerprint"
CHECK_EMAIL_KEY = "check_email_address"


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _public_form_limit() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMIT"]


def _submitted_email() -> str:
    # Counted per address as well as per IP address, so spreading guesses over many machines does not help.
    return "email:" + accounts.normalise_email(request.form.get("email", ""))


@bp.app_template_filter("role_label")
def role_label_filter(role) -> str:
    return accounts.role_label(role)


@bp.app_template_filter("membership_role_label")
def membership_role_label_filter(role) -> str:
    return accounts.membership_role_label(role)


@bp.before_app_request
def end_sessions_that_no_longer_hold():
    """Sign out a session whose user was deactivated or whose password has changed since it signed in."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    remembered = session.get(SESSION_FINGERPRINT_KEY)
    if current_user.active and (
        remembered is None or remembered == accounts.session_fingerprint(current_user)
    ):
        return None
    logout_user()
    _forget_session()
    rule = rule_for_endpoint(request.endpoint)
    if rule is not None and rule.needs_sign_in:
        return login_manager.unauthorized()
    return None


def safe_next_url(target: str | None) -> str | None:
    """``target`` as a path on this site, or None when it would leave the site (an open redirect)."""
    if not target or any(ch in target for ch in "\\\r\n\t") or len(target) > 2000:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        # Flask-Login sends the full URL of the page that needed signing in: accept only this host's.
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return None
    return urlunsplit(("", "", path, parts.query, ""))


def _forget_session() -> None:
    session.clear()
    # Flask-WTF caches this request's CSRF token, made from the session just emptied: drop it too.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _start_session(user) -> None:
    # A new session at the moment of signing in: nothing planted in the old one carries over.
    _forget_session()
    session.permanent = True
    login_user(user, remember=False, fresh=True)
    session[SESSION_FINGERPRINT_KEY] = accounts.session_fingerprint(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_sign_in_limit, methods=["POST"], key_func=_submitted_email)
def sign_in():
    next_url = safe_next_url(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("account.your_account"))
    form = SignInForm()
    unconfirmed_email = None
    if form.validate_on_submit():
        try:
            user = accounts.sign_in(email=form.email.data, password=form.password.data)
        except accounts.InvalidCredentials:
            form.email.errors.append(_("Enter a correct email address and password"))
        except accounts.AccountDeactivated:
            form.email.errors.append(
                _("Your account has been deactivated. Contact the council if you need it back")
            )
        except accounts.EmailNotConfirmed as refusal:
            unconfirmed_email = refusal.user.email
        else:
            _start_session(user)
            db.session.commit()
            return redirect(next_url or url_for("account.your_account"))
        db.session.commit()  # the failed attempt's audit event
    return render_template(
        "account/sign_in.html", form=form, next_url=next_url, unconfirmed_email=unconfirmed_email
    )


@bp.post("/sign-out")
@public  # an already-expired session may still press "Sign out"; CSRF protection still applies
def sign_out():
    if current_user.is_authenticated:
        accounts.record_sign_out(user=current_user._get_current_object())
        db.session.commit()
    logout_user()
    _forget_session()
    return redirect(url_for("account.signed_out"))


@bp.get("/signed-out")
@public
def signed_out():
    return render_template("account/signed_out.html")


@bp.route("/sign-up", methods=["GET", "POST"])
@public
@limiter.limit(_public_form_limit, methods=["POST"])
def sign_up():
    form = SignUpForm()
    if form.validate_on_submit():
        accounts.sign_up_provider(name=form.name.data, email=form.email.data, password=form.password.data)
        db.session.commit()
        return _to_check_your_email(form.email.data)
    return render_template("account/sign_up.html", form=form)


def _to_check_your_email(email: str):
    session[CHECK_EMAIL_KEY] = accounts.normalise_email(email)
    return redirect(url_for("account.check_your_email"))


@bp.get("/check-your-email")
@public
def check_your_email():
    return render_template("account/check_your_email.html", email=session.get(CHECK_EMAIL_KEY))


@bp.get("/confirm/<token>")
@public
def confirm_email(token: str):
    try:
        user = accounts.confirm_email(token=token)
    except accounts.ExpiredToken:
        return render_template("account/link_failed.html", reason="expired", purpose="confirm"), 400
    except accounts.InvalidToken:
        return render_template("account/link_failed.html", reason="invalid", purpose="confirm"), 400
    db.session.commit()
    return render_template("account/email_confirmed.html", user=user)


@bp.route("/resend-confirmation", methods=["GET", "POST"])
@public
@limiter.limit(_public_form_limit, methods=["POST"])
@limiter.limit(_public_form_limit, methods=["POST"], key_func=_submitted_email)
def resend_confirmation():
    form = EmailOnlyForm(data={"email": request.args.get("email", "")} if request.method == "GET" else None)
    if form.validate_on_submit():
        accounts.resend_confirmation(email=form.email.data)
        db.session.commit()
        return _to_check_your_email(form.email.data)
    return render_template("account/resend_confirmation.html", form=form)


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(_public_form_limit, methods=["POST"])
@limiter.limit(_public_form_limit, methods=["POST"], key_func=_submitted_email)
def forgot_password():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        accounts.request_password_reset(email=form.email.data)
        db.session.commit()
        return _to_check_your_email(form.email.data)
    return render_template("account/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_public_form_limit, methods=["POST"])
def reset_password(token: str):
    try:
        user = accounts.user_for_reset_token(token=token)
    except accounts.ExpiredToken:
        return render_template("account/link_failed.html", reason="expired", purpose="reset"), 400
    except accounts.InvalidToken:
        return render_template("account/link_failed.html", reason="invalid", purpose="reset"), 400
    form = ResetPasswordForm(known_email=user.email)
    if form.validate_on_submit():
        accounts.reset_password(token=token, password=form.password.data)
        db.session.commit()
        logout_user()
        _forget_session()
        flash(_("Your password has been changed. Sign in with your new password."), "success")
        return redirect(url_for("account.sign_in"))
    return render_template("account/reset_password.html", form=form, token=token)


@bp.get("")
@signed_in
def your_account():
    user = current_user._get_current_object()
    return render_template(
        "account/your_account.html",
        user=user,
        roles=sorted(user.roles, key=lambda role: accounts.role_label(role)),
        memberships=accounts.memberships_of(user),
    )


@bp.route("/change-password", methods=["GET", "POST"])
@signed_in
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(known_email=user.email)
    if form.validate_on_submit():
        try:
            accounts.change_password(
                user=user, current_password=form.current_password.data, new_password=form.password.data
            )
        except accounts.WrongCurrentPassword:
            form.current_password.errors.append(_("Your current password is not right. Enter it again"))
            db.session.commit()  # the failed attempt's audit event
        except passwords.PasswordRuleError as broken:
            form.password.errors.append(str(broken.message))
        else:
            db.session.commit()
            # This session carries on with the new password; every other one is signed out.
            session[SESSION_FINGERPRINT_KEY] = accounts.session_fingerprint(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("account.your_account"))
    return render_template("account/change_password.html", form=form)


def outbox():
    """Development only: the emails the portal would have sent, so a newcomer can follow their links."""
    if not mail.outbox_is_available():
        abort(404)
    return render_template(
        "account/outbox.html", messages=mail.latest_outbox_messages(), linkify=mail.linkify
    )


# The outbox lives at /outbox, outside the blueprint's /account prefix, but is still ``account.outbox``.
outbox = public(outbox)
bp.record_once(lambda state: state.app.add_url_rule("/outbox", "account.outbox", outbox, methods=["GET"]))
