"""Stripping personal data from free text people type into public feedback boxes, before it is stored.

People write their phone number, email address or their mother's NHS number into "how could this page be
better?" however clearly the hint asks them not to. We keep the comment (it is useful) but never the personal
data: each of these is replaced by ``[removed]``:

- email addresses;
- UK National Insurance numbers (QQ 12 34 56 C);
- UK postcodes (AM1 1AA, am11aa);
- long numbers: any run of 9 or more digits, however spaced or punctuated, which covers telephone numbers
  (01632 960 000, +44 7700 900 982), NHS numbers (943 476 5919) and payment card numbers;
- the name after "my name is", "my name's", "I am called", "I'm called", "call me" and "name:", or in
  Welsh "fy enw i yw", "fy enw yw" and "enw:" (up to three words that start with a capital letter, or the
  single next word when typed in lower case).

It errs on the side of removing: a lost house number is a small price for never storing a phone number.
"""

from __future__ import annotations

import re

REMOVED = "[removed]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Two letters, six digits in pairs, an optional A-D suffix. Any two letters: the well-known example
# "QQ 12 34 56 C" (never issued) is exactly what people copy.
_NI_NUMBER = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]?\b", re.IGNORECASE)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
# A run of digits with the separators people type between them: spaces, hyphens, dots, brackets, a leading +.
_NUMBER_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")
_LONG_NUMBER_DIGITS = 9
_NAME_INTRO = re.compile(
    r"\b(my\s+name\s+is|my\s+name's|i\s+am\s+called|i'm\s+called|call\s+me|name\s*:"
    r"|fy\s+enw\s+(?:i\s+)?yw|enw\s*:)\s+",
    re.IGNORECASE,
)
_CAPITALISED_WORD = re.compile(r"[A-Z][\w'’-]*")
_ANY_WORD = re.compile(r"[^\s,.;:!?]+")


def _remove_long_numbers(text: str) -> str:
    def replace(match: re.Match) -> str:
        digits = sum(character.isdigit() for character in match.group(0))
        return REMOVED if digits >= _LONG_NUMBER_DIGITS else match.group(0)

    return _NUMBER_RUN.sub(replace, text)


def _remove_names(text: str) -> str:
    result, position = [], 0
    for intro in _NAME_INTRO.finditer(text):
        if intro.start() < position:
            continue
        result.append(text[position:intro.end()])
        position = intro.end()
        words = 0
        while words < 3:
            word = _CAPITALISED_WORD.match(text, position)
            if word is None:
                break
            position, words = word.end(), words + 1
            space = re.match(r"[ \t]+", text[position:])
            if space and _CAPITALISED_WORD.match(text, position + space.end()) and words < 3:
                position += space.end()
            else:
                break
        if words == 0:
            word = _ANY_WORD.match(text, position)
            if word is None:
                continue
            position = word.end()
        result.append(REMOVED)
    result.append(text[position:])
    return "".join(result)


def scrub(text: str | None) -> str:
    """``text`` with personal data replaced by ``[removed]`` (see the module's docstring), stripped."""
    if not text:
        return ""
    text = _EMAIL.sub(REMOVED, text)
    text = _NI_NUMBER.sub(REMOVED, text)
    text = _POSTCODE.sub(REMOVED, text)
    text = _remove_long_numbers(text)
    text = _remove_names(text)
    return text.strip()
