"""Site rules as data: a SiteRule holds Layouts, a Layout holds selectors.

A field is a tuple of CSS selectors tried in order; the first that yields
non-blank text wins. A layout is chosen by its `marker` selector (old Sina
pages stay online in old templates, so markup, not crawl date, decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

Selectors = tuple[str, ...]

# Elements whose start and end break a line of text.
BLOCK_TAGS = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li ul ol tr table blockquote section article pre dd dt figure figcaption".split()
)
SKIP_TAGS = frozenset("script style noscript iframe form button select textarea object embed svg".split())


@dataclass(frozen=True)
class Layout:
    name: str  # v<year the template first appears>
    marker: str  # CSS selector present only on pages of this layout
    body: Selectors  # the article container
    title: Selectors = ()
    published_at: Selectors = ()
    source: Selectors = ()
    source_url: Selectors = ()
    authors: Selectors = ()
    editor: Selectors = ()
    drop: Selectors = ()  # nodes removed from the container before reading text
    symbols: Selectors = ()  # attribute values naming securities (e.g. span ids)
    images: str = "img"


@dataclass(frozen=True)
class SiteRule:
    name: str  # site key: module name, articles.site, fixture folder
    domains: tuple[str, ...]  # host suffixes the rule handles
    layouts: tuple[Layout, ...]  # newest first
    version: int = 1
    title_suffix: str | None = None  # regex removed from <title>/og:title fallbacks
    article_urls: tuple[str, ...] = ()  # regexes of article-page URLs
    skip_urls: dict[str, str] = field(default_factory=dict)  # kind → regex (video, slide…)

    def handles(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def layout_for(self, page: Selector) -> Layout | None:
        for layout in self.layouts:
            if page.css(layout.marker):
                return layout
        return None

    def classify_url(self, url: str) -> str:
        """'article', a skip kind ('video', 'slide', 'live', …) or 'other'."""
        for kind, pattern in self.skip_urls.items():
            if re.search(pattern, url):
                return kind
        if any(re.search(p, url) for p in self.article_urls):
            return "article"
        return "other"


def first_text(page: Selector, selectors: Selectors) -> str | None:
    for css in selectors:
        for node in page.css(css):
            value = node.get() if css.endswith(("::text", ")")) else " ".join(node.css("::text").getall())
            value = " ".join(value.split())
            if value:
                return value
    return None


def element_lines(element: etree._Element) -> list[str]:
    """The text of an element, one line per block element, in document order."""
    lines: list[str] = [""]

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in SKIP_TAGS:
            return
        block = tag in BLOCK_TAGS
        if block:
            lines.append("")
        if isinstance(node.tag, str) and node.text:
            lines[-1] += node.text
        for child in node:
            walk(child)
            if child.tail:
                lines[-1] += child.tail
        if block:
            lines.append("")

    walk(element)
    return [line for line in lines if line.strip()]
