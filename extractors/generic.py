"""The generic path: two body candidates on the parsed page, a measured choice, the shared filters.

The header (extractors.header) is read first. Then, on the same tree: captions
typed as text under pictures are taken out (extractors.captions), the
readability-style best container is read (extractors.container, no change to
the tree), link lists and layout-table chrome are pruned (extractors.prune),
and trafilatura reads what is left (fast mode: its own readability/justext
fallbacks are what the container candidate replaces). Both bodies go through
the shared line filters; extractors.body_candidates chooses.
"""

from __future__ import annotations

from typing import NamedTuple

import trafilatura
from lxml import etree
from parsel import Selector

from extractors.article import GENERIC_SITE, Article, Image
from extractors.body_candidates import prefer_container
from extractors.captions import drop_captions, is_furniture
from extractors.clean import CleanBody, clean_lines, detect_language
from extractors.container import best_container
from extractors.header import canonical_url, page_editor, page_source, page_title, published_stamp
from extractors.prune import TextStats, prune_link_lists

VERSION = 3


def extract_generic(page: Selector, url: str, title_suffix: str | None = None) -> Article:
    """The article from the better of two body candidates plus the shared filters; `page` is the parsed document.

    The page's own reads come first: the body step then prunes the same tree,
    which saves parsing or copying it again.
    """
    title, headline = page_title(page, title_suffix)
    published = published_stamp(page, headline, url)
    source, editor = page_source(page, headline), page_editor(page, headline)
    canonical = canonical_url(page, url)
    cleaned, images, _ = generic_body(page, url, title)  # prunes the tree: header reads come first
    return Article(
        url=url,
        canonical_url=canonical,
        title=title,
        body=cleaned.body,
        published_at=published.moment if published else None,
        published_precision=published.precision if published else None,
        source=source or cleaned.source,
        authors=cleaned.authors,
        editor=editor or cleaned.editor,
        original_title=cleaned.original_title,
        images=images,
        language=detect_language(cleaned.body),
        site=GENERIC_SITE,
        extractor=f"generic@{VERSION}/trafilatura-{trafilatura.__version__}",
    )


class GenericBody(NamedTuple):
    body: CleanBody
    images: list[Image]
    from_container: bool  # the best container's body won over trafilatura's


def generic_body(page: Selector, url: str, title: str | None) -> GenericBody:
    """The chosen candidate's cleaned body and the pictures of the article; prunes `page`'s tree.

    Captions typed as text under pictures leave the tree first (extractors.captions),
    so neither candidate reads them; the pictures kept are those inside the best
    container, the part of the page that holds the article whichever body wins.
    """
    pictures = drop_captions(page.root, url)
    stats = TextStats(page.root)
    container = best_container(page.root, stats)
    from_container = clean_lines(container.lines if container else [], title=title)
    images = _inside(pictures, container.elements) if container else []
    prune_link_lists(page.root, stats)
    from_trafilatura = clean_lines(trafilatura_lines(page, url), title=title)
    if prefer_container(from_trafilatura.body, from_container.body):
        return GenericBody(from_container, images, True)
    return GenericBody(from_trafilatura, images, False)


def _inside(pictures: dict[etree._Element, Image], containers: list[etree._Element]) -> list[Image]:
    regions = set(containers)
    return [
        image
        for img, image in pictures.items()
        if any(a in regions for a in img.iterancestors()) and not is_furniture(img, image.src)
    ]


def trafilatura_lines(page: Selector, url: str | None = None, *, tables: bool = True, fast: bool = True) -> list[str]:
    doc = trafilatura.bare_extraction(
        page.root,
        url=url,
        fast=fast,
        include_comments=False,
        include_tables=tables,
        deduplicate=False,
    )
    return ((doc.text if doc else "") or "").split("\n")
