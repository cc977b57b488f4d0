"""BanMiddleware: stop crawling a site at the first sign of a ban instead of retrying into it.

Settings read:
  CAIXUN_BAN_HTTP_CODES      statuses that mean "banned" (default [456])
  CAIXUN_BAN_TEXT_PATTERNS   regexes that mark a small page as a ban page (default none), besides
                             those the sites declare (SiteRule.politeness.ban_pages: Sina's
                             "IP 存在异常访问"); all of them apply to every site
  CAIXUN_BAN_ENABLED         False disables the middleware

A request's site is request.meta["caixun_site"], else crawler.sites.site_of(its URL).
On a ban the site is banned: one error line, the stats caixun/ban/* (detected, reason
and url of the first ban, sites, <site>/reason), its requests queued in the downloader
failed, and every further request and response of that site ignored; other sites go on.
The spider closes with reason "banned" (exit code 3) once every site in its `crawl_sites`
is banned (at the first ban, for a spider without that attribute), ignoring every further
request and response; or, when it goes idle, if every site it sent requests to is banned.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from crawler.sites import SITE_META, site_of
from extractors.registry import all_rules

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

BAN_PAGE_MAX_BYTES = 64 * 1024  # ban pages are small; article pages may quote the phrase
STOPPED = "crawl stopped: banned"


def request_site(request: Request) -> str:
    return request.meta.get(SITE_META) or site_of(request.url)


class BanMiddleware:
    def __init__(self, crawler: Crawler, codes: list[int], patterns: list[str]) -> None:
        self.crawler = crawler
        self.codes = set(codes)
        # the sites' ban pages and the setting's patterns, on every site: a page small and odd enough to match
        # one is a ban page wherever it comes from (a robots.txt of a host no rule names, a CDN's block page)
        patterns = [*patterns, *(p for rule in all_rules() for p in rule.politeness.ban_pages)]
        self.pattern = re.compile("|".join(patterns)) if patterns else None
        self.banned: dict[str, str] = {}  # site → reason
        self.ban_responses: dict[str, Response] = {}  # site → the response that banned it
        self.requested: set[str] = set()  # the sites requests were sent to (past process_request)
        self.stopped = False  # the spider is closing: every request and response is ignored

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BanMiddleware:
        settings = crawler.settings
        if not settings.getbool("CAIXUN_BAN_ENABLED", True):
            raise NotConfigured("CAIXUN_BAN_ENABLED is off")
        codes = [int(c) for c in settings.getlist("CAIXUN_BAN_HTTP_CODES", [456])]
        middleware = cls(crawler, codes, settings.getlist("CAIXUN_BAN_TEXT_PATTERNS"))
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(middleware.spider_idle, signal=signals.spider_idle)
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
        if self.stopped:
            raise IgnoreRequest(STOPPED)
        site = request_site(request)
        if site in self.banned:
            raise IgnoreRequest(f"banned: {site}")
        self.requested.add(site)

    def spider_idle(self, spider) -> None:
        # A site outside crawl_sites (a URL no rule handles is its own site) may have been all there was.
        if self.banned and self.requested <= set(self.banned):
            raise CloseSpider("banned")

    def response_downloaded(self, response: Response, request: Request, spider) -> None:
        # The downloader sends this before it starts the next queued request of the slot: banning here
        # keeps those requests from going out (a ban page still content-encoded is caught below instead).
        self._check(request, response)

    def process_response(self, request: Request, response: Response) -> Response:
        site = self._check(request, response)
        if site in self.banned:
            if response is self.ban_responses.get(site):
                raise IgnoreRequest(f"banned: {site} ({self.banned[site]})")
            raise IgnoreRequest(f"banned: {site}")
        if self.stopped:
            raise IgnoreRequest(STOPPED)
        return response

    def _check(self, request: Request, response: Response) -> str:
        """Ban the request's site if the response says so; returns the site."""
        site = request_site(request)
        if site not in self.banned and not self.stopped and (reason := self.ban_reason(response)) is not None:
            self._ban(site, reason, response)
        return site

    def _ban(self, site: str, reason: str, response: Response) -> None:
        first = not self.banned
        self.banned[site] = reason
        self.ban_responses[site] = response
        stats = self.crawler.stats
        if first:
            stats.set_value("caixun/ban/detected", 1)
            stats.set_value("caixun/ban/reason", reason)
            stats.set_value("caixun/ban/url", response.url)
        stats.set_value("caixun/ban/sites", sorted(self.banned))
        stats.set_value(f"caixun/ban/{site}/reason", reason)

        crawl_sites = getattr(self.crawler.spider, "crawl_sites", None)
        self.stopped = not crawl_sites or set(crawl_sites) <= set(self.banned)
        remaining = ", ".join(sorted(set(crawl_sites or ()) - set(self.banned)))
        logger.error(
            "BANNED by %s (site %s): %s at %s. %s; retrying would extend the ban. "
            "Wait (hours, not minutes) before crawling it again, and slow down (DOWNLOAD_DELAY).",
            urlparse_cached(response).hostname,
            site,
            reason,
            response.url,
            "Stopping the crawl now" if self.stopped else f"No more requests to it; still crawling {remaining}",
        )
        self._drop_queued_downloads(None if self.stopped else site)
        if self.stopped:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="banned"))

    def _drop_queued_downloads(self, site: str | None) -> None:
        """Fail the requests of `site` (None: of every site) waiting in the downloader's per-slot queues:
        they passed process_request before the ban and would otherwise still be sent. (Scrapy keeps them
        in Slot.queue as (request, deferred) pairs.) The others keep their place."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        message = STOPPED if site is None else f"banned: {site}"
        dropped = []
        for slot in list(getattr(downloader, "slots", {}).values()):
            queue = getattr(slot, "queue", None)
            if not queue:
                continue
            kept = []
            for entry in queue:
                (dropped if site is None or request_site(entry[0]) == site else kept).append(entry)
            queue.clear()
            queue.extend(kept)
        for _, waiting in dropped:  # after every queue is settled: an errback may run code that queues again
            waiting.errback(Failure(IgnoreRequest(message)))
