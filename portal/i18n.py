"""Locale choice (``?lang=``, remembered in a cookie, then the cookie, then Accept-Language) and formatting."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import format_currency, get_locale

LOCALE_COOKIE = "locale"
LOCALE_COOKIE_MAX_AGE = 60 * 60 * 24 * 365


# Babel's plain "en" formats dates and times the American way; a UK council writes 20 November 2025, 09:30.
BABEL_LOCALES = {"en": "en_GB", "cy": "cy"}


def select_locale() -> str:
    return BABEL_LOCALES[_chosen_language()]


def _chosen_language() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang", "").strip().lower()
    if asked in languages:
        return asked
    remembered = request.cookies.get(LOCALE_COOKIE, "")
    if remembered in languages:
        return remembered
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_locale(response):
    """After a ``?lang=`` choice, keep it for the next requests (also when the response is a redirect, which
    never asked for the locale: the page it leads to must come out in the chosen language)."""
    asked = request.args.get("lang", "").strip().lower()
    chosen = asked if asked in current_app.config["LANGUAGES"] else None
    if chosen and request.cookies.get(LOCALE_COOKIE) != chosen:
        response.set_cookie(
            LOCALE_COOKIE,
            chosen,
            max_age=LOCALE_COOKIE_MAX_AGE,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


def current_language() -> str:
    return str(get_locale() or "en").split("_")[0]


def url_in_language(code: str) -> str:
    """The current page in another language (the switch in the header)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return f"{request.path}?{urlencode(args, doseq=True)}"


def money(pence: int | None) -> str:
    """Integer pence as pounds in the reader's locale: 1250 -> £12.50."""
    if pence is None:
        return ""
    return format_currency(pence / 100, "GBP")


def localised(obj, field: str) -> str:
    """A vocabulary's Welsh name when reading in Welsh and one exists, else the English."""
    if current_language() == "cy":
        welsh = getattr(obj, f"{field}_cy", "")
        if welsh:
            return welsh
    return getattr(obj, field)
