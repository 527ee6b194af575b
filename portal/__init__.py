"""Care Portal: the application factory."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from portal import database, i18n  # noqa: F401  (database registers engine events)
from portal.config import PROJECT_ROOT, Config, config_from_name
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate, talisman

log = logging.getLogger(__name__)


def create_app(config: str | type[Config] | None = None, **overrides) -> Flask:
    config_class = config if isinstance(config, type) else config_from_name(config)
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        # GOV.UK Frontend's compiled CSS refers to /assets/...: serve our static folder there.
        static_url_path="/assets",
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(config_class.INSTANCE_DIR),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    config_class.check(app.config)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _init_extensions(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_handlers(app)

    from search import freshness

    freshness.init_app(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal.security import enforce_access

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        app.config["INSTANCE_DIR"].mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, default_translation_directories=app.config[
        "BABEL_TRANSLATION_DIRECTORIES"
    ])
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        content_security_policy={
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data:",
            "font-src": "'self'",
            "connect-src": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
            "base-uri": "'self'",
            "object-src": "'none'",
        },
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
    )

    login_manager.init_app(app)
    login_manager.login_view = "account.sign_in"
    login_manager.login_message_category = "info"
    # Flashed in the reader's language: the lazy string is rendered by localize_callback at flash time.
    login_manager.login_message = lazy_gettext("Sign in to see this page.")
    login_manager.localize_callback = str

    from portal.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        import uuid

        try:
            return db.session.get(User, uuid.UUID(user_id))
        except ValueError:
            return None

    app.before_request(enforce_access)
    app.after_request(i18n.remember_locale)


def _register_blueprints(app: Flask) -> None:
    from portal.account import bp as account_bp
    from portal.api import bp as api_bp
    from portal.council import bp as council_bp
    from portal.holder import bp as holder_bp
    from portal.payments.webhooks import bp as webhooks_bp
    from portal.provider import bp as provider_bp
    from portal.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(provider_bp)
    app.register_blueprint(council_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(holder_bp)
    app.register_blueprint(webhooks_bp)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_datetime

    @app.context_processor
    def branding():
        language = i18n.current_language()
        council = app.config["COUNCIL_NAME_CY"] if language == "cy" else app.config["COUNCIL_NAME"]
        return {
            "council_name": council,
            "current_language": language,
            "url_in_language": i18n.url_in_language,
            "show_demo_banner": app.config["SHOW_DEMO_BANNER"],
        }

    from portal import richtext

    app.jinja_env.filters["money"] = i18n.money
    # Providers' descriptions: a small Markdown subset, sanitised to an allow-list (the one trusted HTML path).
    app.jinja_env.filters["richtext"] = richtext.to_html
    app.jinja_env.filters["localised"] = i18n.localised
    app.jinja_env.filters["date"] = lambda value, fmt="long": format_date(value, fmt) if value else ""
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt) if value else ""


def _register_error_handlers(app: Flask) -> None:
    def render_error(error: HTTPException):
        code = error.code or 500
        if request.path == "/api" or request.path.startswith("/api/"):
            # API clients get JSON even for paths and methods no API route matched.
            return jsonify(error=error.name, detail=error.description), code
        template = f"errors/{code}.html" if code in (400, 403, 404, 405, 429, 500) else "errors/generic.html"
        return render_template(template, error=error), code

    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        db.session.rollback()
        return render_template("errors/500.html"), 500
