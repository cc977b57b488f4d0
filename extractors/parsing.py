"""Decoded text to an lxml tree, with lxml's HTML parser and no "is this HTML?" veto.

trafilatura.load_html rejects a document whose first 50 characters do not say
"html" and whose tree has fewer than two children: an old page that starts
with blank lines and a <div>, or whose prologue (a script before <html>) made
libxml2 put everything it understood in <head>, was "not HTML". Here the parse
is kept, and when the body came out empty while the text goes on after an
<html> or <body> tag, the document is parsed again from that tag.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

# trafilatura's parser options: the tree is handed to trafilatura afterwards
_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_DOCUMENT_START = re.compile(r"<(?:html|body)\b", re.IGNORECASE)
_BODY_TEXT = "//body//text()[not(ancestor::script|ancestor::style)][normalize-space()]"


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """The document's <html> element, or None when lxml finds no element at all."""
    root = _parse(text)
    if root is not None and not root.xpath(_BODY_TEXT):
        start = _DOCUMENT_START.search(text, 1)
        if start is not None:
            reparsed = _parse(text[start.start() :])
            if reparsed is not None and reparsed.xpath(_BODY_TEXT):
                return reparsed
    return root


def _parse(text: str) -> lxml.html.HtmlElement | None:
    # bytes: the parser reads them as UTF-8, and a str with an XML encoding
    # declaration would be refused ("Unicode strings with encoding declaration")
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return root if isinstance(root.tag, str) else None
