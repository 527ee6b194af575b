"""Provider pages: listings."""

from portal.provider import bp  # noqa: F401
