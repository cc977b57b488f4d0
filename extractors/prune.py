"""Pruning of chrome blocks from the parsed tree before trafilatura reads it.

Two failure classes of Chinese news pages, found on every kind of template:
- link lists: related headlines, navigation bars, "more news" boxes: blocks
  whose text is mostly link text, with several links;
- layout-table chrome: old pages lay out the whole page with tables, and
  trafilatura (include_tables) keeps nav cells as "| 首页 | 新闻 | … |" rows.
  A table cell or table that is mostly link text goes; a data table inside
  the article (figures, few or no links) stays.

Text and link-text lengths are counted in one pass over the tree (TextStats),
so each decision is a lookup.
"""

from __future__ import annotations

from lxml import etree

from extractors.rules import remove_element

_NOT_TEXT = frozenset("script style noscript template head".split())
_LIST_BLOCKS = ("ul", "ol", "dl", "div", "p", "section", "nav", "table", "td", "th", "tr", "li")
MIN_LINKS = 5  # a link list has at least this many links; a sentence with a link or two is no list
LINK_SHARE = 0.6  # link text over all text of a block, above which it is a link list
MAX_LIST_TEXT = 1000  # characters: a block longer than this is never dropped whole (a page-wide wrapper)
# characters outside links: a block with more holds prose (a short article among its related links)
MAX_PROSE = 120
# a block of only links and labels ("【上一篇】… 【下一篇】…", tag rows): two links suffice
LINKS_ONLY_SHARE = 0.8
LINKS_ONLY_LABELS = 12  # characters outside the links


class TextStats:
    """Characters of text (non-space) and of link text under each element, and links below it."""

    def __init__(self, root: etree._Element):
        self.text: dict[etree._Element, int] = {}
        self.link_text: dict[etree._Element, int] = {}
        self.links: dict[etree._Element, int] = {}
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        for element in reversed(elements):  # children before parents
            if element.tag in _NOT_TEXT:
                self.text[element] = self.link_text[element] = self.links[element] = 0
                continue
            text = _length(element.text)
            links = 0
            link_text = 0
            for child in element:
                if isinstance(child.tag, str):
                    text += self.text[child]
                    link_text += self.link_text[child]
                    links += self.links[child]
                text += _length(child.tail)
            if element.tag == "a":
                links, link_text = 1, text
            self.text[element] = text
            self.link_text[element] = link_text
            self.links[element] = links

    def link_density(self, element: etree._Element) -> float:
        text = self.text.get(element, 0)
        return self.link_text.get(element, 0) / text if text else 0.0


def _length(text: str | None) -> int:
    return len("".join(text.split())) if text else 0


def is_link_list(element: etree._Element, stats: TextStats) -> bool:
    """A block made of links: related headlines, a nav bar or a nav cell of a layout table."""
    text = stats.text.get(element, 0)
    if (
        stats.links.get(element, 0) >= 2
        and stats.link_density(element) > LINKS_ONLY_SHARE
        and text - stats.link_text.get(element, 0) <= LINKS_ONLY_LABELS
    ):
        return True
    return (
        stats.links.get(element, 0) >= MIN_LINKS
        and stats.text.get(element, 0) <= MAX_LIST_TEXT
        and stats.link_density(element) > LINK_SHARE
        and stats.text.get(element, 0) - stats.link_text.get(element, 0) <= MAX_PROSE
    )


def prune_link_lists(root: etree._Element, stats: TextStats | None = None) -> int:
    """Drop link-list blocks below `root` (outermost first); returns how many were dropped.

    `root` is the page (its <body> is searched) or one article container (site
    rules), which is never dropped itself. Text after a block stays.
    """
    stats = stats or TextStats(root)
    body = root.find(".//body")
    page_root = root.getroottree().getroot()
    dropped = 0
    for element in list((body if body is not None else root).iterdescendants(*_LIST_BLOCKS)):
        if element.getroottree().getroot() is not page_root:
            continue  # inside a block already removed
        if any(a.tag in _NOT_TEXT for a in element.iterancestors()):
            continue
        if is_link_list(element, stats):
            remove_element(element)
            dropped += 1
    return dropped
