"""extract(page) → Article: the site rule if one matches, else the generic path.

Pages that are no article raise NotAnArticle: empty, binary or not HTML, a
redirect stub (a <meta http-equiv="refresh"> that names a URL, on a page whose
visible text is under STUB_MAX_TEXT characters: "redirect", "页面跳转中…"; a
refresh without a URL, the auto-reload of news pages, is no stub), no body found,
or a page of media or chrome only (extractors.page_kind: a video player or a
picture gallery with next to no text, a body of navigation runs).

A site rule reads every node its body selector matches (extract._containers)
and takes picture captions by its caption XPath, else by extractors.captions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urljoin

from parsel import Selector

from extractors import generic, header
from extractors.article import Article, Image, NotAnArticle
from extractors.captions import find_caption, picture_src
from extractors.clean import clean_lines, detect_language, normalize_space, normalize_symbol
from extractors.credits import person_names
from extractors.dates import CHINA_TZ, parse_datetime, precision_of
from extractors.decoding import decode_html
from extractors.page_kind import gallery_only, has_player, navigation_body, prose_length, video_only
from extractors.parsing import parse_html
from extractors.prune import prune_link_lists
from extractors.registry import rule_for
from extractors.rules import (
    Layout,
    SiteRule,
    drop_node,
    drop_related_links,
    element_lines,
    first_text,
    select,
)

logger = logging.getLogger(__name__)


_HTML_TAG = re.compile(r"<\s*(?:html|head|body|p|div|br|article|section|table|h[1-6]|span|a)\b", re.I)
_WORD = re.compile(r"[^\W_]")  # a letter or digit, in any script
STUB_MAX_TEXT = 200  # visible characters (spaces aside) a redirect stub may show: "moved, click here" notices
# a refresh inside <noscript> is for browsers without JavaScript only (Scrapy's MetaRefreshMiddleware skips it too)
_REFRESH_CONTENT = "//meta[translate(@http-equiv, 'REFSH', 'refsh') = 'refresh'][not(ancestor::noscript)]/@content"
_VISIBLE_BODY_TEXT = "//body//text()[not(ancestor::script|ancestor::style|ancestor::noscript|ancestor::template)]"
# the refresh's content: a delay, then ";" or ",", then the URL, bare or after "url=", maybe quoted (HTML's algorithm)
_REFRESH_URL = re.compile(
    r"\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(?P<quote>['\"]?)(?P<url>.*?)(?P=quote)?\s*$", re.IGNORECASE | re.DOTALL
)


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


def extract(page: Page, *, strict: bool = False, generic_only: bool = False) -> Article:
    """Extract the article from a page.

    Raises NotAnArticle when neither the site rule nor the generic path finds
    an article body. With strict=True, errors inside a site rule propagate
    instead of falling back to the generic path (tests use that). With
    generic_only=True the site rules are passed over, as for a site without
    one (the benchmark measures the generic path so).
    """
    if not page.body:
        raise NotAnArticle("empty body")
    if isinstance(page.body, bytes) and b"\x00" in page.body[:1024]:
        raise NotAnArticle("binary body (NUL bytes), not a text page")
    decoded = decode_html(page.body, page.content_type)
    if not _HTML_TAG.search(decoded.text[:200_000]):
        raise NotAnArticle("not HTML: no HTML element in the document")
    warnings = [decoded.warning] if decoded.lossy else []
    selector = _parse(decoded.text)
    stub_target = redirect_stub_target(selector, page.url)
    if stub_target is not None:
        raise NotAnArticle(f"a redirect stub (meta refresh to {stub_target})")
    rule = None if generic_only else rule_for(page.url)
    article = layout = None
    if rule is not None:
        layout = rule.layout_for(selector)
        if layout is not None:
            try:
                article = _apply_layout(rule, layout, selector, page.url)
            except NotAnArticle:
                raise  # the rule recognised the page (a video, a gallery): no generic fallback
            except Exception:
                if strict:
                    raise
                logger.exception("site rule %s/%s failed on %s", rule.name, layout.name, page.url)
                article = None
            if article is not None and not article.body:
                article = None
    if article is None:
        if rule is not None and layout is not None:  # the layout pruned the tree: start afresh
            selector = _parse(decoded.text)
        article = generic.extract_generic(selector, page.url, title_suffix=rule.title_suffix if rule else None)
        if rule is not None:
            article.site = rule.name
    if not article.body or not _WORD.search(article.body):  # "<<<>>>" from broken markup is no body
        raise NotAnArticle(f"no article body found on {page.url}")
    if navigation_body(article.body):  # a video page's site chrome, when its player left no text
        raise NotAnArticle(f"navigation only: page chrome and no article text on {page.url}")
    if rule is None and (article.language or "").startswith("zh"):
        article.published_at = _in_zone(article.published_at, CHINA_TZ)
    article.warnings.extend(warnings)
    return article


def _parse(text: str) -> Selector:
    """One parse, shared by the site rule, the generic path and trafilatura (same parser)."""
    tree = parse_html(text)
    if tree is None:
        raise NotAnArticle("not HTML: no element could be parsed")
    return Selector(root=tree)


def redirect_stub_target(page: Selector, url: str) -> str | None:
    """Where a redirect stub sends the reader: a meta refresh's URL, when the page shows next to no text."""
    for content in page.xpath(_REFRESH_CONTENT).getall():
        match = _REFRESH_URL.match(content)
        target = match.group("url").strip() if match else ""
        if target:
            text = "".join("".join(page.xpath(_VISIBLE_BODY_TEXT).getall()).split())
            return urljoin(url, target) if len(text) < STUB_MAX_TEXT else None
    return None


def _containers(page: Selector, layout: Layout) -> list[Selector]:
    """Every node of the first body selector that matches, in document order, outermost only.

    A page may split its text over two containers of the same markup (a 163 page
    with two div#endText); a node inside another matched node is read with it.
    """
    for sel in layout.body:
        nodes = list(select(page, sel))
        if nodes:
            roots = {node.root for node in nodes}
            return [node for node in nodes if not any(a in roots for a in node.root.iterancestors())]
    return []


def _apply_layout(rule: SiteRule, layout: Layout, page: Selector, url: str) -> Article:
    containers = _containers(page, layout)
    title = first_text(page, layout.title)
    if not containers:
        return Article(url=url, title=title, body="")
    # read everything the drop list removes (editor line, quote spans, players) first
    symbols = _symbols(containers, layout)
    had_player = any(has_player(container.root) for container in containers)
    editor = _editor_name(first_text(page, layout.editor))
    authors = _authors(first_text(page, layout.authors))
    published_raw = first_text(page, layout.published_at)
    source, source_url = _source(page, layout, rule)
    overrides = layout.extra(page, url) if layout.extra else {}
    images: list[Image] = []
    lines: list[str] = []
    for container in containers:
        for sel in layout.drop:
            for node in select(container, sel):
                drop_node(node)
        drop_related_links(container)
        prune_link_lists(container.root)
        images += _images(container, url, layout.caption)  # only pictures that survived the drops
        lines += element_lines(container.root)
    cleaned = clean_lines(lines, title=overrides.get("title", title))
    if source and cleaned.source and _AGGREGATED.search(source):
        # "新浪新闻综合" labels a compilation; the story's own 来源 line names its outlet
        source, source_url = cleaned.source, None
    article = Article(
        url=url,
        canonical_url=header.canonical_url(page, url),
        title=title,
        body=cleaned.body,
        published_at=_in_zone(parse_datetime(published_raw, rule.timezone), rule.timezone),
        published_precision=precision_of(published_raw),
        source=source or cleaned.source,
        source_url=urljoin(url, source_url) if source and source_url else None,
        authors=authors or cleaned.authors,
        editor=editor or cleaned.editor,
        original_title=cleaned.original_title,
        images=images,
        symbols=symbols,
        language=detect_language(cleaned.body) or "zh",
        site=rule.name,
        extractor=f"{rule.name}/{layout.name}@{rule.version}",
    )
    for name, value in overrides.items():
        setattr(article, name, value)
    _raise_if_media_only(had_player, article.images, article.body)
    return article


def _raise_if_media_only(had_player: bool, images: list[Image], body: str) -> None:
    """A container of a player or pictures and (next to) no text is no article (extractors.page_kind)."""
    if video_only(had_player, body):
        raise NotAnArticle(f"video-only page: a player and {prose_length(body)} characters of text")
    if gallery_only(len(images), sum(1 for image in images if image.caption), body):
        raise NotAnArticle(f"picture gallery: {len(images)} pictures and no text besides their captions")


def _in_zone(moment, zone):
    """An aware time shown in the site's zone (a UTC datetime attribute becomes +08:00)."""
    return moment.astimezone(zone) if moment is not None else None


# a source label that says the portal compiled the story ("新浪新闻综合", "新浪财经-自媒体综合")
_AGGREGATED = re.compile(r"综合$")


def _source(page: Selector, layout: Layout, rule: SiteRule) -> tuple[str | None, str | None]:
    """The outlet and its link; a platform label (新浪看点) is passed over, and so is its link."""
    for position, selector in enumerate(layout.source):
        name = _source_name(first_text(page, (selector,)))
        if name and name not in rule.platform_labels:
            link = first_text(page, layout.source_url) if position == 0 else None
            return name, link
    return None, None


def _source_name(text: str | None) -> str | None:
    if not text:
        return None
    # "2016年05月25日10:10 新浪财经" in old time-source spans: keep the outlet only
    text = re.sub(r"^.*?\d{1,2}[:：]\d{2}\s*", "", text)
    text = re.sub(r"^(来源|媒体)\s*[:：]\s*", "", normalize_space(text))
    text = re.sub(r"^《([^《》]+)》$", r"\1", text)  # an outlet named as a publication title
    return text or None


def _authors(text: str | None) -> list[str]:
    if not text:
        return []
    match = re.search(r"作者\s*[:：]\s*([^\s:：]+(?:\s+[^\s:：]+)*?)(?:\s+\S+[:：]|$)", text)
    return person_names(match.group(1) if match else text)


# CMS work codes after an editor's name: "支全明 SF099", "杨倩_NF4425"
_STAFF_CODE = re.compile(r"[_\s]*[A-Z]{1,4}\d{2,}$")


def _editor_name(text: str | None) -> str | None:
    """The 责任编辑 of an editor element; a plain "编辑：X" when that is all it says."""
    if not text:
        return None
    match = re.search(r"(?:责任编辑|责编)\s*[:：]\s*([^\s\]】)）]+)", text) or re.search(
        r"编辑\s*[:：]\s*([^\s\]】)）]+)", text
    )
    if not match:
        return None
    return _STAFF_CODE.sub("", match.group(1)) or match.group(1)


def _images(container: Selector, base_url: str, caption_xpath: str) -> list[Image]:
    """Pictures in the body with their captions; the caption nodes are removed from the body.

    The layout's caption XPath (the site's caption markup) comes first, then the
    site-neutral rule of extractors.captions (captions typed as plain paragraphs).
    """
    images = []
    for img in container.css("img"):
        src = picture_src(img.root)
        if not src:
            continue
        marked = img.xpath(caption_xpath)
        if marked:
            caption = normalize_space(" ".join(marked.xpath(".//text()").getall())) or None
            for node in marked:
                node.drop()
        else:
            found = find_caption(img.root, stop=container.root)
            caption = found.text if found else None
            if found:
                found.remove()
        images.append(Image(src=urljoin(base_url, src), caption=caption))
    return images


def _symbols(containers: list[Selector], layout: Layout) -> list[str]:
    found: list[str] = []
    normalize = layout.symbol_from or normalize_symbol
    for sel in layout.symbols:
        for raw in (raw for container in containers for raw in select(container, sel).getall()):
            symbol = normalize(raw)
            if symbol and symbol not in found:
                found.append(symbol)
    return found
