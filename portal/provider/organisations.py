"""Provider pages: organisations."""

from portal.provider import bp  # noqa: F401
