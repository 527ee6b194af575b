"""The direct-payment holder's area at /direct-payment: their card, and (later) basket, checkout, orders and
statements. For the holder and their nominated person; the account they act for comes from
portal.data.dp_access.dp_account_for (anything else is "not found")."""

from flask import Blueprint, render_template
from werkzeug.exceptions import NotFound

from portal.data.access import NotPermitted
from portal.models import Role
from portal.security import guard_blueprint, roles_required

bp = Blueprint("holder", __name__, url_prefix="/direct-payment")
guard_blueprint(bp, roles_required(Role.DP_HOLDER, Role.NOMINATED_PERSON))


@bp.errorhandler(NotPermitted)
def not_permitted(error):
    # Render the 404 page here: an exception raised inside an error handler is not handled again (a 500).
    return render_template("errors/404.html", error=NotFound()), 404


from portal.holder import basket, card, checkout, home, orders, statements  # noqa: E402,F401
