"""Provider pages: reports."""

from portal.provider import bp  # noqa: F401
