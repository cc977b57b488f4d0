"""RSS 2.0 and Atom feeds, sitemaps, sitemap indexes and Google News sitemaps.

A sitemap index lists its sitemaps most recently modified first (ListPage.follow).
One hardened lxml parser for all of them: no entity expansion, no DTD, no network,
no huge trees (a billion-laughs feed yields its entities unexpanded, never a blow-up).
Scrapy's Sitemap would do for plain sitemaps, but it clears a <url>'s children
before Google News' <news:publication_date> and <news:title> can be read.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from crawler.sources.model import ListedItem, ListPage, SourceError, clean_text, time_or_bad, url_or_bad
from extractors.sources import Feed, Sitemap


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=True,
    )


def load(body: bytes | str) -> etree._Element:
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        root = etree.fromstring(body.lstrip(), _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise SourceError(f"not XML: {exc}"[:200]) from None
    if root is None:
        raise SourceError("not XML")
    return root


def _name(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child(element: etree._Element, *names: str) -> etree._Element | None:
    for child in element:
        if _name(child) in names:
            return child
    return None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return "".join(_texts(element, tail=False)).strip() or None


def _texts(element: etree._Element, tail: bool = True):
    """The element's text in order; an unexpanded entity reference ("&ext;") gives none."""
    if not isinstance(element, etree._Entity):
        yield element.text or ""
        for child in element:
            yield from _texts(child)
    if tail and element.tail:
        yield element.tail


def _entries(root: etree._Element, names: tuple[str, ...]) -> list[etree._Element]:
    return [e for e in root.iter() if _name(e) in names]


def _read(page: ListPage, entries: list, max_items: int) -> list:
    page.capped = max(0, len(entries) - max_items)
    return entries[:max_items]


def parse_feed(source: Feed, body: bytes | str, url: str, *, max_items: int, **checks) -> ListPage:
    root = load(body)
    kind = _name(root)
    if kind not in ("rss", "feed", "RDF"):
        raise SourceError(f"not an RSS or Atom feed (root <{kind}>)")
    page = ListPage()
    atom = kind == "feed"
    for number, entry in enumerate(_read(page, _entries(root, ("entry",) if atom else ("item",)), max_items), 1):
        if atom:
            links = [link for link in entry if _name(link) == "link" and link.get("rel", "alternate") == "alternate"]
            raw_url = links[0].get("href") if links else None
            raw_time, unit = _text(_child(entry, "updated")) or _text(_child(entry, "published")), "text"
        else:
            raw_url = _text(_child(entry, "link"))
            raw_time, unit = _text(_child(entry, "pubDate", "date")), "rfc822"
        if (item := url_or_bad(page, raw_url, number)) is None:
            continue
        listed_at = time_or_bad(page, raw_time, number, unit, **checks)
        page.items.append(ListedItem(item, clean_text(_text(_child(entry, "title"))), listed_at, source.key))
    return page


def parse_sitemap(source: Sitemap, body: bytes | str, url: str, *, max_items: int, **checks) -> ListPage:
    root = load(body)
    kind = _name(root)
    if kind not in ("urlset", "sitemapindex"):
        raise SourceError(f"not a sitemap (root <{kind}>)")
    page = ListPage()
    dated: list[tuple[datetime, str]] = []  # an index's sitemaps with a usable lastmod
    for number, entry in enumerate(_read(page, [e for e in root if _name(e) in ("url", "sitemap")], max_items), 1):
        if (loc := url_or_bad(page, _text(_child(entry, "loc")), number)) is None:
            continue
        if kind == "sitemapindex":
            modified = time_or_bad(page, _text(_child(entry, "lastmod")), number, "text", **checks)
            if modified is None:
                page.follow.append(loc)
            else:
                dated.append((modified, loc))
            continue
        news = _child(entry, "news")  # Google News: <news:news><news:publication_date>, <news:title>
        raw_time = _text(_child(news, "publication_date")) if news is not None else None
        listed_at = time_or_bad(page, raw_time or _text(_child(entry, "lastmod")), number, "text", **checks)
        title = clean_text(_text(_child(news, "title"))) if news is not None else None
        page.items.append(ListedItem(loc, title, listed_at, source.key))
    # the most recently changed sitemaps first (the spider follows max_pages of them), undated ones after
    page.follow = [loc for _, loc in sorted(dated, key=lambda pair: pair[0], reverse=True)] + page.follow
    return page
