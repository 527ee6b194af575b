"""The query mix: what residents type, in six classes, generated deterministically for a corpus.

Every query asks for what the search page needs: the first page of ids in order, the total, and the count
of every filter option (the page always shows them), so every engine does the same work per query.

- ``one_word``: a single word ("respite", "dementia").
- ``several_words``: two to four words, all of which must match ("day centre older people").
- ``phrase``: a quoted phrase ("\"short breaks\"").
- ``filtered``: words with one to three filters (category, age, need, locality, free, attending, day).
- ``facets``: large result sets whose counts are the work: browsing a category with no words, or a very
  common word, with and without filters.
- ``near``: words (or none) near a postcode within a radius, relevance blended with distance (or nearest
  first when there are no words); online and phone services stay in.

Queries are varied (each text/filter/place combination once per run), so no engine is helped by a cache of
its own answers; caches of per-index-generation filter sets are allowed, as the design intends.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

CLASSES = ("one_word", "several_words", "phrase", "filtered", "facets", "near")
FLAG_VALUE = "yes"
DATA_DIR = Path(__file__).resolve().parent.parent / "portal" / "demo" / "data"

SINGLE_WORDS = (
    "respite", "dementia", "carers", "autism", "befriending", "advocacy", "childcare", "nursery", "counselling",
    "wheelchair", "telecare", "equipment", "reablement", "tenancy", "housing", "debt", "benefits", "alcohol",
    "youth", "parenting", "meals", "transport", "bathing", "loneliness", "sensory", "bereavement", "volunteers",
    "swimming", "homework", "advice", "support", "care", "home", "group", "club", "cafe", "garden", "music",
    "alzheimers", "physio", "medication", "shopping", "hospital", "recovery", "drugs", "sexual", "refuge",
)
SEVERAL_WORDS = (
    "home care", "day centre older people", "support for carers", "mental health support", "short breaks disabled",
    "personal assistant", "help at home after hospital", "autism support group", "memory cafe", "falls alarm",
    "debt advice", "domestic abuse support", "drug alcohol", "youth club", "after school club", "holiday activities",
    "learning disability day", "carers assessment", "direct payment support", "free advice benefits",
    "live-in care", "night care", "sensory play", "parent support group", "hearing loss", "dementia carers group",
    "meals on wheels", "equipment for bathing", "supported living learning disabilities", "respite for carers",
    "help with shopping", "counselling young people", "support after a stroke", "walking group older people",
)
PHRASES = (
    "home care", "short breaks", "personal care", "day centre", "mental health", "learning disabilities",
    "memory cafe", "direct payments", "support group", "domestic abuse", "young carers", "personal assistant",
    "extra care", "shared lives", "peer support", "care workers", "your own home", "advice line", "care plan",
)
COMMON_WORDS = ("support", "care", "help", "group", "people", "home", "advice", "service")
RADII = (1.0, 3.0, 5.0, 10.0)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
AGE_BANDS = ("0-4", "5-10", "11-15", "16-17", "18-24", "25-64", "65-plus")
ATTENDING = ("in-person", "online", "phone")
STOP = {"a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in", "is", "it",
        "may", "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we", "when", "will", "with",
        "yet", "you", "your", "our", "who", "their", "they", "them", "all", "any", "also", "about"}


@dataclass(frozen=True)
class QuerySpec:
    kind: str  # one of CLASSES
    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    near: tuple[float, float, float] | None = None  # latitude, longitude, radius in miles

    def label(self) -> str:
        parts = [repr(self.text)] if self.text else ["(no words)"]
        parts += [f"{name}={','.join(values)}" for name, values in sorted(self.filters.items())]
        if self.near:
            parts.append(f"within {self.near[2]:g} mi")
        return " ".join(parts)


@dataclass(frozen=True)
class Vocabulary:
    """What filters and places a corpus offers."""

    child_categories: list[str]
    parent_categories: list[str]
    needs: list[str]
    localities: list[tuple[str, float, float]]  # slug, latitude, longitude


def corpus_vocabulary(connection: sa.Connection) -> Vocabulary:
    terms = connection.execute(sa.text("SELECT slug, parent_id FROM taxonomy_terms ORDER BY slug")).all()
    needs = connection.execute(sa.text("SELECT slug FROM needs ORDER BY slug")).scalars().all()
    places = connection.execute(sa.text("SELECT slug, latitude, longitude FROM localities ORDER BY slug")).all()
    return Vocabulary(
        child_categories=[slug for slug, parent in terms if parent is not None],
        parent_categories=[slug for slug, parent in terms if parent is None],
        needs=list(needs),
        localities=[(slug, lat, lon) for slug, lat, lon in places],
    )


def _bank_texts() -> list[str]:
    categories = json.loads((DATA_DIR / "categories.json").read_text(encoding="utf-8"))
    texts = []
    for bank in categories.values():
        texts.extend(bank.get("summaries", []))
        texts.extend(bank.get("names", []))
    return [re.sub(r"\{[a-z]+\}", " ", text) for text in texts]


def _content_words(text: str) -> list[str]:
    return [word for word in re.findall(r"[a-z][a-z'-]+", text.lower()) if word not in STOP and len(word) > 3]


class _Mix:
    def __init__(self, vocabulary: Vocabulary, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = vocabulary
        self.bank_texts = _bank_texts()
        self.seen: set[QuerySpec | str] = set()

    def _unique(self, make) -> QuerySpec:
        for _ in range(200):
            spec = make()
            key = spec.label()
            if key not in self.seen:
                self.seen.add(key)
                return spec
        return spec  # the pool is exhausted: a repeat is better than nothing

    def _words_from_banks(self, low: int, high: int) -> str:
        words = _content_words(self.rng.choice(self.bank_texts))
        if len(words) < low:
            return self.rng.choice(SEVERAL_WORDS)
        count = self.rng.randint(low, min(high, len(words)))
        start = self.rng.randint(0, len(words) - count)
        return " ".join(words[start:start + count])

    def text(self) -> str:
        roll = self.rng.random()
        if roll < 0.4:
            return self.rng.choice(SINGLE_WORDS)
        if roll < 0.7:
            return self.rng.choice(SEVERAL_WORDS)
        return self._words_from_banks(2, 3)

    def filters(self, count: int) -> dict[str, tuple[str, ...]]:
        rng, vocabulary = self.rng, self.vocabulary
        options = {
            "category": lambda: (rng.choice(vocabulary.child_categories + vocabulary.parent_categories),),
            "age": lambda: (rng.choice(AGE_BANDS),),
            "need": lambda: (rng.choice(vocabulary.needs),),
            "locality": lambda: (rng.choice(vocabulary.localities)[0],),
            "free": lambda: (FLAG_VALUE,),
            "attending": lambda: (rng.choice(ATTENDING),),
            "day": lambda: tuple(sorted(rng.sample(DAYS, rng.randint(1, 2)), key=DAYS.index)),
        }
        names = rng.sample(sorted(options), count)
        return {name: options[name]() for name in names}

    def place(self) -> tuple[float, float, float]:
        _, latitude, longitude = self.rng.choice(self.vocabulary.localities)
        # A postcode somewhere near a locality's centre (a person's home, not the centre itself).
        return (round(latitude + self.rng.uniform(-0.01, 0.01), 5),
                round(longitude + self.rng.uniform(-0.015, 0.015), 5), self.rng.choice(RADII))

    def make(self, kind: str) -> QuerySpec:
        rng = self.rng
        if kind == "one_word":
            return QuerySpec(kind, rng.choice(SINGLE_WORDS + tuple(_content_words(rng.choice(self.bank_texts)))))
        if kind == "several_words":
            return QuerySpec(kind, rng.choice(SEVERAL_WORDS) if rng.random() < 0.5 else self._words_from_banks(2, 4))
        if kind == "phrase":
            phrase = rng.choice(PHRASES) if rng.random() < 0.6 else self._words_from_banks(2, 2)
            return QuerySpec(kind, f'"{phrase}"')
        if kind == "filtered":
            return QuerySpec(kind, self.text(), self.filters(rng.randint(1, 3)))
        if kind == "facets":
            roll = rng.random()
            if roll < 0.4:
                return QuerySpec(kind, "", {"category": (rng.choice(self.vocabulary.parent_categories),)}
                                 | self.filters(rng.randint(0, 1)))
            if roll < 0.7:
                return QuerySpec(kind, rng.choice(COMMON_WORDS), self.filters(rng.randint(0, 1)))
            return QuerySpec(kind, rng.choice(COMMON_WORDS), self.filters(2))
        if kind == "near":
            text = self.text() if rng.random() < 0.75 else ""
            return QuerySpec(kind, text, self.filters(1) if rng.random() < 0.3 else {}, self.place())
        raise ValueError(kind)


def query_mix(vocabulary: Vocabulary, per_class: int, seed: int = 7) -> dict[str, list[QuerySpec]]:
    """``per_class`` distinct queries of every class, the same for every engine of a run."""
    mix = _Mix(vocabulary, seed)
    return {kind: [mix._unique(lambda k=kind: mix.make(k)) for _ in range(per_class)] for kind in CLASSES}


def warmup_queries(vocabulary: Vocabulary, count: int = 12) -> list[QuerySpec]:
    """Different queries (another seed) to run before timing: a long-lived worker is warm."""
    mix = _Mix(vocabulary, seed=99)
    return [mix.make(CLASSES[number % len(CLASSES)]) for number in range(count)]


def to_json(spec: QuerySpec) -> dict:
    return {"kind": spec.kind, "text": spec.text, "filters": {k: list(v) for k, v in spec.filters.items()},
            "near": list(spec.near) if spec.near else None}


def from_json(data: dict) -> QuerySpec:
    return QuerySpec(data["kind"], data["text"], {k: tuple(v) for k, v in data["filters"].items()},
                     tuple(data["near"]) if data["near"] else None)
