"""Council pages: providers."""

from portal.council import bp  # noqa: F401
