"""The generic path: trafilatura on decoded text, then the shared Chinese filters."""

from __future__ import annotations

import re

import trafilatura
from parsel import Selector
from w3lib.url import canonicalize_url

from extractors.article import Article
from extractors.clean import clean_lines, detect_language, find_datetime, normalize_space, parse_datetime

VERSION = 1

_TITLE_SEPARATORS = re.compile(r"\s*[_|｜–—-]\s*[^_|｜–—-]*$")


def canonical_url(page: Selector, url: str) -> str:
    """link rel=canonical, else og:url, else the fetched URL; normalised (w3lib)."""
    for css in ("link[rel=canonical]::attr(href)", "meta[property='og:url']::attr(content)"):
        value = page.css(css).get()
        if value and value.strip().startswith(("http://", "https://")):
            return canonicalize_url(value.strip())
    return canonicalize_url(url)


def page_title(page: Selector, title_suffix: str | None = None) -> str | None:
    for css in ("meta[property='og:title']::attr(content)", "title::text", "h1 ::text"):
        value = normalize_space(page.css(css).get() or "")
        if value:
            if title_suffix:
                value = re.sub(title_suffix, "", value).strip()
            return value
    return None


def extract_generic(text: str, url: str, title_suffix: str | None = None) -> Article:
    page = Selector(text=text)
    doc = trafilatura.bare_extraction(
        text,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    raw_body = (doc.text if doc else "") or ""
    title = (doc.title if doc else None) or page_title(page, title_suffix)
    if title and title_suffix:
        title = re.sub(title_suffix, "", title).strip()
    cleaned = clean_lines(raw_body.split("\n"), title=title)
    published_at = _published_at(page, doc.date if doc else None)
    return Article(
        url=url,
        canonical_url=canonical_url(page, url),
        title=title,
        body=cleaned.body,
        published_at=published_at,
        source=cleaned.source,
        authors=cleaned.authors,
        editor=cleaned.editor,
        original_title=cleaned.original_title,
        language=detect_language(cleaned.body) or (doc.language if doc else None),
        site="generic",
        extractor=f"generic@{VERSION}/trafilatura-{trafilatura.__version__}",
    )


def _published_at(page: Selector, date_only: str | None):
    """trafilatura gives a date; a Chinese time on the page adds the minute."""
    meta = page.css("meta[property='article:published_time']::attr(content)").get()
    if parsed := parse_datetime(meta):
        return parsed
    body = page.css("body").get() or ""
    visible = " ".join(Selector(text=body).xpath("//body//text()[not(ancestor::script|ancestor::style)]").getall())
    precise = find_datetime(visible[:20000])
    if precise and (not date_only or precise.date().isoformat() == date_only):
        return precise
    return parse_datetime(date_only)


__all__ = ["canonical_url", "extract_generic", "page_title"]
