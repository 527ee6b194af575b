"""Configuration that keeps a live portal safe: production will not start insecure, cookies are locked down,
and the tests exercise CSRF protection rather than switching it off."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from portal import create_app
from portal.config import DEFAULT_SECRET_KEY, PROJECT_ROOT
from portal.security import public

GOOD_KEY = secrets.token_hex(32)
MESSAGE = "SECRET_KEY must be set to a random value of at least 32 characters in production"


def _production_app(tmp_path: Path, **overrides) -> Flask:
    settings = {
        "SECRET_KEY": GOOD_KEY,
        "MAIL_SERVER": "smtp.aldermoor.example.gov.uk",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SEARCH_INDEX_DIR": str(tmp_path / "search-index"),
    }
    settings.update(overrides)
    return create_app("production", **settings)


@pytest.mark.parametrize(
    "secret_key",
    [DEFAULT_SECRET_KEY, "", None, "too-short-" + "x" * 21],
    ids=["development default", "empty", "missing", "31 characters"],
)
def test_production_refuses_to_start_with_a_guessable_secret_key(tmp_path, secret_key):
    with pytest.raises(RuntimeError, match=MESSAGE):
        _production_app(tmp_path, SECRET_KEY=secret_key)


def test_production_refuses_to_start_without_a_mail_server(tmp_path):
    # Sign-up and password reset would silently send nothing.
    with pytest.raises(RuntimeError, match="MAIL_SERVER must be set in production"):
        _production_app(tmp_path, MAIL_SERVER=None)


def test_production_starts_with_a_random_key_and_a_mail_server(tmp_path):
    app = _production_app(tmp_path)

    assert app.config["SECRET_KEY"] == GOOD_KEY
    assert not app.testing
    assert app.config["OUTBOX_ENABLED"] is False


def test_flask_command_with_an_empty_secret_key_in_production_exits_with_the_reason(tmp_path):
    environment = {**os.environ, "PORTAL_CONFIG": "production", "SECRET_KEY": "",
                   "PORTAL_INSTANCE_DIR": str(tmp_path / "instance")}
    flask = Path(sys.executable).with_name("flask")

    result = subprocess.run([str(flask), "--app", "wsgi", "routes"], cwd=PROJECT_ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert MESSAGE in result.stderr + result.stdout
    assert "public.home" not in result.stdout  # it never got as far as listing routes


def _cookie(set_cookie_headers: list[str], name: str) -> dict[str, str]:
    """The attributes of one Set-Cookie, lower-cased: {"secure": "", "samesite": "lax", ...}."""
    for header in set_cookie_headers:
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.split("=", 1)[0] == name:
            pairs = (attribute.split("=", 1) + [""] for attribute in attributes)
            return {key.lower(): value.lower() for key, value, *_ in pairs}
    raise AssertionError(f"no {name} cookie set: {set_cookie_headers}")


def test_production_cookies_are_secure_http_only_and_same_site_lax(tmp_path):
    app = _production_app(tmp_path)

    @app.get("/_remember-me")
    @public
    def remember_me():
        session["seen"] = True
        return str(get_locale())  # choosing the locale is what sets the language cookie

    response = app.test_client().get("/_remember-me?lang=cy", base_url="https://localhost")
    set_cookies = response.headers.getlist("Set-Cookie")

    assert response.status_code == 200
    for name in (app.config["SESSION_COOKIE_NAME"], "locale"):
        cookie = _cookie(set_cookies, name)
        assert "secure" in cookie, f"{name} cookie would travel over plain HTTP"
        assert "httponly" in cookie, f"{name} cookie readable by scripts"
        assert cookie.get("samesite") == "lax", f"{name} cookie sent on cross-site requests"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_testing_config_keeps_csrf_protection_on():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")

    @app.route("/_form", methods=["GET", "POST"])
    @public
    def form():
        return generate_csrf() if request.method == "GET" else "saved"

    client = app.test_client()
    forged = client.post("/_form", data={"name": "x"})
    token = client.get("/_form").get_data(as_text=True)
    genuine = client.post("/_form", data={"name": "x", "csrf_token": token})

    assert app.config["WTF_CSRF_ENABLED"] is True
    assert forged.status_code == 400
    assert genuine.status_code == 200
    assert genuine.get_data(as_text=True) == "saved"
