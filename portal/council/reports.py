"""Council pages: reports."""

from portal.council import bp  # noqa: F401
