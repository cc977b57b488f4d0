"""BanMiddleware: stop the crawl at the first sign of a ban instead of retrying into it.

Settings read:
  CAIXUN_BAN_HTTP_CODES      statuses that mean "banned" (default [456])
  CAIXUN_BAN_TEXT_PATTERNS   regexes that mark a small page as a ban page
                             (default "IP 存在异常访问")
  CAIXUN_BAN_ENABLED         False disables the middleware

On a ban it logs one error line, sets the stats caixun/ban/*, closes the
spider with reason "banned" (the crawl command then exits with code 3),
fails the requests already queued in the downloader, and ignores every
further request and response.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

BAN_PAGE_MAX_BYTES = 64 * 1024  # ban pages are small; article pages may quote the phrase


class BanMiddleware:
    def __init__(self, crawler: Crawler, codes: list[int], patterns: list[str]) -> None:
        self.crawler = crawler
        self.codes = set(codes)
        self.pattern = re.compile("|".join(patterns)) if patterns else None
        self.banned = False
        self.reason: str | None = None
        self.ban_response: Response | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BanMiddleware:
        settings = crawler.settings
        if not settings.getbool("CAIXUN_BAN_ENABLED", True):
            raise NotConfigured("CAIXUN_BAN_ENABLED is off")
        codes = [int(c) for c in settings.getlist("CAIXUN_BAN_HTTP_CODES", [456])]
        middleware = cls(crawler, codes, settings.getlist("CAIXUN_BAN_TEXT_PATTERNS"))
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def ban_reason(self, response: Response) -> str | None:
        if response.status in self.codes:
            return f"HTTP {response.status}"
        if (
            self.pattern is not None
            and isinstance(response, TextResponse)
            and len(response.body) <= BAN_PAGE_MAX_BYTES
            and (match := self.pattern.search(response.text))
        ):
            return f"ban page ({match.group(0)!r})"
        return None

    def process_request(self, request: Request) -> None:
        if self.banned:
            raise IgnoreRequest("crawl stopped: banned")

    def response_downloaded(self, response: Response, request: Request, spider) -> None:
        # The downloader sends this before it starts the next queued request of the host: stopping here
        # keeps those requests from going out (a ban page still content-encoded is caught below instead).
        if not self.banned and (reason := self.ban_reason(response)) is not None:
            self._ban(reason, response)

    def process_response(self, request: Request, response: Response) -> Response:
        if not self.banned and (reason := self.ban_reason(response)) is not None:
            self._ban(reason, response)
            raise IgnoreRequest(f"banned: {reason}")
        if self.banned:
            raise IgnoreRequest(f"banned: {self.reason}" if response is self.ban_response else "crawl stopped: banned")
        return response

    def _ban(self, reason: str, response: Response) -> None:
        self.banned = True
        self.reason, self.ban_response = reason, response
        stats = self.crawler.stats
        stats.set_value("caixun/ban/detected", 1)
        stats.set_value("caixun/ban/reason", reason)
        stats.set_value("caixun/ban/url", response.url)
        logger.error(
            "BANNED by %s: %s at %s. Stopping the crawl now; retrying would extend the ban. "
            "Wait (hours, not minutes) before crawling again, and slow down (DOWNLOAD_DELAY).",
            urlparse_cached(response).hostname,
            reason,
            response.url,
        )
        self._drop_queued_downloads()
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="banned"))

    def _drop_queued_downloads(self) -> None:
        """Fail the requests waiting in the downloader's per-host queues: they passed process_request
        before the ban and would otherwise still be sent. (Scrapy keeps them in Slot.queue.)"""
        downloader = getattr(self.crawler.engine, "downloader", None)
        for slot in list(getattr(downloader, "slots", {}).values()):
            queue = getattr(slot, "queue", None)
            while queue:
                _, waiting = queue.popleft()
                waiting.errback(Failure(IgnoreRequest("crawl stopped: banned")))
