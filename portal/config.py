"""Configuration classes. Secrets come only from the environment.

Pick one with ``PORTAL_CONFIG`` (development, testing, production); ``create_app`` takes a name or a class.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "development-only-secret-key-not-for-production"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


class Config:
    ENV_NAME = "base"
    INSTANCE_DIR = Path(_env("PORTAL_INSTANCE_DIR", str(PROJECT_ROOT / "instance")))
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SEARCH_INDEX_DIR = _env("SEARCH_INDEX_DIR", str(INSTANCE_DIR / "search-index"))
    # The Open Referral UK profile's compiled JSON Schemas, read at run time (never copied into the project):
    # imports validate against them; the OpenAPI document embeds them when present, else links the published ones.
    ORUK_SCHEMA_DIR = _env(
        "ORUK_SCHEMA_DIR", str(PROJECT_ROOT.parent / "shared" / "oruk" / "uk-profile" / "schema" / "compiled")
    )
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "120 per minute")
    # Apply listing changes to the index at the end of the request that committed them (single process);
    # production runs `flask search sync --follow` as the one indexer instead.
    SEARCH_SYNC_AFTER_COMMIT = _env_bool("SEARCH_SYNC_AFTER_COMMIT", True)

    # Council branding: every page carries these, nothing says GOV.UK.
    COUNCIL_NAME = _env("COUNCIL_NAME", "Aldermoor Borough Council")
    COUNCIL_NAME_CY = _env("COUNCIL_NAME_CY", "Cyngor Bwrdeistref Aldermoor")
    SERVICE_NAME = _env("SERVICE_NAME", "Care and support directory")
    SERVICE_NAME_CY = _env("SERVICE_NAME_CY", "Cyfeiriadur gofal a chymorth")
    COUNCIL_BRAND_COLOUR = _env("COUNCIL_BRAND_COLOUR", "#0b5e57")
    COUNCIL_PHONE = _env("COUNCIL_PHONE", "01632 960 000")
    COUNCIL_EMAIL = _env("COUNCIL_EMAIL", "care.information@aldermoor.example.gov.uk")
    COUNCIL_ADDRESS = _env("COUNCIL_ADDRESS", "Civic Centre, Market Square, Aldermoor AM1 1AA")
    COUNCIL_WEBSITE = _env("COUNCIL_WEBSITE", "https://www.aldermoor.example.gov.uk")
    # Where the portal is reached, for links in emails sent outside a request (timers such as `flask listings remind`).
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    COUNCIL_OUT_OF_HOURS_PHONE = _env("COUNCIL_OUT_OF_HOURS_PHONE", "01632 960 999")
    DATA_PROTECTION_OFFICER_EMAIL = _env(
        "DATA_PROTECTION_OFFICER_EMAIL", "data.protection@aldermoor.example.gov.uk"
    )

    # Mail: a real SMTP server when MAIL_SERVER is set, otherwise the outbox (development only).
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Care Portal <no-reply@aldermoor.example.gov.uk>")

    # Stripe is only reached through portal/payments/.
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY", "sk_test_localstripe")
    STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # e.g. http://127.0.0.1:8420 for localstripe
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET", "whsec_localstripe")
    STRIPE_REQUIRE_PREPAID = _env_bool("STRIPE_REQUIRE_PREPAID", False)
    STRIPE_CONNECT_PAYOUTS = _env_bool("STRIPE_CONNECT_PAYOUTS", False)  # pay providers by Connect transfers

    # Direct payments: what the council's team is shown as an unusual pattern of spending.
    DP_PATTERN_MAX_ORDERS_PER_DAY = _env_int("DP_PATTERN_MAX_ORDERS_PER_DAY", 10)
    DP_PATTERN_PROVIDER_SHARE_PERCENT = _env_int("DP_PATTERN_PROVIDER_SHARE_PERCENT", 80)
    DP_PATTERN_PROVIDER_SHARE_MIN_PENCE = _env_int("DP_PATTERN_PROVIDER_SHARE_MIN_PENCE", 10_000)

    LANGUAGES = ("en", "cy")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/London"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "portal" / "translations")

    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8
    FORCE_HTTPS = False

    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_RATE_LIMIT = _env("SIGN_IN_RATE_LIMIT", "10 per minute;50 per hour")
    PUBLIC_FORM_RATE_LIMIT = _env("PUBLIC_FORM_RATE_LIMIT", "5 per minute;30 per hour")

    # argon2 parameters; tests use the cheapest profile.
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    EMAIL_TOKEN_MAX_AGE = 60 * 60 * 24 * 3
    PASSWORD_RESET_MAX_AGE = 60 * 60

    SHOW_DEMO_BANNER = _env_bool("SHOW_DEMO_BANNER", True)
    OUTBOX_ENABLED = True

    @staticmethod
    def check(config: dict) -> None:
        """Raise RuntimeError when ``config`` is unsafe to run with."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    TEMPLATES_AUTO_RELOAD = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    PASSWORD_HASH_PROFILE = "CHEAPEST"
    SEARCH_INDEX_DIR = None  # each test gets its own directory
    MAIL_SERVER = None
    SHOW_DEMO_BANNER = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SEARCH_SYNC_AFTER_COMMIT = _env_bool("SEARCH_SYNC_AFTER_COMMIT", False)
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)
    STRIPE_REQUIRE_PREPAID = _env_bool("STRIPE_REQUIRE_PREPAID", True)
    SHOW_DEMO_BANNER = _env_bool("SHOW_DEMO_BANNER", False)
    OUTBOX_ENABLED = False

    @staticmethod
    def check(config: dict) -> None:
        secret = config.get("SECRET_KEY")
        if not secret or secret == DEFAULT_SECRET_KEY or len(secret) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if not config.get("MAIL_SERVER"):
            raise RuntimeError("MAIL_SERVER must be set in production: sign-up and password reset send email.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_name(name: str | None) -> type[Config]:
    name = (name or _env("PORTAL_CONFIG", "development")).lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown PORTAL_CONFIG {name!r}: use one of {', '.join(CONFIGS)}.") from None
