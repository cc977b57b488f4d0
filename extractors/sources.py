"""Discovery sources as data: how a site lists its recent articles (SITES.md).

A SiteRule's `sources` holds these declarations; crawler/sources/ parses their
answers and the news spider requests them. Pure data: nothing here fetches or
imports Scrapy. Each source has a stable `key`, the name of its crawl state
(a watermark per site and source key), so a key must not change once crawled.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RollApi:
    """Sina's roll API (crawler/rollapi.py): one channel per pageid:lid pair."""

    channels: tuple[tuple[int, int], ...]

    @property
    def key(self) -> str:
        return "rollapi"  # items carry their channel's key, rollapi:<pageid>:<lid> (channel_key)

    @staticmethod
    def channel_key(pageid: int, lid: int) -> str:
        return f"rollapi:{pageid}:{lid}"


@dataclass(frozen=True)
class JsonList:
    """A JSON (or JSONP) list API described declaratively.

    Paging is either a page number, `{page}` in `url` (a format spec is allowed: "_{page:02d}"),
    counted from `first_page`, whose URL may differ (`first_url`: 163's news_flow_index.js
    before news_flow_index_02.js); or a cursor: the value at `cursor_field` of an answer
    becomes the `cursor_param` query parameter of the next request. Neither: one page.
    Paths are dotted ("data.list"; "" = the answer itself). An item's URL is `url_field`
    (joined to the request URL) or `url_template` filled from the item's fields.
    """

    url: str
    name: str  # the source key's tail: "jsonlist:<name>", e.g. the column id
    items: str = "data.list"
    url_field: str | None = None
    url_template: str | None = None  # "https://finance.eastmoney.com/a/{code}.html"
    title_field: str | None = "title"
    time_field: str | None = None
    time_unit: str = "s"  # "s", "ms" (epoch) or "text" (a date in the site's zone)
    first_page: int = 1
    first_url: str | None = None
    cursor_field: str | None = None  # "data.sortEnd"
    cursor_param: str | None = None  # "sortEnd"
    skip: tuple[tuple[str, object], ...] = ()  # (field, value): items to leave out (yicai's paid AppID 0)
    jsonp: bool = False
    method: str = "GET"
    body: str | None = None  # JSON body of a POST
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if (self.url_field is None) == (self.url_template is None):
            raise ValueError(f"{self.key}: give exactly one of url_field and url_template")
        if self.time_unit not in ("s", "ms", "text"):
            raise ValueError(f"{self.key}: time_unit must be 's', 'ms' or 'text', not {self.time_unit!r}")
        if (self.cursor_field is None) != (self.cursor_param is None):
            raise ValueError(f"{self.key}: a cursor needs both cursor_field and cursor_param")
        if self.cursor_field and "{page" in self.url:
            raise ValueError(f"{self.key}: page number or cursor, not both")

    @property
    def key(self) -> str:
        return f"jsonlist:{self.name}"

    @property
    def paged(self) -> bool:
        return "{page" in self.url


@dataclass(frozen=True)
class Feed:
    """An RSS 2.0 or Atom feed."""

    url: str

    @property
    def key(self) -> str:
        return self.url


@dataclass(frozen=True)
class Sitemap:
    """A sitemap, a sitemap index (its sitemaps are followed) or a Google News sitemap."""

    url: str

    @property
    def key(self) -> str:
        return self.url


@dataclass(frozen=True)
class HtmlList:
    """A list page: links matching the site's article_urls, or the list as JSON in a script
    (`embedded_json` names its key: ifeng's "newsstream":[…]) whose items have these fields."""

    url: str
    embedded_json: str | None = None
    url_field: str = "url"
    title_field: str = "title"
    time_field: str | None = None  # a date as text, in the site's zone

    @property
    def key(self) -> str:
        return self.url


Source = RollApi | JsonList | Feed | Sitemap | HtmlList


@dataclass(frozen=True)
class Politeness:
    """How gently a site is crawled; the crawler gives each site one download slot (all its hosts).

    `delay` seconds between requests (AutoThrottle leaves it as it is; None: DOWNLOAD_DELAY and
    AutoThrottle as for any host), `concurrency` requests at a time (None:
    CONCURRENT_REQUESTS_PER_DOMAIN), `headers` sent with every request to the site, `ban_pages`
    regexes that mark a small page as the site's ban page (besides HTTP 456); the crawler
    checks every site's small pages against all sites' ban pages.
    """

    delay: float | None = None
    concurrency: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    ban_pages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.delay is not None and not 0 <= self.delay <= 600:
            raise ValueError(f"delay must be between 0 and 600 seconds, got {self.delay}")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
