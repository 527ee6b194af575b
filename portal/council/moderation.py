"""Council pages: moderation."""

from portal.council import bp  # noqa: F401
