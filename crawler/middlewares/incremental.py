"""IncrementalMiddleware: a scheduled crawl fetches only what is new, changed or failed before.

Spider middleware over the list callbacks' output (any site, any source kind):
- an article already stored is not requested again unless its listed time
  (the roll API's mtime, a feed's pubDate, a sitemap's lastmod, …) is newer
  than the one it was fetched under (stat
  caixun/incremental/skipped); a changed one is re-requested with
  If-None-Match / If-Modified-Since from its last answer
  (caixun/incremental/revalidated), and a 304 leaves the article as it is;
- paging stops at the first page that reaches a list's watermark: the
  newest item of the last sweep that finished, kept per (site, source key)
  (caixun/incremental/caught_up). A sweep that is interrupted (SIGKILL,
  shutdown, or a ban of its site) moves no watermark, so the next run pages
  down to where the last finished sweep began again. A worker on a shared
  frontier moves its watermarks when its discovery round ends, since what
  the round listed is then queued in Redis (crawler.signals.sweeps_finished).
  A watermark later than
  our clock (plus CAIXUN_LIST_TIME_SKEW) or than the list's newest item is
  not trusted: the run sweeps up to max_pages and sets it afresh, down if need
  be (caixun/incremental/watermark_reset);
- at start, pages of the run's sites whose last fetch failed or gave no
  article are requested again, up to CAIXUN_RETRY_FAILED_RUNS runs in a row
  (caixun/incremental/retried); after that they are left alone, also when
  a list names them again (caixun/incremental/given_up).

Settings read:
  CAIXUN_INCREMENTAL          False fetches everything discovered (default True)
  CAIXUN_RETRY_FAILED_RUNS    runs in a row a failed page is retried (default 3)
  CAIXUN_LIST_TIME_SKEW       seconds a listed time may lie ahead of our clock (default 3600)
Request meta read: caixun_list ({"label", "page", "site", "source", "newest", "oldest"}, set by
crawler.spiders.news): a list's watermark is stored under its site and source key (storage.crawlstate).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from crawler import signals as crawler_signals
from crawler.items import LIST_META, listed_at
from crawler.listing import list_time_skew
from crawler.sites import SITE_META, reported_site, site_of
from crawler.store import UNREACHABLE, CrawlStore
from storage.crawlstate import KnownPage, known_pages, pages_to_retry, set_watermark, watermark

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


def conditional_headers(page: KnownPage) -> dict[str, str]:
    headers = {}
    if page.etag:
        headers["If-None-Match"] = page.etag
    if page.last_modified:
        headers["If-Modified-Since"] = page.last_modified
    elif page.listed_at:  # no validator from the server: ask for changes since the listed time we fetched at
        headers["If-Modified-Since"] = format_datetime(page.listed_at.astimezone(timezone.utc), usegmt=True)
    return headers


class IncrementalMiddleware:
    def __init__(self, crawler: Crawler, store: CrawlStore, retry_runs: int, skew: timedelta) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = store
        self.retry_runs = retry_runs
        # lists are keyed (site, source key), as their watermarks are stored
        self.newest: dict[tuple[str, str], datetime] = {}  # list → newest listed time on its first page this run
        self.watermarks: dict[tuple[str, str], datetime | None] = {}
        self.labels: dict[tuple[str, str], str] = {}  # list → its name in log lines ("roll channel 153:2516")
        self.reached: set[tuple[str, str]] = set()  # lists whose paging came down to their watermark
        self.reset: set[tuple[str, str]] = set()  # lists whose stored watermark was not trusted this run
        self.skew = skew

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        if not crawler.settings.getbool("CAIXUN_INCREMENTAL", True):
            raise NotConfigured("CAIXUN_INCREMENTAL is off")
        store = CrawlStore.of(crawler)
        if store is None:
            raise NotConfigured("storage is off: nothing to be incremental against")
        settings = crawler.settings
        middleware = cls(crawler, store, settings.getint("CAIXUN_RETRY_FAILED_RUNS", 3), list_time_skew(settings))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.sweeps_finished, signal=crawler_signals.sweeps_finished)
        return middleware

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        urls = []
        if hasattr(spider, "article_request"):
            with self.store.sessions() as session:  # before this run records failures of its own
                urls = pages_to_retry(session, self.retry_runs)
            sites = getattr(spider, "crawl_sites", None)
            if sites is not None:  # another run's sites are that run's business
                urls = [url for url in urls if site_of(url) in sites]
        async for request in start:
            yield request
        for url in urls:
            self.stats.inc_value("caixun/incremental/retried")
            yield spider.article_request(url, discovered_from="retry:failed", discovery={})
        if urls:
            logger.info("retrying %d page(s) whose last fetch failed", len(urls))

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        listed = response.meta.get(LIST_META)
        if listed is None:
            yield from result
            return
        yield from self._list_output(listed, list(result))  # one list page: CAIXUN_MAX_LIST_ITEMS requests at most

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        listed = response.meta.get(LIST_META)
        if listed is None:
            async for item in result:
                yield item
            return
        for item in self._list_output(listed, [item async for item in result]):
            yield item

    def _list_output(self, listed: dict, output: list[Any]) -> Iterable[Any]:
        articles = {id(o): o for o in output if isinstance(o, Request) and "discovery" in o.cb_kwargs}
        try:
            with self.store.sessions() as session:
                known = known_pages(session, (r.url for r in articles.values()))
                reached = self._reached_watermark(session, listed)
        except UNREACHABLE as exc:  # fetch everything: the pipeline spools it
            logger.error("crawl state unreadable, the database is unreachable: %s", getattr(exc, "orig", None) or exc)
            known, reached = {}, False
        for item in output:
            if not isinstance(item, Request):
                yield item
            elif id(item) in articles:
                request = self._article(item, known.get(item.url))
                if request is not None:
                    yield request
            elif reached and _same_list(item.meta.get(LIST_META), listed):  # the next page of this list
                self.stats.inc_value("caixun/incremental/caught_up")
                key = (listed["site"], listed["source"])
                logger.info(
                    "%s page %d reaches the last finished sweep (%s): paging stops",
                    self.labels[key], listed["page"], self.watermarks[key].isoformat(),
                )  # fmt: skip
            else:
                yield item

    def _article(self, request: Request, known: KnownPage | None) -> Request | None:
        if known is not None and known.given_up(self.retry_runs):
            self.stats.inc_value("caixun/incremental/given_up")
            return None
        if known is None or not known.settled:
            return request
        listed = listed_at(request.cb_kwargs["discovery"])
        fetched_under = known.listed_at
        if fetched_under is not None and fetched_under > self._now() + self.skew:
            fetched_under = None  # stored by a release that trusted a future mtime: it would hide every change
        if listed is None or (fetched_under is not None and listed <= fetched_under):
            self.stats.inc_value("caixun/incremental/skipped")
            if site := reported_site(request.meta.get(SITE_META)):
                self.stats.inc_value(f"caixun/site/{site}/incremental/skipped")
            return None
        self.stats.inc_value("caixun/incremental/revalidated")
        return request.replace(headers={**request.headers.to_unicode_dict(), **conditional_headers(known)})

    def _reached_watermark(self, session, listed: dict) -> bool:
        key = (listed["site"], listed["source"])
        if key not in self.watermarks:
            self.labels[key] = _label(listed)
            stored = watermark(session, *key)
            self.watermarks[key] = self._trusted(key, stored, self._now() + self.skew, "our clock")
        if listed["page"] == 1 and listed.get("newest"):
            self.newest[key] = listed["newest"]
            self.watermarks[key] = self._trusted(
                key, self.watermarks[key], listed["newest"], "the channel's newest listed item"
            )
        mark = self.watermarks[key]
        if mark is not None and listed.get("oldest") is not None and listed["oldest"] <= mark:
            self.reached.add(key)
            return True
        return False

    def _trusted(self, key: tuple[str, str], mark: datetime | None, limit: datetime, what: str) -> datetime | None:
        """The watermark, or None when it lies past `limit`: a watermark later than our clock or than the
        feed's newest item cannot come from a sound sweep (a bad listed time, an item since withdrawn), and
        trusting it would stop every sweep at page 1. This run then sweeps as a first run does (max_pages)
        and sets the watermark afresh."""
        if mark is None or mark <= limit:
            return mark
        self.stats.inc_value("caixun/incremental/watermark_reset")
        self.reset.add(key)
        logger.warning(
            "%s: the watermark %s is later than %s (%s): ignored; this run sweeps up to max_pages "
            "and resets it", self.labels[key], mark.isoformat(), what, limit.isoformat(),
        )  # fmt: skip
        return None

    @staticmethod
    def _now() -> datetime:
        return datetime.now(timezone.utc)

    def spider_closed(self, spider, reason: str) -> None:
        if reason != "finished":
            logger.info("the crawl ended by %r: no watermark moves, the next run sweeps again", reason)
            return
        self.save_watermarks(spider)

    def sweeps_finished(self, spider) -> None:
        """A discovery round of a frontier worker ended (crawler.frontier.discovery): what it listed is queued
        in the frontier, so its watermarks move now, and the next round starts afresh."""
        self.save_watermarks(spider)
        for state in (self.newest, self.watermarks, self.labels, self.reached, self.reset):
            state.clear()

    def save_watermarks(self, spider) -> None:
        if self.stats.get_value("caixun/failure/database"):
            # failures during the outage went unrecorded: only a new sweep finds those pages again
            logger.info("the database was unreachable during the run: no watermark moves")
            return
        failed = getattr(spider, "failed_sources", {})
        banned = set(self.stats.get_value("caixun/ban/sites") or ())  # their sweeps were cut short
        finished = {key for key in self.newest if key not in failed and key[0] not in banned}
        for key in sorted(finished - self.reached):
            if self.watermarks.get(key) is not None:  # max_pages or since ended paging above it
                self.stats.inc_value("caixun/incremental/gap")
                logger.warning(
                    "%s: paging ended before the last finished sweep (%s); items listed between "
                    "are not fetched: give a larger max_pages", self.labels[key], self.watermarks[key].isoformat(),
                )  # fmt: skip
        try:
            with self.store.sessions.begin() as session:
                for key in finished:
                    set_watermark(session, *key, self.newest[key], datetime.now(timezone.utc))
        except UNREACHABLE as exc:  # the database is gone again; the next run just sweeps further
            logger.warning("could not save the watermarks: %s", exc)


def _same_list(meta: dict | None, listed: dict) -> bool:
    return meta is not None and (meta["site"], meta["source"]) == (listed["site"], listed["source"])


def _label(listed: dict) -> str:
    """A list's name in log lines: "roll channel 153:2516" for Sina's roll API, as it always was."""
    label = listed.get("label") or f"{listed['site']} {listed['source']}"
    return "roll channel " + label.removeprefix("roll API ") if label.startswith("roll API ") else label
