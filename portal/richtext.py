"""Limited rich text for provider descriptions: a small Markdown subset or a few HTML tags, always sanitised.

Providers may write paragraphs (blank lines), line breaks, **bold**, *italic*, bulleted lists ("- " or "* "),
numbered lists ("1. "), links as [text](https://...) and the matching HTML tags. Anything else is stripped.
Links may only go to http, https, mailto and tel addresses.

Two steps, both through bleach with the same allow-list:
- ``sanitise(source)`` is what we store: the provider's source with disallowed tags, comments and
  bad links removed, still readable and editable as typed (an ``&`` stays an ``&``).
- ``to_html(source)`` turns stored (or any) source into HTML for a page. It sanitises again on the way out, so
  nothing stored before these rules, or written to the database some other way, can reach a page unsanitised.
  The Jinja filter ``richtext`` is this function: the single place provider text becomes markup.
"""

from __future__ import annotations

import html as html_lib
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import bleach
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_BLOCK_TAGS = ("<p", "<ul", "<ol")

# A link target may hold one level of brackets, as in "javascript:alert(1)": all of it is the target.
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*((?:[^()\s]|\([^()\s]*\))+)\s*\)")
# Script and style elements: their content is code, not text, so it goes with the tags.
_CODE_ELEMENTS = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_BLANK_LINES = re.compile(r"\n\s*\n")
_LONE_AMPERSAND = re.compile(r"&amp;(?![#a-zA-Z0-9]+;)")


def link_allowed(url: str) -> bool:
    """Whether a link may point at ``url``: an absolute http(s) address, or a mailto: or tel: one."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return False
    if scheme in ("http", "https"):
        return bool(parts.hostname)
    return bool(parts.path)


def bad_links(source: str | None) -> list[str]:
    """The link targets in ``source`` (Markdown links and href attributes) that are not allowed."""
    if not source:
        return []
    targets = [match.group(2) for match in _MARKDOWN_LINK.finditer(source)]
    targets += [next(group for group in match.groups() if group is not None) for match in _HREF.finditer(source)]
    return [target for target in targets if not link_allowed(target)]


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    return tag == "a" and name == "href" and link_allowed(value)


def _clean(text: str) -> str:
    return bleach.clean(
        _CODE_ELEMENTS.sub("", text),
        tags=ALLOWED_TAGS,
        attributes=_attribute_allowed,
        protocols=ALLOWED_SCHEMES,
        strip=True,
        strip_comments=True,
    )


def _drop_bad_markdown_links(text: str) -> str:
    return _MARKDOWN_LINK.sub(lambda m: m.group(0) if link_allowed(m.group(2)) else m.group(1), text)


def sanitise(source: str | None) -> str:
    """The source as we store it: allowed tags and Markdown kept, everything else removed."""
    if not source:
        return ""
    text = source.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _clean(_drop_bad_markdown_links(text))
    # bleach escapes every bare & and >; neither can start markup, so give the provider back what they typed.
    # A bare < stays escaped: unescaping it could turn "&lt;script&gt;" into a tag.
    return _LONE_AMPERSAND.sub("&", text).replace("&gt;", ">")


def _inline(line: str) -> str:
    line = _MARKDOWN_LINK.sub(lambda m: f'<a href="{escape(m.group(2))}">{m.group(1)}</a>', line)
    line = _BOLD.sub(r"<strong>\1</strong>", line)
    return _ITALIC.sub(r"<em>\1</em>", line)


def _block(lines: list[str]) -> str:
    if all(_BULLET.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_BULLET.match(line).group(1))}</li>" for line in lines)
        return f"<ul>{items}</ul>"
    if all(_NUMBERED.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_NUMBERED.match(line).group(1))}</li>" for line in lines)
        return f"<ol>{items}</ol>"
    joined = "<br>".join(_inline(line) for line in lines)
    if joined.lstrip().lower().startswith(_BLOCK_TAGS):
        return joined  # already HTML blocks: wrapping them in <p> would nest blocks
    return f"<p>{joined}</p>"


def _markdown(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = []
    for block in _BLANK_LINES.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines:
            blocks.append(_block(lines))
    return "".join(blocks)


def _set_link_attributes(attrs: dict, new: bool = False) -> dict:
    href = attrs.get((None, "href"), "")
    if not link_allowed(href):
        return None  # linkify's way of saying "no link": keeps the text
    attrs[(None, "class")] = "govuk-link"
    if href.lower().startswith(("http:", "https:")):
        attrs[(None, "rel")] = "nofollow noopener noreferrer external"
    return attrs


def _finish(cleaned: str) -> str:
    """Links made clickable (allowed ones only) and GOV.UK classes on HTML that ``_clean`` produced."""
    html = bleach.linkify(cleaned, callbacks=[_set_link_attributes], parse_email=False)
    return (
        html.replace("<p>", '<p class="govuk-body">')
        .replace("<ul>", '<ul class="govuk-list govuk-list--bullet">')
        .replace("<ol>", '<ol class="govuk-list govuk-list--number">')
    )


def to_html(source: str | None) -> Markup:
    """Sanitised HTML for ``source``, styled with GOV.UK classes. Safe whatever ``source`` holds."""
    if not source:
        return Markup("")
    return Markup(_finish(_clean(_markdown(source))))  # noqa: S704 - bleach produced it from the allow-list above


# --- Documents with headings (council guides) -----------------------------------------------------------------
#
# Guides are longer than a provider's description: besides everything above, a line starting "## " is a
# section heading (h2) and "### " a sub-heading (h3); a single "# " is treated as "## " because the page's
# own title is the only h1. Heading text is plain text: markup in it is dropped. Raw HTML headings are not
# allowed (they are stripped like any other tag), so the only headings are the ones we build, each with an id
# made from its words for the contents list.

_HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*#*\s*$")
_NOT_ID_CHARACTERS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Heading:
    id: str
    text: str
    level: int  # 2 or 3


@dataclass(frozen=True)
class Document:
    html: Markup
    headings: list[Heading]

    @property
    def sections(self) -> list[Heading]:
        """The h2 headings: what a contents list links to."""
        return [heading for heading in self.headings if heading.level == 2]


def _plain_text(source: str) -> str:
    text = bleach.clean(_CODE_ELEMENTS.sub("", _inline(source)), tags=set(), strip=True, strip_comments=True)
    return " ".join(html_lib.unescape(text).split())


def heading_id(text: str, taken: set[str]) -> str:
    """An id for a heading: its words in lower-case ASCII joined by hyphens, unique among ``taken`` (which
    it joins). Welsh accents go (ŵ -> w), so the id survives being typed into an address bar."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    base = _NOT_ID_CHARACTERS.sub("-", ascii_text).strip("-")[:60].strip("-") or "section"
    if base[0].isdigit():
        base = f"section-{base}"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _line_kind(line: str) -> str:
    if _BULLET.match(line):
        return "bullet"
    return "number" if _NUMBERED.match(line) else "text"


def to_document(source: str | None, *, reserved_ids: Iterable[str] = ()) -> Document:
    """Sanitised HTML for a guide's ``source`` with its headings (ids never clash with ``reserved_ids``)."""
    if not source:
        return Document(Markup(""), [])
    text = _CODE_ELEMENTS.sub("", source.replace("\r\n", "\n").replace("\r", "\n")).strip()
    taken = set(reserved_ids)
    parts: list[str] = []
    headings: list[Heading] = []

    def flush(lines: list[str]) -> None:
        # In a guide a list may follow its introducing sentence without a blank line: each run of bullet,
        # numbered or plain lines is a block of its own.
        for _kind, run in itertools.groupby(lines, key=_line_kind):
            parts.append(_finish(_clean(_block(list(run)))))
        lines.clear()

    for block in _BLANK_LINES.split(text):
        pending: list[str] = []
        for line in (line.strip() for line in block.split("\n")):
            match = _HEADING.match(line) if line else None
            if match is None:
                if line:
                    pending.append(line)
                continue
            flush(pending)
            words = _plain_text(match.group(2))
            if not words:
                continue
            level = 3 if len(match.group(1)) == 3 else 2
            heading = Heading(id=heading_id(words, taken), text=words, level=level)
            headings.append(heading)
            css = "govuk-heading-m" if level == 2 else "govuk-heading-s"
            parts.append(f'<h{level} class="{css}" id="{heading.id}">{escape(words)}</h{level}>')
        flush(pending)
    return Document(Markup("".join(parts)), headings)  # noqa: S704 - built from cleaned parts and escaped text


def word_count(source: str | None) -> int:
    """Words a reader sees (markup and Markdown signs do not count)."""
    if not source:
        return 0
    text = bleach.clean(_markdown(source), tags=set(), strip=True)
    return len(re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text))
