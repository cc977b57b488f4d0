"""Site rules as data: a SiteRule holds Layouts, a Layout holds selectors.

A field is a tuple of selectors tried in order; the first that yields
non-blank text wins. A selector starting with "/", "./" or "(" is XPath, any other
is CSS (parsel's, with ::text and ::attr()). A layout is chosen by its `marker` selector (old Sina
pages stay online in old templates, so markup, not crawl date, decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector, SelectorList

from extractors.boilerplate import Family
from extractors.clean import normalize_space
from extractors.dates import CHINA_TZ
from extractors.sources import Politeness, Source

Selectors = tuple[str, ...]

# Elements whose start and end break a line of text.
BLOCK_TAGS = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li ul ol tr table blockquote section article pre dd dt figure figcaption".split()
)
SKIP_TAGS = frozenset("script style noscript iframe form button select textarea object embed svg template head".split())


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
    # raw symbol markup (an id or href) → normalised symbol; None uses clean.normalize_symbol
    symbol_from: Callable[[str], str | None] | None = None
    # what selectors cannot say: a named function (page, url) → {field: value} overriding the rest
    extra: Callable[[Selector, str], dict] | None = None
    # XPath from an <img> to its caption; caption nodes leave the body once read
    caption: str = "following-sibling::*[contains(@class,'img_descr')][1] | ../following-sibling::*[1][contains(@class,'img_descr')]"


@dataclass(frozen=True)
class SiteRule:
    name: str  # site key: module name, articles.site, fixture folder
    domains: tuple[str, ...]  # host suffixes the rule handles
    layouts: tuple[Layout, ...]  # newest first
    version: int = 1
    title_suffix: str | None = None  # regex removed from <title>/og:title fallbacks
    platform_labels: frozenset[str] = frozenset()  # shown where the source goes, but not outlets
    timezone: tzinfo = CHINA_TZ  # times are shown in this zone; aware times are converted to it
    article_urls: tuple[str, ...] = ()  # regexes of article-page URLs
    skip_urls: dict[str, str] = field(default_factory=dict)  # kind → regex (video, slide…)
    # the site's own boilerplate lines; applied on every page, since its articles travel
    boilerplate: tuple[Family, ...] = ()
    sources: tuple[Source, ...] = ()  # how the site lists its articles (extractors/sources.py)
    politeness: Politeness = Politeness()  # delay, concurrency and headers for the crawler

    def handles(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def layout_for(self, page: Selector) -> Layout | None:
        for layout in self.layouts:
            if select(page, layout.marker):
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


def select(page: Selector, selector: str) -> SelectorList:
    if selector.startswith(("/", "(", "./")):
        return page.xpath(selector)
    return page.css(selector)


def first_text(page: Selector, selectors: Selectors) -> str | None:
    for selector in selectors:
        for node in select(page, selector):
            if isinstance(node.root, str):  # ::text, ::attr(), text() and @attr results
                value = node.root
            else:
                value = " ".join(node.xpath(".//text()[not(ancestor::script|ancestor::style)]").getall())
            value = normalize_space(value)
            if value:
                return value
    return None


def element_lines(element: etree._Element, leave_out: Callable[[etree._Element], bool] | None = None) -> list[str]:
    """The text of an element, one line per block element, in document order.

    `leave_out(node)`: descendants whose text is skipped (link-dense blocks of a container).
    """
    lines: list[str] = [""]

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in SKIP_TAGS or (leave_out is not None and node is not element and tag and leave_out(node)):
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


def remove_element(element: etree._Element) -> None:
    """Remove an element and its text, keeping the text that follows it (its tail) in place."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


_SENTENCE_END = tuple("。！？!?…”」』：:；;")


def drop_node(node: Selector) -> None:
    """Remove a node, keeping the text flow around it.

    Old pages break a paragraph with an inline figure: "<p>…获得了5</p><table>…</table>00万元…".
    When the dropped node's tail continues a paragraph that stopped mid-sentence,
    the tail is appended to that paragraph instead of starting a new line.
    """
    element = node.root
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):  # skip comments
        previous = previous.getprevious()
    # the continuation is the tail of the node, or of comments right after it
    carrier = element
    while not (carrier.tail or "").strip() and (nxt := carrier.getnext()) is not None and not isinstance(nxt.tag, str):
        carrier = nxt
    tail = carrier.tail or ""
    if tail.strip() and previous is not None and previous.tag == "p":
        text = "".join(previous.itertext()).rstrip()
        if text and not text.endswith(_SENTENCE_END):
            last = previous[-1] if len(previous) else None
            if last is not None:
                last.tail = (last.tail or "") + tail.lstrip()
            else:
                previous.text = (previous.text or "").rstrip() + tail.lstrip()
            carrier.tail = None
    node.drop()


# "相关新闻", "【延伸阅读】", "延伸 · 推荐", "相关推荐：" — compared without spaces and separator dots
_RELATED_HEADING = re.compile(
    r"^[【\[]?(?:(?:相关|延伸|推荐|更多|精彩|往期)(?:新闻|阅读|报道|推荐|链接|文章|回顾)|猜你喜欢)[】\]]?[:：]?$"
)
_HEADING_SEPARATORS = re.compile(r"[\s·・•|｜丨]+")


def _is_link_only(element: etree._Element) -> bool:
    text = "".join(element.itertext()).strip()
    linked = "".join("".join(a.itertext()) for a in element.iter("a")).strip()
    return bool(text) and text == linked


def drop_related_links(container: Selector) -> None:
    """Remove a "相关新闻：" heading followed by paragraphs that are only links.

    A heading followed by real text (a related story the editor pasted in full)
    is article text and stays.
    """
    for element in list(container.root.iter("p", "div", "h3", "h4")):
        heading = _HEADING_SEPARATORS.sub("", "".join(element.itertext()))
        if element.getparent() is None or not _RELATED_HEADING.match(heading):
            continue
        links = []
        sibling = element.getnext()
        while sibling is not None and isinstance(sibling.tag, str) and _is_link_only(sibling):
            links.append(sibling)
            sibling = sibling.getnext()
        if links:
            for node in [element, *links]:
                node.drop_tree()  # keeps the tail text
