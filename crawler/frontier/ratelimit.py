"""GlobalRateLimit: one site's delay holds across every worker of a frontier.

Scrapy's DOWNLOAD_DELAY and DOWNLOAD_SLOTS space requests within one process: N workers would send
N times a site's rate. This downloader middleware (before the downloader, so it also spaces robots.txt
and replayed requests) reserves each request's start in Redis, per site: the key
caixun:<spider>:slot:<site> holds the earliest time (Redis server clock, ms) the next request to
that site may start; a Lua script moves it one delay on and tells the worker how long to wait, so
reservations made by any number of workers line up one delay apart. The site is the request's
(meta caixun_site: a rule's name, else the host name); its delay is its DOWNLOAD_SLOTS entry (the
site registry's SiteRule.politeness.delay, or yours), else DOWNLOAD_DELAY. AutoThrottle and
CONCURRENT_REQUESTS_PER_DOMAIN still act in each worker, on top: they can only slow it down.

A worker killed while waiting leaves its reserved start unused: the site loses one delay, no more.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.defer import maybe_deferred_to_future

from crawler.frontier.connection import Frontier, RedisError
from crawler.frontier.leases import NOW_MS
from crawler.middlewares.ban import request_site

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# KEYS: the site's slot; ARGV: delay ms → ms to wait before this request may start
_RESERVE = NOW_MS + """
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], start + delay, 'PX', start - now + delay + 60000)
return start - now
"""


class GlobalRateLimit:
    def __init__(self, crawler: Crawler, frontier: Frontier) -> None:
        self.crawler = crawler
        self.frontier = frontier
        settings = crawler.settings
        self.default_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.slots = settings.getdict("DOWNLOAD_SLOTS")
        self._reserve = frontier.server.register_script(_RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GlobalRateLimit:
        return cls(crawler, Frontier.of(crawler))

    def delay_of(self, site: str) -> float:
        slot = self.slots.get(site) or {}
        return float(slot.get("delay", self.default_delay))

    async def process_request(self, request: Request) -> None:
        site = request_site(request)
        delay = self.delay_of(site)
        if delay <= 0 or self.frontier.gone:
            return None
        try:
            wait_ms = int(self._reserve(keys=[self.frontier.key(f"slot:{site}")], args=[int(delay * 1000)]))
        except RedisError as exc:
            self.frontier.lost(exc)
            return None
        self.crawler.stats.inc_value("frontier/ratelimit/reserved")
        if wait_ms > 0:
            self.crawler.stats.inc_value("frontier/ratelimit/waited_ms", wait_ms)
            from twisted.internet import reactor, task  # not at import: that would install a reactor

            await maybe_deferred_to_future(task.deferLater(reactor, wait_ms / 1000))
        return None
