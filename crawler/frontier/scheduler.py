"""FrontierScheduler: Scrapy's scheduler on the shared Redis frontier (SCHEDULER in distributed mode).

Three kinds of request, three places:
- a new page request (an article a list names, a URL given) goes to the shared queue
  (crawler.frontier.leases.LeasedQueue), past scrapy-redis's duplicate filter: a URL already queued
  or in flight anywhere is not queued again. Its fingerprint is forgotten once the request is done
  with, so a later discovery round can list the page again (the incremental middleware, not the
  frontier, knows what is stored);
- a list request (meta caixun_list: a roll page, a feed, a sitemap) stays in this worker's memory:
  discovery is the discovery lock holder's alone (crawler.frontier.discovery). It is served when
  the shared queue runs low (under CAIXUN_FRONTIER_LOW_WATER requests), so discovery keeps a few
  pages of work queued instead of listing thousands ahead;
- a follow-up of a leased request (a redirect, a retry: it carries the lease in its meta) also
  stays here, first in line, under the same lease, which is acknowledged when the follow-up is done.

A request whose page extraction a stopping crawl interrupted (crawler.signals.page_interrupted) is
not acknowledged but put back in the queue, for another worker.

Requests in hand (popped, not yet acknowledged) are renewed by crawler.frontier.extension and given
back to the queue when the spider closes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from typing import TYPE_CHECKING

from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler import signals
from crawler.frontier.connection import Frontier, RedisError
from crawler.frontier.leases import LEASE_META, LeasedQueue
from crawler.items import LIST_META

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_LOW_WATER = 100


class _LocalQueue:
    """Requests by priority (highest first), then in the order given."""

    def __init__(self) -> None:
        self._heap: list = []
        self._order = itertools.count()

    def push(self, request: Request) -> None:
        heapq.heappush(self._heap, (-request.priority, next(self._order), request))

    def pop(self) -> Request | None:
        return heapq.heappop(self._heap)[2] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)


class FrontierScheduler:
    def __init__(self, crawler: Crawler, frontier: Frontier, low_water: int) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.frontier = frontier
        self.low_water = low_water
        self.follow_ups = _LocalQueue()  # redirects and retries of leased requests
        self.lists = _LocalQueue()  # discovery: this worker's own
        self.in_hand: dict[str, str] = {}  # lease id → fingerprint of the request as queued
        self.interrupted: set[str] = set()  # requested URLs whose extraction the stopping crawl cut short
        self.queue: LeasedQueue | None = None
        self.dupefilter: RFPDupeFilter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        low_water = crawler.settings.getint("CAIXUN_FRONTIER_LOW_WATER", DEFAULT_LOW_WATER)
        scheduler = cls(crawler, Frontier.of(crawler), low_water)
        crawler.signals.connect(scheduler.page_interrupted, signal=signals.page_interrupted)
        return scheduler

    def page_interrupted(self, request_url: str) -> None:
        self.interrupted.add(request_url)

    def open(self, spider) -> None:
        frontier = self.frontier
        frontier.server.ping()  # a frontier that is not there: the crawl does not start
        self.queue = LeasedQueue(frontier.server, spider, frontier.key("requests"), picklecompat)
        self.queue.lease_seconds = frontier.lease_seconds
        self.dupefilter = RFPDupeFilter(frontier.server, frontier.key("dupefilter"))
        queued = len(self.queue)
        if queued:
            logger.info("the frontier %s holds %d queued request(s)", frontier.shown, queued)

    def close(self, reason: str) -> None:
        # Scrapy finishes the downloads in progress before it closes; what is still in hand then (a redirect's
        # follow-up waiting in the local queue) goes back to the queue now rather than when its lease runs out
        if self.in_hand and not self.frontier.gone:
            try:
                back = self.queue.requeue(list(self.in_hand))
            except RedisError:
                back = 0  # they stay leased, and are queued again when their leases run out
            logger.info("gave %d unfinished request(s) back to the frontier", back)
            self.in_hand.clear()

    # --- the scheduler interface ---------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        if LEASE_META in request.meta:
            self.follow_ups.push(request)
            return True
        if LIST_META in request.meta:
            self.lists.push(request)
            self.stats.inc_value("frontier/discovery/enqueued")
            return True
        if self.frontier.gone:
            return False
        try:
            if request.dont_filter:
                self.queue.push(request)
            elif not self.queue.push_new(request, self.dupefilter.request_fingerprint(request), self.dupefilter.key):
                self.dupefilter.log(request, self.crawler.spider)
                return False
        except RedisError as exc:
            self.frontier.lost(exc)
            return False
        self.stats.inc_value("frontier/enqueued")
        return True

    def next_request(self) -> Request | None:
        if (request := self.follow_ups.pop()) is not None:
            return request
        if self.frontier.gone:
            return None
        try:
            if self.lists and len(self.queue) < self.low_water:
                return self.lists.pop()
            request = self.queue.pop()
        except RedisError as exc:
            self.frontier.lost(exc)
            return None
        if request is None:
            return self.lists.pop()
        self.in_hand[request.meta[LEASE_META]] = self.dupefilter.request_fingerprint(request)
        self.stats.inc_value("frontier/dequeued")
        return request

    def has_pending_requests(self) -> bool:
        if self.follow_ups or self.lists:
            return True
        if self.frontier.gone:
            return False
        try:
            return len(self.queue) > 0
        except RedisError as exc:
            self.frontier.lost(exc)
            return False

    # --- leases ----------------------------------------------------------------------------------

    def done(self, request: Request) -> None:
        """A request (or the follow-up that carried its lease) is done with: acknowledge its lease."""
        lease = request.meta.get(LEASE_META)
        if lease is None or lease not in self.in_hand or self.frontier.gone:
            return
        fingerprint = self.in_hand.pop(lease)
        asked = {request.url, *request.meta.get("redirect_urls", ())}
        try:
            if asked & self.interrupted:  # not done: for another worker, now
                self.interrupted -= asked
                self.queue.requeue([lease])
                self.stats.inc_value("frontier/given_back")
                return
            self.queue.ack([lease], [fingerprint], self.dupefilter.key)
        except RedisError as exc:
            self.frontier.lost(exc)
            return
        self.stats.inc_value("frontier/acknowledged")
