"""Pages for everyone: the directory (home, categories, services, organisations) and the site's own pages."""

from flask import Blueprint

from portal.security import guard_blueprint, public

bp = Blueprint("public", __name__)
guard_blueprint(bp, public)

from portal.public import guides, open_data, pages, reports, routes  # noqa: E402,F401  (views register on bp)
