"""sina_finance: discover articles through Sina's roll API (or take URLs), fetch them.

Arguments (-a NAME=VALUE):
  channels   pageid:lid pairs, comma-separated (default: the finance channels)
  max_pages  roll-API pages per channel (default 1; 100 when `since` is given)
  since      YYYY-MM-DD (China time): skip older items, stop paging at a page of only older ones
  urls       article URLs, comma-separated; with url_file, the roll API is only
             read when `channels` is given too
  url_file   a file of article URLs, one per line (lines starting with # are comments)

Settings read: CAIXUN_ROLL_API_URL (default the live API; tests point it elsewhere),
CAIXUN_MAX_LIST_ITEMS (entries read from one roll-API answer, default 500),
CAIXUN_LIST_TIME_SKEW (seconds a listed time may lie ahead of our clock, default 3600).

Roll-API answers are untrusted (crawler.listing): an entry without a usable URL
is skipped (caixun/discover/skipped/bad_item), a time that is not a number, not
finite, before 1995 or in the future is ignored (caixun/discover/bad_time),
entries past the cap are not read (caixun/discover/capped); the rest of the
page is processed and one warning line says what was wrong.

The spider only discovers and fetches: it yields FetchedPage items (also for
304, 404 and 410 answers) and FetchFailed items (errors after retries), and
crawler.pipelines.ArticlePipeline extracts and stores them. Skipping what is
already stored is crawler.middlewares.incremental's job.

A channel whose first roll-API page is unusable, empty or lists no usable item fails the run (exit 1):
the finance channels always list articles, so that is an outage or a block.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.fetcherrors import failure_message, failure_reason
from crawler.items import FetchedPage, FetchFailed, requested_url
from crawler.listing import list_time_skew
from crawler.rollapi import (
    DEFAULT_CHANNELS,
    MAX_ITEMS,
    ROLL_API,
    RollApiError,
    RollPage,
    channel_name,
    parse_channels,
    parse_roll_page,
    roll_api_url,
)
from crawler.store import mark_run_failed
from extractors import rule_named
from extractors.dates import CHINA_TZ
from extractors.sources import RollApi

ROLL_REFERER = "https://finance.sina.com.cn/roll/"
# answers an article request hands to the pipeline rather than to the errback
ARTICLE_STATUSES = [304, 404, 410]
ARTICLE_PRIORITY = 1


class SinaFinanceSpider(scrapy.Spider):
    name = "sina_finance"
    site = rule_named("sina")

    def __init__(
        self,
        channels: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        urls: str | None = None,
        url_file: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        # as given, for the crawl_runs record
        self.arguments = {
            k: v
            for k, v in dict(channels=channels, max_pages=max_pages, since=since, urls=urls, url_file=url_file).items()
            if v is not None
        }
        self.since = _parse_since(since) if since else None
        self.direct_urls = _direct_urls(urls, url_file)
        if channels:
            self.channels = parse_channels(channels)
        else:
            self.channels = [] if self.direct_urls else list(DEFAULT_CHANNELS)
        default_pages = 100 if self.since else 1
        try:
            self.max_pages = int(max_pages) if max_pages is not None else default_pages
        except ValueError:
            raise ValueError(f"max_pages must be a whole number, got {max_pages!r}") from None
        if self.max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {self.max_pages}")
        self.failed_channels: dict[str, str] = {}  # channel → why its first page gave nothing

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_list_items = crawler.settings.getint("CAIXUN_MAX_LIST_ITEMS", MAX_ITEMS)
        if spider.max_list_items < 1:
            raise ValueError(f"CAIXUN_MAX_LIST_ITEMS must be at least 1, got {spider.max_list_items}")
        spider.time_skew = list_time_skew(crawler.settings)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def _request_dropped(self, request: scrapy.Request) -> None:
        """A redirect to a URL already requested (a loop A → B → A) is dropped by the duplicate
        filter without any errback, so the page would get no outcome at all. Send it once more past
        the filter: a loop then ends at REDIRECT_MAX_TIMES in article_failed (too_many_redirects)."""
        if request.meta.get("redirect_urls") and not request.dont_filter and request.callback == self.parse_article:
            self.crawler.engine.crawl(request.replace(dont_filter=True))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.direct_urls:
            yield self.article_request(url, discovered_from="argument:urls", discovery={})
        for pageid, lid in self.channels:
            yield self._roll_request(pageid, lid, 1)

    def _roll_request(self, pageid: int, lid: int, page: int) -> scrapy.Request:
        return scrapy.Request(
            roll_api_url(pageid, lid, page, self.settings.get("CAIXUN_ROLL_API_URL") or ROLL_API),
            callback=self.parse_roll,
            errback=self.roll_failed,
            headers={"Referer": ROLL_REFERER},
            cb_kwargs={"pageid": pageid, "lid": lid, "page": page},
            meta={"caixun_roll": {"channel": channel_name(pageid, lid), "page": page,
                                  "site": self.site.name, "source": RollApi.channel_key(pageid, lid)}},
        )

    def article_request(self, url: str, discovered_from: str, discovery: dict) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            cb_kwargs={"discovered_from": discovered_from, "discovery": discovery},
            meta={"handle_httpstatus_list": ARTICLE_STATUSES},
            # a page's articles before the next roll page: the queue stays one page deep, not the whole channel
            priority=ARTICLE_PRIORITY,
        )

    def _roll_unusable(self, pageid: int, lid: int, page: int, why: str) -> None:
        self.crawler.stats.inc_value("caixun/roll/error")
        self.logger.error("roll API %s:%s page %d unusable, paging stops: %s", pageid, lid, page, why)
        if page == 1:
            self.failed_channels[channel_name(pageid, lid)] = why

    def roll_failed(self, failure: Failure) -> None:
        kwargs = failure.request.cb_kwargs
        self._roll_unusable(kwargs["pageid"], kwargs["lid"], kwargs["page"], failure_message(failure))

    def parse_roll(self, response: Response, pageid: int, lid: int, page: int) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        try:
            listed = parse_roll_page(response.body, max_items=self.max_list_items, skew=self.time_skew)
        except RollApiError as exc:
            self._roll_unusable(pageid, lid, page, str(exc))
            return
        stats.inc_value("caixun/roll/pages")
        channel = channel_name(pageid, lid)
        self._count_untrusted(channel, page, listed)
        if not listed.items:
            why = f"has no usable item ({listed.bad_items[0]}; …)" if listed.bad_items else "is empty"
            self.logger.info("roll API %s page %d %s, paging stops", channel, page, why)
            if page == 1:
                self.failed_channels[channel] = f"the first page {why}"
            return
        ctimes = [item.ctime for item in listed.items if item.ctime]
        if ctimes:  # for crawler.middlewares.incremental: where this page sits in the channel
            response.meta["caixun_roll"].update(newest=max(ctimes), oldest=min(ctimes))
        newer = 0
        for item in listed.items:
            stats.inc_value("caixun/roll/items")
            if self.since and item.ctime and item.ctime < self.since:
                stats.inc_value("caixun/discover/skipped/older")
                continue
            newer += 1
            kind = self.site.classify_url(item.url)
            if kind != "article":
                stats.inc_value(f"caixun/discover/skipped/{kind}")
                continue
            try:
                request = self.article_request(item.url, discovered_from=response.url, discovery=item.as_meta())
            except (ValueError, TypeError, UnicodeError) as exc:  # one item never costs the rest of its page
                stats.inc_value("caixun/discover/skipped/bad_item")
                self.logger.warning("roll API %s page %d: item %r skipped: %s", channel, page, item.url[:200], exc)
                continue
            stats.inc_value("caixun/discover/article")
            yield request
        if newer == 0:
            self.logger.info("roll API %s page %d: all items older than since, paging stops", channel, page)
        elif page < self.max_pages:
            yield self._roll_request(pageid, lid, page + 1)

    def _count_untrusted(self, channel: str, page: int, listed: RollPage) -> None:
        """Stats and one warning for what the page listed wrong (see crawler.listing)."""
        stats = self.crawler.stats
        problems = []
        if listed.bad_items:
            stats.inc_value("caixun/discover/skipped/bad_item", len(listed.bad_items))
            problems.append(f"{len(listed.bad_items)} unusable item(s) skipped ({'; '.join(listed.bad_items[:3])})")
        if listed.bad_times:
            stats.inc_value("caixun/discover/bad_time", len(listed.bad_times))
            problems.append(f"{len(listed.bad_times)} time(s) ignored ({'; '.join(listed.bad_times[:3])})")
        if listed.capped:
            stats.inc_value("caixun/discover/capped", listed.capped)
            problems.append(f"{listed.capped} item(s) past CAIXUN_MAX_LIST_ITEMS ({self.max_list_items}) not read")
        if problems:
            self.logger.warning("roll API %s page %d: %s", channel, page, "; ".join(problems))

    def closed(self, reason: str) -> None:
        if reason != "finished" or not self.failed_channels:
            return
        if not self.crawler.stats.get_value("caixun/roll/pages"):
            message = f"no roll-API page could be read for {len(self.channels)} channel(s): check the network"
        else:
            message = "no articles from channel(s) that always list some: " + "; ".join(
                f"{channel}: {why}" for channel, why in self.failed_channels.items()
            )
        self.logger.error(message)
        mark_run_failed(self.crawler.stats, "discovery", message)

    def article_failed(self, failure: Failure) -> Iterator[FetchFailed]:
        request = failure.request
        response = getattr(failure.value, "response", None)
        kwargs = request.cb_kwargs or {}
        yield FetchFailed(
            url=requested_url(request),
            reason=failure_reason(failure),
            message=failure_message(failure),
            fetched_at=datetime.now(timezone.utc),
            status=response.status if response is not None else None,
            discovered_from=kwargs.get("discovered_from"),
            discovery=kwargs.get("discovery") or {},
            fetch_id=request.meta.get("caixun_fetch_id") if response is not None else None,
        )

    def parse_article(self, response: Response, discovered_from: str, discovery: dict) -> Iterator[FetchedPage]:
        self.crawler.stats.inc_value("caixun/fetch/article_pages")
        request = response.request
        yield FetchedPage(
            url=response.url,
            request_url=requested_url(request) if request else response.url,
            status=response.status,
            headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            body=response.body,
            fetched_at=datetime.now(timezone.utc),
            discovered_from=discovered_from,
            discovery=discovery,
            fetch_id=response.meta.get("caixun_fetch_id"),
        )


def _parse_since(text: str) -> datetime:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"since must be a date as YYYY-MM-DD, got {text!r}") from None
    return day.replace(tzinfo=CHINA_TZ)


def _direct_urls(urls: str | None, url_file: str | None) -> list[str]:
    found = [u.strip() for u in (urls or "").split(",") if u.strip()]
    if url_file:
        path = Path(url_file)
        if not path.is_file():
            raise ValueError(f"url_file {url_file!r} does not exist")
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(line)
    for url in found:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        if urlsplit(url).password is not None:  # it would be stored in fetches and logged
            raise ValueError("URLs with a user:password@ part are not crawled; remove the credentials")
    return found
