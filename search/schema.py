"""The Whoosh schema: only what search needs. The database, never the index, is what pages show."""

from __future__ import annotations

import re

from whoosh import columns, fields
from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.support.charset import accent_map

from search.codec import CompactPositions

# Bump when the schema or the analysis changes (search.concepts' finding of phrases included): an index of another
# version is rebuilt at start.
# 4: stop words keep their positions; apostrophes and dotted abbreviations folded; SEND need wording indexed.
# 5: council guides beside the services (``kind`` "guide", ``slug``); services bought with a direct payment.
# 6: postings written by search.codec (CareCodec blocks, CompactPositions); the care vocabulary's phrases found
#    when indexing (search.concepts: a term per group in the name and body).
SCHEMA_VERSION = 6

# What a document is: a service (a listing) or a council guide. Every search asks for one kind only.
KIND_SERVICE = "service"
KIND_GUIDE = "guide"


# A word, with apostrophes ("Alzheimer's", "O\u2019Brien") and dots ("P.A.", "3.5") inside it kept together
# for WordForms to fold.
_APOSTROPHES = "'\u2019\u2018\u02bc`"
WORD_PATTERN = rf"\w+(?:[.{_APOSTROPHES}]\w+)*"
_TO_APOSTROPHE = str.maketrans({mark: "'" for mark in _APOSTROPHES})
# Single letters each followed by a dot: an abbreviation ("p.a", "o.t"), not a number ("3.5") or a domain.
_DOTTED_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")


def fold_word(text: str) -> str:
    """One lower-case token as every analyzer stores it: possessives and apostrophes dropped ("alzheimer's",
    "alzheimer\u2019s" -> "alzheimer"; "o'brien" -> "obrien") and dotted abbreviations collapsed ("p.a" ->
    "pa"), so each way of writing a word is the same word."""
    if "." in text and _DOTTED_ABBREVIATION.fullmatch(text):
        text = text.replace(".", "")
    text = text.translate(_TO_APOSTROPHE)
    if "'" in text:
        if text.endswith("'s"):
            text = text[:-2]
        text = text.replace("'", "")
    return text


class WordForms(Filter):
    """Applies fold_word to each token (a token folded to nothing is dropped, keeping the others' positions)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold_word(token.text)
            if token.text:
                yield token

# Age groups a service is filed under when its age range overlaps them (a missing bound is open). Discrete
# keyword terms make the age filter and its counts a cached Term docset, where NumericRange is slow (NOTES.md).
# (slug, lowest age, highest age); the last group has no upper bound.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-4", 0, 4),
    ("5-10", 5, 10),
    ("11-15", 11, 15),
    ("16-17", 16, 17),
    ("18-24", 18, 24),
    ("25-64", 25, 64),
    ("65-plus", 65, None),
)

# How people can attend: the values of the ``attending`` keyword field.
ATTENDING = ("in-person", "online", "phone")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _words():
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | WordForms()


def text_analyzer():
    # English stemming, and accent folding so "caf\u00e9" finds "cafe" and Welsh "\u0175" finds "w". Stop words
    # are dropped but keep their positions (renumber=False): "Care at home" must not become the phrase
    # "care home". Phrases with stop words in them are matched with the same gaps (search.facets.phrase_docs).
    return (_words() | StopFilter(minsize=2, renumber=False) | StemFilter(cachesize=50000)
            | CharsetFilter(accent_map))


def spelling_analyzer():
    # Unstemmed, folded words: what "did you mean" suggests and what query words are compared with.
    return _words() | CharsetFilter(accent_map)


def age_bands_overlapping(minimum: int | None, maximum: int | None) -> list[str]:
    """The age groups a range overlaps; None on either side is open ("up to 11", "18 and over")."""
    low = minimum if minimum is not None else 0
    high = maximum if maximum is not None else 10_000
    return [slug for slug, band_low, band_high in AGE_BANDS
            if low <= (band_high if band_high is not None else 10_000) and band_low <= high]


def _compact_positions(field: fields.TEXT) -> fields.TEXT:
    """A text field whose positions are stored by CompactPositions (search.codec)."""
    field.format = CompactPositions(field_boost=field.format.field_boost)
    return field


def build_schema() -> fields.Schema:
    from search.concepts import ConceptFilter  # it reads the care vocabulary, which is analysed with this module

    # The text fields' analyzer when indexing: the words, then a term for each care vocabulary phrase found.
    analyzer = text_analyzer() | ConceptFilter()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),  # KIND_SERVICE or KIND_GUIDE
        slug=fields.ID(stored=True),  # a guide's address (/guides/<slug>); services have none
        name=_compact_positions(fields.TEXT(analyzer=analyzer, field_boost=3.0, phrase=True)),
        # For sorting a search without words alphabetically.
        sort_name=fields.ID(sortable=True),
        # One catch-all body field: faster than searching several (NOTES.md).
        body=_compact_positions(fields.TEXT(analyzer=analyzer, phrase=True)),
        # Only ever looked up word by word (never as a phrase): no positions to write. Services' words only, so
        # "did you mean" suggests what finds services.
        spelling=fields.TEXT(analyzer=spelling_analyzer(), spelling=True, phrase=False),
        organisation=fields.ID(stored=True),
        categories=fields.KEYWORD(commas=True, lowercase=False),
        needs=fields.KEYWORD(commas=True, lowercase=False),
        localities=fields.KEYWORD(commas=True, lowercase=False),
        languages=fields.KEYWORD(commas=True, lowercase=True),
        ages=fields.KEYWORD(commas=True, lowercase=False),
        days=fields.KEYWORD(commas=True, lowercase=False),
        attending=fields.KEYWORD(commas=True, lowercase=False),
        # "lat,lon;lat,lon" in degrees: every document's places, measured at once (search.geo.Coordinates).
        points=fields.COLUMN(columns.VarBytesColumn()),
        # Numbers are indexed as one term each (shift_step=0): no query ranges over them (age, place and day
        # filters use the keyword fields above), and Whoosh's default trie of 8-16 terms per number made
        # them a quarter of all postings, the bulk of a rebuild's time.
        min_age=fields.NUMERIC(int, bits=32, signed=True, stored=False, shift_step=0),
        max_age=fields.NUMERIC(int, bits=32, signed=True, stored=False, shift_step=0),
        # Micro-degrees of the first place: NUMERIC(float) crashes on add_document (NOTES.md).
        latitude=fields.NUMERIC(int, bits=64, signed=True, shift_step=0),
        longitude=fields.NUMERIC(int, bits=64, signed=True, shift_step=0),
        # The lowest price in pence, when the service states one.
        price=fields.NUMERIC(int, bits=64, signed=True, shift_step=0),
        is_free=fields.BOOLEAN(),
        in_person=fields.BOOLEAN(),
        online=fields.BOOLEAN(),
        by_phone=fields.BOOLEAN(),
        local_offer=fields.BOOLEAN(),
        # Bought with a direct payment through the marketplace: a published priced offer from an organisation
        # whose payout details the council verified.
        dp_purchasable=fields.BOOLEAN(),
        updated=fields.NUMERIC(int, bits=64, sortable=True, stored=True, shift_step=0),
    )
