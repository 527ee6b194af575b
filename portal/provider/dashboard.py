"""Provider pages: dashboard."""

from portal.provider import bp  # noqa: F401
