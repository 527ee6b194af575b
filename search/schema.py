"""The Whoosh schema: only what search needs. The database, never the index, is what pages show."""

from __future__ import annotations

from whoosh import fields
from whoosh.analysis import CharsetFilter, SimpleAnalyzer, StemmingAnalyzer
from whoosh.support.charset import accent_map

# Bump when the schema or the analysis changes: an index of another version is rebuilt at start.
SCHEMA_VERSION = 1


def text_analyzer():
    # English stemming, and accent folding so "caf\u00e9" finds "cafe" and Welsh "\u0175" finds "w".
    return StemmingAnalyzer() | CharsetFilter(accent_map)


def build_schema() -> fields.Schema:
    analyzer = text_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),
        name=fields.TEXT(analyzer=analyzer, field_boost=3.0, phrase=True),
        # One catch-all body field: faster than searching several (NOTES.md).
        body=fields.TEXT(analyzer=analyzer, phrase=True),
        # Unstemmed words, for "did you mean" suggestions from the index's own vocabulary.
        spelling=fields.TEXT(analyzer=SimpleAnalyzer() | CharsetFilter(accent_map), spelling=True),
        organisation=fields.ID(stored=True),
        categories=fields.KEYWORD(commas=True, lowercase=False),
        needs=fields.KEYWORD(commas=True, lowercase=False),
        localities=fields.KEYWORD(commas=True, lowercase=False),
        languages=fields.KEYWORD(commas=True, lowercase=True),
        min_age=fields.NUMERIC(int, bits=32, signed=True, stored=False),
        max_age=fields.NUMERIC(int, bits=32, signed=True, stored=False),
        is_free=fields.BOOLEAN(),
        in_person=fields.BOOLEAN(),
        online=fields.BOOLEAN(),
        by_phone=fields.BOOLEAN(),
        local_offer=fields.BOOLEAN(),
        updated=fields.NUMERIC(int, bits=64, sortable=True, stored=True),
    )
