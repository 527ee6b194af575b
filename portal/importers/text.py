"""Tidying text from other directories' feeds, shared by the importers."""

from __future__ import annotations

import re
from typing import Any


def clean(value: Any) -> str:
    """Text as given, with its whitespace tidied: no \\r, trailing spaces or runs of blank lines."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_line(value: Any) -> str:
    return re.sub(r"\s+", " ", clean(value))


def first_sentence(description: str, *, limit: int) -> str:
    """A summary for feeds that have no short description: the first sentence, cut at a word when long."""
    first = re.split(r"(?<=[.!?])\s|\n", description, maxsplit=1)[0].strip()
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0] + "…"
