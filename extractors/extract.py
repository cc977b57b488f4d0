"""extract(page) → Article: the site rule if one matches, else the generic path."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urljoin

from parsel import Selector

from extractors import generic
from extractors.article import Article, Image, NotAnArticle
from extractors.clean import clean_lines, normalize_space, normalize_symbol, parse_datetime
from extractors.decoding import decode_html
from extractors.registry import rule_for
from extractors.rules import Layout, SiteRule, element_lines, first_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    """What was fetched: the URL, the body as received, and the response headers."""

    url: str
    body: bytes | str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return None


def extract(page: Page, *, strict: bool = False) -> Article:
    """Extract the article from a page.

    Raises NotAnArticle when neither the site rule nor the generic path finds
    an article body. With strict=True, errors inside a site rule propagate
    instead of falling back to the generic path (tests use that).
    """
    if not page.body or (isinstance(page.body, bytes) and b"\x00" in page.body[:1024]):
        raise NotAnArticle("empty or binary body")
    decoded = decode_html(page.body, page.content_type)
    warnings = [f"lossy decoding as {decoded.encoding}"] if decoded.lossy else []
    selector = Selector(text=decoded.text)
    rule = rule_for(page.url)
    article = None
    if rule is not None:
        layout = rule.layout_for(selector)
        if layout is not None:
            try:
                article = _apply_layout(rule, layout, selector, page.url)
            except Exception:
                if strict:
                    raise
                logger.exception("site rule %s/%s failed on %s", rule.name, layout.name, page.url)
                article = None
            if article is not None and not article.body:
                article = None
    if article is None:
        article = generic.extract_generic(decoded.text, page.url, title_suffix=rule.title_suffix if rule else None)
        if rule is not None:
            article.site = rule.name
    if not article.body:
        raise NotAnArticle(f"no article body found on {page.url}")
    article.warnings.extend(warnings)
    return article


def _apply_layout(rule: SiteRule, layout: Layout, page: Selector, url: str) -> Article:
    container = next((node for css in layout.body for node in page.css(css)), None)
    title = first_text(page, layout.title)
    if container is None:
        return Article(url=url, title=title, body="")
    # read everything the drop list removes (editor line, quote spans) first
    images = _images(container, url)
    symbols = _symbols(container, layout)
    editor = _editor_name(first_text(page, layout.editor))
    published_raw = first_text(page, layout.published_at)
    source = _source_name(first_text(page, layout.source))
    source_url = first_text(page, layout.source_url)
    for css in layout.drop:
        for node in container.css(css):
            node.drop()
    cleaned = clean_lines(element_lines(container.root), title=title)
    return Article(
        url=url,
        canonical_url=generic.canonical_url(page, url),
        title=title,
        body=cleaned.body,
        published_at=parse_datetime(published_raw),
        source=source,
        source_url=urljoin(url, source_url) if source_url else None,
        authors=[],
        editor=editor or cleaned.editor,
        original_title=cleaned.original_title,
        images=images,
        symbols=symbols,
        language="zh",
        site=rule.name,
        extractor=f"{rule.name}/{layout.name}@{rule.version}",
    )


def _source_name(text: str | None) -> str | None:
    if not text:
        return None
    # "2016年05月25日10:10 新浪财经" in old time-source spans: keep the outlet only
    text = re.sub(r"^.*?\d{1,2}[:：]\d{2}\s*", "", text)
    text = re.sub(r"^(来源|媒体)\s*[:：]\s*", "", normalize_space(text))
    return text or None


def _editor_name(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"责任编辑\s*[:：]\s*(\S+)", text)
    return match.group(1) if match else None


def _images(container: Selector, base_url: str) -> list[Image]:
    images = []
    for img in container.css("img"):
        src = img.attrib.get("data-src") or img.attrib.get("src")
        if not src or src.startswith("data:"):
            continue
        caption = img.xpath("following-sibling::*[contains(@class,'img_descr')][1]//text()").getall()
        caption_text = normalize_space(" ".join(caption)) or None
        images.append(Image(src=urljoin(base_url, src), caption=caption_text))
    return images


def _symbols(container: Selector, layout: Layout) -> list[str]:
    found: list[str] = []
    for css in layout.symbols:
        for raw in container.css(css).getall():
            symbol = normalize_symbol(raw)
            if symbol and symbol not in found:
                found.append(symbol)
    return found
