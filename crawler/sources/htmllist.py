"""HTML list pages (extractors.sources.HtmlList): the list JSON a script embeds, else the links.

Either way only URLs matching the site's article_urls are kept (a list page links
to channels, ads and other sites); the rest are counted in not_article.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

from parsel import Selector

from crawler.sources.jsonlist import decode
from crawler.sources.model import ListedItem, ListPage, clean_text, time_or_bad, url_or_bad
from extractors.sources import HtmlList


def _embedded(html: str, key: str) -> list | None:
    """The JSON array after `"key":` in the page (ifeng: "newsstream":[…]), or None."""
    match = re.search(r'"' + re.escape(key) + r'"\s*:\s*(?=\[)', html)
    if not match:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(html, match.end())
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def parse_html_list(
    source: HtmlList, body: bytes | str, url: str, article_urls: tuple[str, ...], *, max_items: int, **checks
) -> ListPage:
    html = decode(body)
    entries = _embedded(html, source.embedded_json) if source.embedded_json else None
    if entries is None:
        entries = [
            {source.url_field: a.attrib.get("href"), source.title_field: " ".join(a.css("::text").getall())}
            for a in Selector(text=html).css("a[href]")
        ]
        time_field = None
    else:
        time_field = source.time_field
    patterns = [re.compile(p) for p in article_urls]
    page = ListPage(capped=max(0, len(entries) - max_items))
    seen: set[str] = set()
    for number, entry in enumerate(entries[:max_items], 1):
        if not isinstance(entry, dict):
            page.bad_item(f"item {number}: not an object")
            continue
        raw = entry.get(source.url_field)
        if isinstance(raw, str) and raw.strip():
            try:
                raw = urljoin(url, raw.strip())
            except ValueError:
                pass  # checked_url says why
        if (item := url_or_bad(page, raw, number)) is None:
            continue
        if not any(p.search(item) for p in patterns):
            page.not_article += 1
            continue
        if item in seen:
            continue
        seen.add(item)
        listed_at = time_or_bad(page, entry.get(time_field), number, "text", **checks) if time_field else None
        page.items.append(ListedItem(item, clean_text(entry.get(source.title_field)), listed_at, source.key))
    return page
