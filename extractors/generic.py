"""The generic path: trafilatura on the parsed page, then the shared Chinese filters.

The header (extractors.header) is read first: trafilatura then prunes the
tree it reads.
"""

from __future__ import annotations

import trafilatura
from parsel import Selector

from extractors.article import Article
from extractors.clean import clean_lines, detect_language
from extractors.header import canonical_url, page_title, published_time

VERSION = 2


def extract_generic(page: Selector, url: str, title_suffix: str | None = None) -> Article:
    """The article by trafilatura plus the shared filters; `page` is the parsed document.

    The page's own reads come first: trafilatura then prunes the same tree,
    which saves parsing or copying it again.
    """
    title, headline = page_title(page, title_suffix)
    published_at = published_time(page, headline)
    canonical = canonical_url(page, url)
    doc = trafilatura.bare_extraction(
        page.root,
        url=url,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    raw_body = (doc.text if doc else "") or ""
    cleaned = clean_lines(raw_body.split("\n"), title=title)
    return Article(
        url=url,
        canonical_url=canonical,
        title=title,
        body=cleaned.body,
        published_at=published_at,
        source=cleaned.source,
        authors=cleaned.authors,
        editor=cleaned.editor,
        original_title=cleaned.original_title,
        language=detect_language(cleaned.body),
        site="generic",
        extractor=f"generic@{VERSION}/trafilatura-{trafilatura.__version__}",
    )
