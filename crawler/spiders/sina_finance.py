"""sina_finance: discover articles through Sina's roll API (or take URLs), fetch them.

Arguments (-a NAME=VALUE):
  channels   pageid:lid pairs, comma-separated (default: the finance channels)
  max_pages  roll-API pages per channel (default 1; 100 when `since` is given)
  since      YYYY-MM-DD (China time): skip older items, stop paging at a page of only older ones
  urls       article URLs, comma-separated; with url_file, the roll API is only
             read when `channels` is given too
  url_file   a file of article URLs, one per line (lines starting with # are comments)

The spider only discovers and fetches: it yields FetchedPage items, and
crawler.pipelines.ArticlePipeline extracts and stores them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy.http import Response

from crawler.items import FetchedPage
from crawler.rollapi import (
    DEFAULT_CHANNELS,
    RollApiError,
    parse_channels,
    parse_roll_page,
    roll_api_url,
)
from extractors import rule_named
from extractors.clean import CHINA_TZ

ROLL_REFERER = "https://finance.sina.com.cn/roll/"


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

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.direct_urls:
            yield self._article_request(url, discovered_from="argument:urls", discovery={})
        for pageid, lid in self.channels:
            yield self._roll_request(pageid, lid, 1)

    def _roll_request(self, pageid: int, lid: int, page: int) -> scrapy.Request:
        return scrapy.Request(
            roll_api_url(pageid, lid, page),
            callback=self.parse_roll,
            headers={"Referer": ROLL_REFERER},
            cb_kwargs={"pageid": pageid, "lid": lid, "page": page},
        )

    def _article_request(self, url: str, discovered_from: str, discovery: dict) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            cb_kwargs={"discovered_from": discovered_from, "discovery": discovery},
        )

    def parse_roll(self, response: Response, pageid: int, lid: int, page: int) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        try:
            items = parse_roll_page(response.body)
        except RollApiError as exc:
            stats.inc_value("caixun/roll/error")
            self.logger.error("roll API %s:%s page %d unusable, paging stops: %s", pageid, lid, page, exc)
            return
        stats.inc_value("caixun/roll/pages")
        if not items:
            self.logger.info("roll API %s:%s page %d is empty, paging stops", pageid, lid, page)
            return
        newer = 0
        for item in items:
            stats.inc_value("caixun/roll/items")
            if self.since and item.ctime and item.ctime < self.since:
                stats.inc_value("caixun/discover/skipped/older")
                continue
            newer += 1
            kind = self.site.classify_url(item.url)
            if kind != "article":
                stats.inc_value(f"caixun/discover/skipped/{kind}")
                continue
            stats.inc_value("caixun/discover/article")
            yield self._article_request(item.url, discovered_from=response.url, discovery=item.as_meta())
        if newer == 0:
            self.logger.info("roll API %s:%s page %d: all items older than since, paging stops", pageid, lid, page)
        elif page < self.max_pages:
            yield self._roll_request(pageid, lid, page + 1)

    def closed(self, reason: str) -> None:
        if reason == "finished" and self.channels and not self.crawler.stats.get_value("caixun/roll/pages"):
            # nothing discovered at all: the network, the API or a block failed; say so and fail the run
            self.crawler.stats.set_value("caixun/run_failed", "no roll-API page could be read")
            self.logger.error(
                "no roll-API page could be read for %d channel(s): check the network and the errors above",
                len(self.channels),
            )

    def parse_article(self, response: Response, discovered_from: str, discovery: dict) -> Iterator[FetchedPage]:
        yield FetchedPage(
            url=response.url,
            request_url=response.request.url if response.request else response.url,
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
    return found
