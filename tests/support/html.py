"""Reading pages as a browser would: parsed HTML, not substrings."""

from __future__ import annotations

from lxml import html as lxml_html


def parse(response) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(response.get_data(as_text=True))


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def texts(document, xpath: str) -> list[str]:
    return [text_of(node) for node in document.xpath(xpath)]


def csrf_token(document) -> str:
    values = document.xpath("//input[@name='csrf_token']/@value")
    assert values, "the form carries no CSRF token"
    return values[0]


def form_data(document, form_xpath: str = "//main//form", **fields) -> dict:
    """A form's current fields (hidden ones included) overlaid with ``fields``, as the browser would post."""
    form = document.xpath(form_xpath)[0]
    data = {}
    for field in form.xpath(".//input[@name]"):
        kind = field.get("type", "text")
        if kind in ("checkbox", "radio") and field.get("checked") is None:
            continue
        if kind in ("submit", "button"):
            continue
        data[field.get("name")] = field.get("value", "")
    for field in form.xpath(".//textarea[@name]"):
        data[field.get("name")] = field.text or ""
    data.update(fields)
    return data
