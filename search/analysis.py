"""What a person typed, as words and phrases, with the care vocabulary's synonyms found in it.

Nothing here parses query syntax: every character a person types is text. Words are what the index's
unstemmed ``spelling`` analyzer makes of the text (lower case, accents folded, punctuation and emoji
dropped); a part in double quotes is a phrase. Synonyms come from ``synonyms.txt`` (data, not code).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter import stem

from search.schema import spelling_analyzer

# A query longer than this is not typed by a person; cap the work one request can cause.
MAX_QUERY_CHARACTERS = 200
MAX_UNITS = 10
MAX_WORD_LENGTH = 40
SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")

_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_QUOTED = re.compile(r'"([^"]*)"')

Words = tuple[str, ...]


def words_of(text: str) -> Words:
    """The folded, lower-case words of ``text`` as the index's ``spelling`` field holds them."""
    analyzer = _analyzer()
    # The tokenizer keeps "*" for Whoosh wildcards; a person's asterisk is never one.
    words = (token.text.replace("*", "")[:MAX_WORD_LENGTH] for token in analyzer(text))
    return tuple(word for word in words if word)


def _is_searchable(unit: Unit) -> bool:
    # The stemming analyzer drops stop words ("and", "not", "for") and single characters: a unit of only
    # those matches nothing, so it would turn an AND query into no results.
    if unit.quoted or unit.is_synonym:
        return True
    return any(len(word) > 1 and word not in STOP_WORDS for word in unit.words)


@functools.cache
def _analyzer():
    return spelling_analyzer()


@dataclass(frozen=True)
class Unit:
    """One thing a result must match: a word, a phrase the person quoted, or words the care vocabulary knows
    (then ``alternatives`` holds every way of saying it, the typed one first)."""

    words: Words
    quoted: bool = False
    alternatives: tuple[Words, ...] = field(default=())
    group: int | None = None  # the care vocabulary's group, for a synonym (search.concepts)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def is_synonym(self) -> bool:
        return len(self.alternatives) > 1


def _key(words: Words) -> Words:
    # Stemmed, stop words kept: "care homes" is "care home", while "care at home" stays another phrase.
    return tuple(stem(word) for word in words)


class Synonyms:
    """Groups of equivalent phrases, looked up by their words' stems (plurals and endings are the same phrase)."""

    def __init__(self, groups: list[list[Words]]) -> None:
        self.groups = groups
        self._group_of: dict[Words, int] = {}
        for number, group in enumerate(groups):
            for phrase in group:
                self._group_of.setdefault(_key(phrase), number)
        self.longest = max((len(phrase) for phrase in self._group_of), default=0)

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        groups: list[list[Words]] = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            group: list[Words] = []
            for phrase in line.split(","):
                words = words_of(phrase)
                if words and words not in group:
                    group.append(words)
            if len(group) > 1:
                groups.append(group)
        return cls(groups)

    def group_of(self, words: Words) -> int | None:
        return self._group_of.get(_key(words))

    def alternatives(self, words: Words) -> tuple[Words, ...] | None:
        key = _key(words)
        number = self._group_of.get(key)
        if number is None:
            return None
        return (words, *(phrase for phrase in self.groups[number] if _key(phrase) != key))


@functools.cache
def care_synonyms() -> Synonyms:
    return Synonyms.parse(SYNONYMS_FILE.read_text(encoding="utf-8"))


def _parts(text: str) -> list[tuple[Words, bool]]:
    """(words, quoted) in the order typed; an unmatched quote mark is just a character."""
    text = text[:MAX_QUERY_CHARACTERS].translate(_QUOTES)
    parts: list[tuple[Words, bool]] = []
    position = 0
    for match in _QUOTED.finditer(text):
        parts.extend(((word,), False) for word in words_of(text[position:match.start()]))
        phrase = words_of(match.group(1))
        if len(phrase) > 1:
            parts.append((phrase, True))
        elif phrase:
            parts.append((phrase, False))
        position = match.end()
    parts.extend(((word,), False) for word in words_of(text[position:]))
    return parts


def units_of(text: str, synonyms: Synonyms | None = None) -> list[Unit]:
    """The units a result must match, synonyms found greedily (longest phrase first) among unquoted words,
    repeated units dropped, at most MAX_UNITS."""
    synonyms = synonyms if synonyms is not None else care_synonyms()
    parts = _parts(text)
    units: list[Unit] = []
    index = 0
    while index < len(parts):
        words, quoted = parts[index]
        unit, used = Unit(words, quoted=quoted, alternatives=(words,)), 1
        if not quoted:
            for length in range(min(synonyms.longest, len(parts) - index), 0, -1):
                window = parts[index:index + length]
                if any(is_quoted for _, is_quoted in window):
                    continue
                phrase = tuple(word for part, _ in window for word in part)
                found = synonyms.alternatives(phrase)
                if found:
                    unit, used = Unit(phrase, alternatives=found, group=synonyms.group_of(phrase)), length
                    break
        if _is_searchable(unit) and unit.words not in (existing.words for existing in units):
            units.append(unit)
        index += used
    return units[:MAX_UNITS]
