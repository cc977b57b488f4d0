"""A readability-style best container, picked over the parsed tree without changing it.

Paragraph-like blocks score by their length and punctuation; each block's
score goes to its parent and half of it to its grandparent; a container's
total is damped by its link density (menus and headline lists are mostly link
text). The best container, plus siblings that score near it, is read line by
line, leaving out link-dense or negatively named blocks inside it (related
headlines, share bars). No copy of the tree and no re-parse: the blocks to
leave out are skipped while reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from extractors.prune import TextStats
from extractors.rules import element_lines

_NOT_TEXT = frozenset("script style noscript iframe form button select textarea object embed svg template head".split())
# Containers whose class/id says "chrome" (or "article"), after readability's class weights.
_NEGATIVE = re.compile(
    r"comment|foot|nav|menu|sidebar|side-|related|recommend|share|tool|rank|hot|promo|sponsor|banner|breadcrumb|"
    r"copyright|widget|login|tags?$|pagination|pager|xgxw|xgyd|tuijian|paihang|bottom|header|masthead",
    re.I,
)
_POSITIVE = re.compile(r"article|body|content|entry|main|post|text|story|artibody|zhengwen|neirong", re.I)
_PARAGRAPHS = frozenset("p pre td blockquote".split())
_BLOCK_CHILDREN = frozenset("p div table ul ol dl pre blockquote section article h1 h2 h3 h4 h5 h6".split())
_TAG_SCORE = {"div": 5, "article": 8, "section": 3, "pre": 3, "td": 3, "blockquote": 3, "form": -3,
              "ol": -3, "ul": -3, "dl": -3, "li": -3, "h1": -5, "h2": -5, "h3": -5, "th": -5}
_CLAUSE = re.compile(r"[,，。、；;！？!?]")
MIN_PARAGRAPH = 20  # characters a block needs to count as a paragraph
# Inside the container: a block is left out when its links hold this share of its text
LINK_DENSE = 0.5
LINK_DENSE_NEGATIVE = 0.2  # … or this share, when its class/id names chrome


@dataclass
class Container:
    """The picked container(s), their score, and the lines read from them."""

    elements: list[etree._Element]
    score: float
    lines: list[str]


def _text(element: etree._Element) -> str:
    return "".join(t for t in element.itertext() if t.strip())


def class_weight(element: etree._Element) -> int:
    weight = 0
    for value in (element.get("class"), element.get("id")):
        if value:
            if _NEGATIVE.search(value):
                weight -= 25
            if _POSITIVE.search(value):
                weight += 25
    return weight


def _is_paragraph(element: etree._Element) -> bool:
    if element.tag in _PARAGRAPHS:
        return True
    # a div holding text directly (no block children) reads as a paragraph, as in readability
    return element.tag == "div" and not any(child.tag in _BLOCK_CHILDREN for child in element)


def _skipped(element: etree._Element) -> bool:
    return any(a.tag in _NOT_TEXT for a in element.iterancestors())


def best_container(root: etree._Element, stats: TextStats | None = None) -> Container | None:
    """The best-scoring container of the page, or None when no block reads as a paragraph."""
    stats = stats or TextStats(root)
    body = root.find(".//body")
    scores: dict[etree._Element, float] = {}
    for element in (body if body is not None else root).iter(*_PARAGRAPHS, "div"):
        if not _is_paragraph(element):
            continue
        text = _text(element)
        if len(text) < MIN_PARAGRAPH or _skipped(element):
            continue
        points = 1 + len(_CLAUSE.findall(text)) + min(len(text) / 100, 3)
        parent = element.getparent()
        for level, ancestor in enumerate((parent, parent.getparent() if parent is not None else None)):
            if ancestor is None or not isinstance(ancestor.tag, str) or ancestor.tag in ("html", "body"):
                break
            if ancestor not in scores:
                scores[ancestor] = _TAG_SCORE.get(ancestor.tag, 0) + class_weight(ancestor)
            scores[ancestor] += points / (1 + level)
    if not scores:
        return None
    ranked = {element: score * (1 - stats.link_density(element)) for element, score in scores.items()}
    best = max(ranked, key=ranked.__getitem__)
    elements = _with_siblings(best, ranked, stats)
    lines: list[str] = []
    for element in elements:
        lines.extend(read_lines(element, stats))
    return Container(elements, ranked[best], lines)


def _with_siblings(best: etree._Element, ranked: dict[etree._Element, float], stats: TextStats) -> list[etree._Element]:
    """The best container and its siblings that score near it or read as article paragraphs (readability)."""
    parent = best.getparent()
    if parent is None:
        return [best]
    threshold = max(10.0, ranked[best] * 0.2)
    kept = []
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        if sibling is best or ranked.get(sibling, -1.0) >= threshold:
            kept.append(sibling)
        elif sibling.tag == "p" and stats.text.get(sibling, 0) > 80 and stats.link_density(sibling) < 0.25:
            kept.append(sibling)
    return kept


def left_out(element: etree._Element, stats: TextStats) -> bool:
    """A block inside the container that is chrome: link-dense, or named as chrome and somewhat link-dense."""
    if element.tag not in ("div", "ul", "ol", "dl", "table", "section", "p", "li", "tr"):
        return False
    density = stats.link_density(element)
    return density > LINK_DENSE or (density > LINK_DENSE_NEGATIVE and class_weight(element) < 0)


def read_lines(element: etree._Element, stats: TextStats) -> list[str]:
    """The text of a container, one line per block element, without left-out blocks."""
    return element_lines(element, lambda node: left_out(node, stats))
