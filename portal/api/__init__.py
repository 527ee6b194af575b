"""The Open Referral UK (HSDS 3.0 UK profile) API at /api: the public directory as JSON.

Read-only and public: no account, no CSRF (GET only), CORS open to any origin, cached for a minute with
ETag and Last-Modified validators, and rate limited per client (``API_RATE_LIMIT``, default 120 a minute).
Errors are JSON (``{"error": ..., "detail": ...}``), never an HTML page.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException

from portal.extensions import csrf, db, limiter
from portal.security import guard_blueprint, public

DEFAULT_RATE_LIMIT = "120 per minute"

bp = Blueprint("api", __name__, url_prefix="/api")
guard_blueprint(bp, public)
csrf.exempt(bp)


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT


# One allowance per client across every API endpoint; preflight requests cost nothing.
limiter.shared_limit(_rate_limit, scope="api", methods=["GET", "HEAD"])(bp)


@bp.after_request
def _cors(response):
    from portal.api.responses import add_cors

    return add_cors(response)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    from portal.api.responses import error_response

    code = error.code or 500
    names = {404: "not_found", 405: "method_not_allowed", 429: "too_many_requests"}
    response = error_response(code, names.get(code, error.name.lower().replace(" ", "_")), error.description or "")
    if code == 429:
        response.headers["Retry-After"] = "60"
    if code == 405:
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return response


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    from portal.api.responses import error_response

    current_app.logger.exception("API error on %s", request.full_path)
    db.session.rollback()
    return error_response(500, "server_error", "Something went wrong. Try again later.")


from portal.api import routes  # noqa: E402,F401  (registers the views on bp)
