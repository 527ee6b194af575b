"""The site's own pages: accessibility statement, privacy notice, cookies, contact.

Also the few helpers the layout (templates/base.html) needs on every page: the service name in the reader's
language and links that only appear when their endpoint exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from portal.i18n import LOCALE_COOKIE_MAX_AGE, current_language
from portal.public import bp

# When the accessibility statement was last reviewed against WCAG 2.2 AA (shown on the statement).
ACCESSIBILITY_STATEMENT_PREPARED = date(2025, 11, 20)
ACCESSIBILITY_STATEMENT_REVIEWED = date(2025, 11, 20)
PRIVACY_NOTICE_UPDATED = date(2025, 11, 20)


def url_if_exists(endpoint: str, **values) -> str | None:
    """The URL of ``endpoint``, or None when no such view is registered.

    The layout links to pages other parts of the portal provide (sign in, your account); a missing one must
    drop its link, never turn every page into a 500.
    """
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def service_name() -> str:
    config = current_app.config
    if current_language() == "cy" and config.get("SERVICE_NAME_CY"):
        return config["SERVICE_NAME_CY"]
    return config["SERVICE_NAME"]


# Intl.PluralRules categories the browser uses for Welsh; GOV.UK Frontend warns when one is missing.
_WELSH_PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def _counted(one: str, other: str) -> dict[str, str]:
    if current_language() == "cy":
        return {category: one if category == "one" else other for category in _WELSH_PLURAL_CATEGORIES}
    return {"one": one, "other": other}


def govuk_component_texts() -> dict[str, dict]:
    """The words GOV.UK Frontend's JavaScript writes into the page, in the reader's language.

    static/src/init.js passes them to initAll; `%{count}` is GOV.UK Frontend's placeholder, kept as is.
    """
    return {
        "passwordInput": {
            "showPassword": _("Show"),
            "hidePassword": _("Hide"),
            "showPasswordAriaLabel": _("Show password"),
            "hidePasswordAriaLabel": _("Hide password"),
            "passwordShownAnnouncement": _("Your password is visible"),
            "passwordHiddenAnnouncement": _("Your password is hidden"),
        },
        "characterCount": {
            "charactersUnderLimit": _counted(
                _("You have %{count} character remaining"), _("You have %{count} characters remaining")
            ),
            "charactersAtLimit": _("You have 0 characters remaining"),
            "charactersOverLimit": _counted(
                _("You have %{count} character too many"), _("You have %{count} characters too many")
            ),
            "wordsUnderLimit": _counted(
                _("You have %{count} word remaining"), _("You have %{count} words remaining")
            ),
            "wordsAtLimit": _("You have 0 words remaining"),
            "wordsOverLimit": _counted(
                _("You have %{count} word too many"), _("You have %{count} words too many")
            ),
        },
        "accordion": {
            "showAllSections": _("Show all sections"),
            "hideAllSections": _("Hide all sections"),
            "showSection": _("Show"),
            "hideSection": _("Hide"),
            "showSectionAriaLabel": _("Show this section"),
            "hideSectionAriaLabel": _("Hide this section"),
        },
        "exitThisPage": {
            "activated": _("Loading."),
            "timedOut": _("Exit this page expired."),
            "pressTwoMoreTimes": _("Shift, press 2 more times to exit."),
            "pressOneMoreTime": _("Shift, press 1 more time to exit."),
        },
    }


@bp.app_context_processor
def layout_helpers() -> dict:
    return {
        "url_if_exists": url_if_exists,
        "service_name": service_name(),
        "govuk_component_texts": govuk_component_texts,
        "current_year": datetime.now(UTC).year,
    }


@bp.get("/accessibility-statement")
def accessibility_statement():
    return render_template(
        "pages/accessibility_statement.html",
        prepared=ACCESSIBILITY_STATEMENT_PREPARED,
        reviewed=ACCESSIBILITY_STATEMENT_REVIEWED,
    )


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html", updated=PRIVACY_NOTICE_UPDATED)


@bp.get("/cookies")
def cookies():
    return render_template(
        "pages/cookies.html",
        session_hours=current_app.config["PERMANENT_SESSION_LIFETIME"] // 3600,
        locale_days=LOCALE_COOKIE_MAX_AGE // (60 * 60 * 24),
    )


@bp.get("/contact")
def contact():
    return render_template("pages/contact.html")
