"""Council pages: home."""

from portal.council import bp  # noqa: F401
