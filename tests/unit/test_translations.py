"""Every string a reader can see has a Welsh translation that keeps the English string's placeholders.

The strings are extracted from the source as `make translations` does, so a newly marked string without
Welsh fails here before a Welsh reader meets it in English (or meets a crash from a lost placeholder).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WELSH_PO = PROJECT_ROOT / "portal" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"

# Python-format placeholders (%(name)s, %s, %%) and GOV.UK Frontend's JavaScript ones (%{count}).
PLACEHOLDER = re.compile(
    r"%\(\w+\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]"  # %(name)s
    r"|%[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]"  # %s, %d, %%
    r"|%\{\w+\}"  # %{count}
)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    output = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(PROJECT_ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(output),
            str(PROJECT_ROOT),
        ]
    )
    with output.open("rb") as file:
        return read_po(file)


@pytest.fixture(scope="module")
def welsh() -> Catalog:
    assert WELSH_PO.is_file(), f"no Welsh catalogue at {WELSH_PO}: run `make translations`"
    with WELSH_PO.open("rb") as file:
        return read_po(file, locale="cy")


def _forms(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text or ""))


def _where(message: Message) -> str:
    places = sorted(
        {Path(path).resolve().relative_to(PROJECT_ROOT).as_posix() for path, __ in message.locations}
    )
    return f"{message.id!r} ({', '.join(places) or 'unknown place'})"


def test_every_marked_string_has_a_welsh_translation(extracted, welsh):
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translation = welsh.get(message.id, context=message.context)
        finished = (
            translation is not None
            and not translation.fuzzy
            and all(form.strip() for form in _forms(translation.string))
        )
        if not finished:
            missing.append(_where(message))
    if missing:
        print(f"\n{len(missing)} string(s) without a finished Welsh translation in {WELSH_PO}:")
        print("\n".join(f"  {item}" for item in missing))
    assert not missing, f"{len(missing)} string(s) would appear in English to a Welsh reader (listed above)"


def test_welsh_translations_keep_the_placeholders_of_the_english(extracted, welsh):
    wrong = []
    for message in extracted:
        if not message.id:
            continue
        translation = welsh.get(message.id, context=message.context)
        if translation is None:
            continue  # reported by the test above
        english = [_placeholders(text) for text in _forms(message.id)]
        welsh_forms = [_placeholders(text) for text in _forms(translation.string) if text.strip()]
        if not welsh_forms:
            continue
        if isinstance(message.id, tuple):
            # A plural form may leave out the number ("un gwasanaeth"), but may not invent or lose a name.
            allowed = set().union(*english)
            used = set().union(*welsh_forms)
            broken = used != allowed
        else:
            broken = welsh_forms[0] != english[0]
        if broken:
            wrong.append(
                f"{_where(message)}: English {sorted(set().union(*english))}, "
                f"Welsh {sorted(set().union(*welsh_forms))}"
            )
    if wrong:
        print("\nWelsh translations whose placeholders differ from the English:")
        print("\n".join(f"  {item}" for item in wrong))
    assert not wrong, f"{len(wrong)} translation(s) would show a wrong value or fail to render (listed above)"
