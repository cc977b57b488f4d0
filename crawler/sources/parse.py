"""parse() and first_urls(): the one entry point, dispatching by source kind."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from urllib.parse import parse_qs, urlsplit

from crawler.listing import DEFAULT_FUTURE_SKEW
from crawler.rollapi import RollApiError, parse_roll_page, roll_api_url
from crawler.sources.htmllist import parse_html_list
from crawler.sources.jsonlist import page_url, parse_json_list
from crawler.sources.model import MAX_ITEMS, ListedItem, ListPage, SourceError
from crawler.sources.xmllists import parse_feed, parse_sitemap
from extractors.dates import CHINA_TZ
from extractors.sources import Feed, HtmlList, JsonList, RollApi, Sitemap, Source


def first_urls(source: Source) -> list[str]:
    """The requests a sweep of the source starts with: one per roll-API channel, else one."""
    if isinstance(source, RollApi):
        return [roll_api_url(pageid, lid, 1) for pageid, lid in source.channels]
    if isinstance(source, JsonList):
        return [page_url(source, source.first_page) if source.paged else source.url]
    return [source.url]


def first_url(source: Source) -> str:
    return first_urls(source)[0]


def parse(
    source: Source,
    body: bytes | str,
    url: str,
    article_urls: tuple[str, ...] = (),
    *,
    now: datetime | None = None,
    max_items: int = MAX_ITEMS,
    skew: timedelta = DEFAULT_FUTURE_SKEW,
    tz: tzinfo = CHINA_TZ,
) -> ListPage:
    """One answer of `source` to a request for `url`. `article_urls` (the site rule's) filters
    HtmlList links only: feeds and sitemaps may list any host. Times later than `now` plus
    `skew` are ignored; text times without an offset are in `tz`. Raises SourceError."""
    checks = {"now": now or datetime.now(timezone.utc), "skew": skew}
    if isinstance(source, RollApi):
        return _parse_roll(body, url, max_items=max_items, **checks)
    if isinstance(source, JsonList):
        return parse_json_list(source, body, url, max_items=max_items, tz=tz, **checks)
    if isinstance(source, Feed):
        return parse_feed(source, body, url, max_items=max_items, tz=tz, **checks)
    if isinstance(source, Sitemap):
        return parse_sitemap(source, body, url, max_items=max_items, tz=tz, **checks)
    if isinstance(source, HtmlList):
        return parse_html_list(source, body, url, article_urls, max_items=max_items, tz=tz, **checks)
    raise TypeError(f"not a source: {source!r}")


def _parse_roll(body: bytes | str, url: str, *, max_items: int, now: datetime, skew: timedelta) -> ListPage:
    """Sina's roll API through crawler.rollapi; the channel and page come from the request URL."""
    query = parse_qs(urlsplit(url).query)
    try:
        pageid, lid, number = (int(query[name][0]) for name in ("pageid", "lid", "page"))
    except (KeyError, ValueError):
        raise SourceError(f"not a roll-API request URL: {url[:200]}") from None
    try:
        listed = parse_roll_page(body, now=now, max_items=max_items, skew=skew)
    except RollApiError as exc:
        raise SourceError(str(exc)) from None
    key = RollApi.channel_key(pageid, lid)
    # mtime says an item changed; ctime orders the channel (since, watermarks)
    page = ListPage(
        items=[
            ListedItem(i.url, i.title, i.mtime or i.ctime, key, tuple(i.as_meta().items()), placed_at=i.ctime)
            for i in listed.items
        ],
        bad_items=len(listed.bad_items),
        bad_times=len(listed.bad_times),
        capped=listed.capped,
        item_problems=list(listed.bad_items),
        time_problems=list(listed.bad_times),
    )
    if listed.items or listed.bad_items:
        page.next_url = roll_api_url(pageid, lid, number + 1, url.split("?", 1)[0])
    return page
