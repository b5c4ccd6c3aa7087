"""Reading a rendered portal page as a person and a screen reader meet it: the title, the error
summary's links, and the attributes of one element. Standard library only (html.parser)."""

import re
from html.parser import HTMLParser


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: dict[str, tuple[str, dict[str, str]]] = {}
        self.title = ""
        self.summary_links: list[tuple[str, str]] = []
        self._in_title = False
        self._summary_depth = 0
        self._link: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.elements[attributes["id"]] = (tag, attributes)
        self._in_title = tag == "title"
        if self._summary_depth and tag == "div":
            self._summary_depth += 1
        if "data-error-summary" in attributes and "ds-error-summary" in attributes.get("class", ""):
            self._summary_depth = 1
        if self._summary_depth and tag == "a":
            self._link = [attributes.get("href", "")]

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self._summary_depth and tag == "a" and self._link is not None:
            href, *text = self._link
            self.summary_links.append((href, _spaced("".join(text))))
            self._link = None
        if self._summary_depth and tag == "div":
            self._summary_depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._link is not None:
            self._link.append(data)


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    page.title = _spaced(page.title)
    return page


def summary_links(response) -> list[tuple[str, str]]:
    """The error summary's links as (href, text), in order."""
    return read(response).summary_links


def attributes(response, element_id: str) -> dict[str, str]:
    """The attributes of the element with this id (an AssertionError if there is none)."""
    elements = read(response).elements
    assert element_id in elements, f"no element with id {element_id!r}"
    return elements[element_id][1]


def title(response) -> str:
    return read(response).title
