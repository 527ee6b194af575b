"""Every endpoint says who may use it, and nobody gets in where they should not.

Walks the real URL map, so a new view without ``@public``/``@signed_in``/``@roles_required`` (or a guarded
blueprint) fails here before anyone can reach it.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Blueprint, Flask, url_for
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from portal import create_app
from portal.models import Role
from portal.security import public, roles_required, rule_for_endpoint, signed_in

# What an anonymous GET to a page that needs signing in, or a role, may answer.
REFUSALS = {403, 405}
REDIRECTS = {301, 302, 303, 307, 308}


def _dummy_value(rule: Rule, argument: str):
    """A well-formed value for a URL argument: access is decided before any record is looked up."""
    converter = rule._converters.get(argument)
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "dummy-slug"


def _url(app: Flask, rule: Rule) -> str:
    values = {argument: _dummy_value(rule, argument) for argument in rule.arguments if argument not in
              (rule.defaults or {})}
    method = "GET" if "GET" in (rule.methods or ()) else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def _sign_in_path(app: Flask) -> str:
    with app.test_request_context():
        return urlsplit(url_for("account.sign_in")).path


def _let_in(app: Flask, client, rules: list[Rule]) -> list[str]:
    """Each rule an anonymous GET is neither refused (403/405) nor sent to sign in by."""
    sign_in_path = _sign_in_path(app)
    let_in = []
    for rule in rules:
        url = _url(app, rule)
        response = client.get(url)
        location = urlsplit(response.headers.get("Location", "")).path
        refused = response.status_code in REFUSALS
        sent_to_sign_in = response.status_code in REDIRECTS and location == sign_in_path
        if not (refused or sent_to_sign_in):
            let_in.append(f"{rule.endpoint} GET {url} answered {response.status_code} "
                          f"{response.headers.get('Location', '')}".rstrip())
    return let_in


def test_every_endpoint_declares_who_may_use_it(app):
    with app.app_context():
        undeclared = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                             if rule_for_endpoint(rule.endpoint) is None})
    assert not undeclared, (
        "these endpoints have no access rule, so everyone is refused (403): add @public, @signed_in or "
        "@roles_required(...) under the route decorator, or guard_blueprint(bp, rule):\n  "
        + "\n  ".join(undeclared)
    )


def test_anonymous_visitors_cannot_open_pages_that_need_signing_in(app, client):
    with app.app_context():
        guarded = [rule for rule in app.url_map.iter_rules()
                   if rule_for_endpoint(rule.endpoint) not in (None, public)]
    let_in = _let_in(app, client, guarded)
    assert not let_in, (
        f"an anonymous visitor must be sent to {_sign_in_path(app)} or refused (403/405):\n  "
        + "\n  ".join(let_in)
    )


def test_signed_in_and_role_rules_send_anonymous_visitors_to_sign_in():
    # Proves the walk above would catch a leak even before many guarded pages exist.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    staff = Blueprint("staff_only", __name__, url_prefix="/staff-only")

    @staff.get("/mine")
    @signed_in
    def my_page():
        return "my details"

    @staff.get("/moderation/<uuid:change_id>")
    @roles_required(Role.COUNCIL_MODERATOR)
    def moderation(change_id):
        return "pending changes"

    app.register_blueprint(staff)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff_only.")]

    assert len(rules) == 2
    assert _let_in(app, app.test_client(), rules) == []


def test_a_view_without_an_access_rule_is_refused_to_everyone():
    # A throwaway app of its own: the routes registered here never reach the app the other tests use.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    forgotten = Blueprint("forgotten_rules", __name__, url_prefix="/forgotten")

    @forgotten.get("/page")
    def page_without_rule():
        return "secret listing data"

    @forgotten.get("/public-page")
    @public
    def page_with_rule():
        return "anyone may read this"

    app.register_blueprint(forgotten)
    app.add_url_rule("/bare-view", "bare_view", lambda: "secret too")
    client = app.test_client()

    refused_blueprint_view = client.get("/forgotten/page")
    refused_app_view = client.get("/bare-view")
    allowed = client.get("/forgotten/public-page")

    assert refused_blueprint_view.status_code == 403
    assert "secret listing data" not in refused_blueprint_view.get_data(as_text=True)
    assert refused_app_view.status_code == 403
    assert allowed.status_code == 200
    assert allowed.get_data(as_text=True) == "anyone may read this"
