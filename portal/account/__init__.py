"""Accounts: sign in and out, provider sign-up with email confirmation, password reset."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from portal.account import routes  # noqa: E402,F401
