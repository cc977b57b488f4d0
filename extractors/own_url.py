"""The URL a saved page gives itself: its link rel=canonical, else its og:url (absolute http(s) only).

For a page saved without the address it came from (`python -m extractors` without
--url): the URL picks the site rule and becomes the article's url. The page is
decoded as extraction decodes it (extractors.decoding) and the link is read by
extractors.header.canonical_url, as the article's canonical_url is, so both agree.

The caller runs outside the extraction sandbox, so no whole page is parsed here:
only its head, the text up to </head> and at most HEAD_CHARS characters of it,
and not at all when that part holds more than max_elements start tags (the
sandbox then refuses the page anyway).
"""

from __future__ import annotations

import re

from parsel import Selector

from extractors.decoding import decode_html
from extractors.header import canonical_url
from extractors.limits import ExtractionLimits, count_start_tags
from extractors.parsing import parse_html

HEAD_CHARS = 1_000_000  # the largest <head> among the fixtures is ~270 KB; their links are in the first 40 KB
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)


def own_url(
    body: bytes | str, content_type: str | None = None, max_elements: int = ExtractionLimits().max_elements
) -> str | None:
    """The page's canonical link, else its og:url, normalised (w3lib); None when it names no http(s) URL."""
    if not body or (isinstance(body, bytes) and b"\x00" in body[:1024]):  # empty or binary: no page to read
        return None
    text = decode_html(body, content_type).text
    end = _HEAD_END.search(text, 0, HEAD_CHARS)
    head = text[: end.start() if end else HEAD_CHARS]
    if count_start_tags(head, max_elements + 1) > max_elements:
        return None
    tree = parse_html(head)
    if tree is None:
        return None
    url = canonical_url(Selector(root=tree), "")  # "/" when the page names none
    return url if url.startswith(("http://", "https://")) else None
