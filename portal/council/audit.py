"""Council pages: audit."""

from portal.council import bp  # noqa: F401
