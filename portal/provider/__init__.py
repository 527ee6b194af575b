"""Provider self-service: organisations, members and invitations, listings and their drafts, reports.

Signed-in provider users only; every record is reached through portal/data/access.py, so a user sees only
their own organisations' things (anything else is "not found")."""

from flask import Blueprint, render_template
from werkzeug.exceptions import NotFound

from portal.data.access import NotPermitted
from portal.models import Role
from portal.security import guard_blueprint, roles_required

bp = Blueprint("provider", __name__, url_prefix="/provider")
guard_blueprint(bp, roles_required(Role.PROVIDER))


@bp.errorhandler(NotPermitted)
def not_permitted(error):
    # Render the 404 page here: an exception raised inside an error handler is not handled again (a 500).
    return render_template("errors/404.html", error=NotFound()), 404


from portal.provider import (  # noqa: E402,F401
    dashboard,
    listings,
    offers,
    orders,
    organisations,
    payouts,
    reports,
    takings,
)
