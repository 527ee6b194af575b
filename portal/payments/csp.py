"""The Content-Security-Policy of the card page: the site's policy plus Stripe.js's origins, and nothing more.

Stripe.js must load from Stripe (https://js.stripe.com, framing https://js.stripe.com and https://hooks.stripe.com,
calling https://api.stripe.com) or, in development and tests, from localstripe's stand-in at STRIPE_API_BASE. The
origin depends on the running app's configuration, so the policy is a mapping read when the response is made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from flask import current_app

from portal.extensions import talisman

STRIPE_SOURCES = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def stripe_sources() -> dict[str, list[str]]:
    base = current_app.config.get("STRIPE_API_BASE")
    if not base:
        return STRIPE_SOURCES
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    return {"script-src": [origin], "connect-src": [origin]}


class CardPagePolicy(Mapping):
    """Flask-Talisman reads a view's policy with ``.items()`` on every response: this one is built then."""

    def _policy(self) -> dict[str, str]:
        policy = {section: str(value) for section, value in (talisman.content_security_policy or {}).items()}
        for section, origins in stripe_sources().items():
            policy[section] = " ".join([policy.get(section, "'self'"), *origins])
        return policy

    def __getitem__(self, key: str) -> str:
        return self._policy()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy())

    def __len__(self) -> int:
        return len(self._policy())


def card_page_csp():
    """Decorator for a view that loads Stripe.js."""
    return talisman(content_security_policy=CardPagePolicy())
