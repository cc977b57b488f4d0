"""The article's header, read from the page: headline, publication time, canonical URL.

Cheap page reads instead of trafilatura's metadata pass (which runs htmldate
and would double the cost): the headline is the first heading-like element
whose text the <title> or og:title repeats; the time is the page's meta, else
the first Chinese date-and-time after the headline.
"""

from __future__ import annotations

import re

from parsel import Selector
from w3lib.url import canonicalize_url

from extractors.clean import normalize_space
from extractors.dates import find_datetime, parse_datetime

_CJK = re.compile(r"[\u3400-\u9fff]")
_TITLE_SEPARATOR = re.compile(r"\s*[_|｜]\s*|\s+[-–—]\s+")
# Elements that may hold the headline, most specific first.
_HEADLINE_XPATH = (
    "//h1 | //h2 | //*[self::div or self::span or self::p or self::td or self::th]"
    "[contains(@class,'title') or contains(@id,'title') or contains(@class,'Title')]"
)
_PUBLISHED_META = (
    "meta[property='article:published_time']::attr(content)",
    "meta[itemprop=datePublished]::attr(content)",
    "meta[name=pubdate]::attr(content)",
    "meta[name=PubDate]::attr(content)",
    "meta[name=publishdate]::attr(content)",
    "meta[name='weibo: article:create_at']::attr(content)",
)
_VISIBLE_TEXT = "//body//text()[not(ancestor::script|ancestor::style|ancestor::noscript)][normalize-space()]"
_FOLLOWING_TEXT = "following::text()[not(ancestor::script|ancestor::style|ancestor::noscript)][normalize-space()]"


def canonical_url(page: Selector, url: str) -> str:
    """link rel=canonical, else og:url, else the fetched URL; normalised (w3lib)."""
    for css in ("link[rel=canonical]::attr(href)", "meta[property='og:url']::attr(content)"):
        value = page.css(css).get()
        if value and value.strip().startswith(("http://", "https://")):
            return canonicalize_url(value.strip())
    return canonicalize_url(url)


def _strip_site_suffix(title: str, title_suffix: str | None) -> str:
    if title_suffix:
        title = re.sub(title_suffix, "", title).strip()
    parts = [p for p in _TITLE_SEPARATOR.split(title) if p.strip()]
    if len(parts) > 1:
        first = parts[0].strip()
        return first if len(first) >= 5 else max(parts, key=len).strip()
    return title


def _key(text: str) -> str:
    """Text without punctuation or spaces: "增强——前4个月" and "增强-前4个月" compare equal."""
    return re.sub(r"[\W_]+", "", text)


def page_title(page: Selector, title_suffix: str | None = None) -> tuple[str | None, object | None]:
    """The headline and its element (None when it only comes from <title>/og:title)."""
    title_tag = normalize_space(page.css("title::text").get() or "")
    og_title = normalize_space(page.css("meta[property='og:title']::attr(content)").get() or "")
    keys = (_key(title_tag), _key(og_title))
    for xpath in ("//h1", _HEADLINE_XPATH):  # the cheap, usual case first
        for node in page.xpath(xpath)[:40]:
            text = normalize_space(" ".join(node.xpath(".//text()[not(ancestor::script)]").getall()))
            if 4 <= len(text) <= 200 and any(_key(text) in key for key in keys):
                return text, node.root
    for candidate in (og_title, title_tag):
        if candidate:
            return _strip_site_suffix(candidate, title_suffix), None
    first_h1 = normalize_space(" ".join(page.xpath("//h1[1]//text()").getall()))
    return first_h1 or None, None


def published_time(page: Selector, headline_element=None):
    """The page's meta time, else the first date with a time of day after the headline."""
    date_only = None
    for css in _PUBLISHED_META:
        raw = page.css(css).get()
        if parsed := parse_datetime(raw):
            if re.search(r"\d[:：]\d", raw):
                return parsed
            date_only = date_only or parsed  # a day without a time: the page may show the minute
    windows = []
    if headline_element is not None:
        after = Selector(root=headline_element).xpath(_FOLLOWING_TEXT)
        windows.append(after[:60].getall())
    if headline_element is None or _CJK.search(headline_element.text_content()):
        # a page-wide look only where a Chinese date line is to be expected
        windows.append(page.xpath(_VISIBLE_TEXT)[:2000].getall())
    for window in windows:
        found = find_datetime(" ".join(window))
        if found and (date_only is None or found.date() == date_only.date()):
            return found
    return date_only
    return None
