"""A highlighted snippet of a listing's text: every character escaped, only the matched words wrapped in
<mark>. The text comes from the database row, the matched words from the search."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup, escape
from whoosh import highlight

from search.schema import text_analyzer

SNIPPET_CHARACTERS = 220


class _MarkFormatter(highlight.Formatter):
    between = " \u2026 "

    def _text(self, text: str) -> str:
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"


@functools.cache
def _analyzer():
    return text_analyzer()


def snippet(texts: Iterable[str], terms: frozenset[str]) -> Markup | None:
    """The best fragment of ``texts`` containing the stemmed ``terms``, or None when none contains them."""
    if not terms:
        return None
    text = "\n".join(part for part in texts if part)
    if not text:
        return None
    if len(text) <= SNIPPET_CHARACTERS:
        fragmenter = highlight.WholeFragmenter()
    else:  # the words around each match, starting and ending on whole words
        fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARACTERS, surround=60)
    found = highlight.highlight(text, terms, _analyzer(), fragmenter, _MarkFormatter(), top=2)
    return Markup(found) if found and "<mark>" in found else None
