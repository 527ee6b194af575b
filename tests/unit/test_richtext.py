"""Limited rich text: what providers may write, and what can never reach a page."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from portal import richtext


def _tree(source: str):
    return lxml_html.fragment_fromstring(str(richtext.to_html(source)), create_parent="div")


def test_markdown_bold_italic_lists_and_links_become_govuk_markup():
    tree = _tree("Hello **there** and *you*\nnext line\n\n- one\n- two\n\n1. first\n2. second\n\n"
                 "[Our site](https://example.org) or [call](tel:01632960000)")

    assert tree.xpath("//p[@class='govuk-body']/strong/text()") == ["there"]
    assert tree.xpath("//p/em/text()") == ["you"]
    assert tree.xpath("//p[1]/br")
    assert tree.xpath("//ul[@class='govuk-list govuk-list--bullet']/li/text()") == ["one", "two"]
    assert tree.xpath("//ol[@class='govuk-list govuk-list--number']/li/text()") == ["first", "second"]
    assert tree.xpath("//a[@class='govuk-link']/@href") == ["https://example.org", "tel:01632960000"]


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>Hello",
    "<SCRIPT src='https://evil.example'></SCRIPT>Hello",
    "<iframe src='https://evil.example'></iframe>Hello",
    "<style>body{display:none}</style>Hello",
    "<img src=x onerror=alert(1)>Hello",
])
def test_scripts_frames_styles_and_images_never_reach_the_page(source):
    html = str(richtext.to_html(source))
    tree = _tree(source)

    assert not tree.xpath("//script | //iframe | //style | //img")
    assert "alert" not in html and "display:none" not in html
    assert tree.text_content().strip() == "Hello"


@pytest.mark.parametrize("source", [
    '<a href="javascript:alert(1)">Click</a>',
    "[Click](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">Click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">Click</a>',
    '<a href="/relative/page">Click</a>',
])
def test_links_other_than_web_email_and_phone_are_dropped_but_their_text_stays(source):
    tree = _tree(source)

    assert not tree.xpath("//a")
    assert "Click" in tree.text_content()
    assert richtext.bad_links(source)


def test_event_handlers_and_other_attributes_are_removed():
    tree = _tree('<p onclick="steal()" style="color:red" class="x">Hi '
                 '<a href="https://ok.example" onmouseover="x()">ok</a></p>')

    attributes = {name for element in tree.iter() for name in element.attrib}
    assert attributes <= {"class", "href", "rel"}
    assert tree.xpath("//a/@rel") == ["nofollow noopener noreferrer external"]


def test_raw_html_that_is_not_allowed_is_shown_as_text_never_as_markup():
    tree = _tree("Ages 5 < 11 and &lt;b&gt;not bold&lt;/b&gt; <marquee>moving</marquee>")

    assert not tree.xpath("//b | //marquee")
    assert "Ages 5 < 11" in tree.text_content()
    assert "<b>not bold</b>" in tree.text_content()


def test_the_stored_source_keeps_what_was_typed_minus_anything_unsafe():
    assert richtext.sanitise("Tea & cake > biscuits\r\n\r\n**Bold**") == "Tea & cake > biscuits\n\n**Bold**"
    assert richtext.sanitise('<b onclick="x()">bold</b><script>alert(1)</script>') == "<b>bold</b>"
    assert richtext.sanitise("[Click](javascript:alert(1)) and [ok](https://ok.example)") == (
        "Click and [ok](https://ok.example)")
    assert richtext.sanitise(richtext.sanitise("a & b <i>c</i>")) == "a & b <i>c</i>"


def test_plain_text_descriptions_read_as_before():
    tree = _tree("First paragraph\nsame paragraph.\n\nSecond")

    assert [p.text_content() for p in tree.xpath("//p")] == ["First paragraphsame paragraph.", "Second"]
    assert len(tree.xpath("//p[1]/br")) == 1


def test_words_are_counted_as_a_reader_sees_them():
    assert richtext.word_count("**Bold** words and [a link](https://example.org) <b>here</b>") == 6
    assert richtext.word_count("") == 0
