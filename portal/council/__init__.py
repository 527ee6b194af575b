"""The council's back office: provider approvals, listing moderation, reports, audit.

Guarded as a whole for council staff; each view narrows to the role it needs (a council admin has them all)."""

from flask import Blueprint

from portal.models import Role
from portal.security import guard_blueprint, roles_required

bp = Blueprint("council", __name__, url_prefix="/council")
COUNCIL_STAFF = roles_required(*(role for role in Role if role.is_council))
guard_blueprint(bp, COUNCIL_STAFF)

from portal.council import (  # noqa: E402,F401
    audit,
    direct_payments,
    disputes,
    dp_audit,
    guides,
    home,
    moderation,
    payouts,
    providers,
    reports,
)
