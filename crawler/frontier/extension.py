"""FrontierWorker: the extension that keeps a worker's leases and decides when it is done.

- A request is acknowledged (its lease and fingerprint dropped from Redis) once Scrapy is done with
  its response or failure: the callback or errback has run and every item it gave has been through
  the pipeline (stored, or spooled while the database is away).
- Every tick (1 s) the worker ends its discovery round if it is over; every third of
  CAIXUN_LEASE_SECONDS it renews its leases and its discovery lock and puts back in the queue any
  lease, of any worker, that ran out; and it starts a discovery round when one is due.
- When it has nothing to do it exits only if CAIXUN_EXIT_WHEN_IDLE is set (python -m crawler worker
  --exit-when-idle SECONDS) and the whole frontier has been empty that long: no request queued, none
  leased by any worker, no discovery going on. Without it the worker waits for work (a daemon).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from crawler.frontier.connection import Frontier, RedisError
from crawler.frontier.discovery import Discovery
from crawler.frontier.scheduler import FrontierScheduler

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0


class FrontierWorker:
    def __init__(self, crawler: Crawler, exit_when_idle: float | None) -> None:
        self.crawler = crawler
        self.frontier = Frontier.of(crawler)
        self.discovery = Discovery.of(crawler)
        self.exit_when_idle = exit_when_idle
        self.idle_since: float | None = None
        self.last_upkeep = 0.0
        self.loop = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierWorker:
        value = crawler.settings.get("CAIXUN_EXIT_WHEN_IDLE")
        exit_when_idle = None if value in (None, "") else float(value)
        if exit_when_idle is not None and exit_when_idle < 0:
            raise ValueError(f"CAIXUN_EXIT_WHEN_IDLE must be 0 or more seconds, got {value}")
        worker = cls(crawler, exit_when_idle)
        crawler.signals.connect(worker.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(worker.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(worker.spider_closed, signal=signals.spider_closed)
        return worker

    @property
    def scheduler(self) -> FrontierScheduler:
        return self.crawler.engine.scheduler

    def spider_opened(self, spider) -> None:
        slot = self.crawler.engine.scraper.slot
        finish_response = slot.finish_response

        def finished(result, request: Request) -> None:  # Scrapy has no signal for "done with a response"
            finish_response(result, request)
            self.scheduler.done(request)
            self.discovery.maybe_end()

        slot.finish_response = finished
        self.loop = LoopingCall(self.tick)
        self.loop.start(TICK_SECONDS, now=False)

    def tick(self) -> None:
        if self.frontier.gone:
            return
        self.discovery.maybe_end()
        # look for work now rather than at Scrapy's next heartbeat (5 s): other workers fill the queue
        self.crawler.engine._slot.nextcall.schedule()
        if time.monotonic() - self.last_upkeep < self.frontier.lease_seconds / 3:
            return
        self.last_upkeep = time.monotonic()
        try:
            scheduler = self.scheduler
            held = scheduler.queue.renew(scheduler.in_hand)
            if held < len(scheduler.in_hand):
                logger.warning("%d lease(s) ran out before this worker renewed them (was it frozen?): "
                               "those requests may be done twice", len(scheduler.in_hand) - held)  # fmt: skip
            self.discovery.renew()
            self.requeue_expired()
            if not self.discovery.held and self.discovery.due():
                self.begin_round()
        except RedisError as exc:
            self.frontier.lost(exc)

    def requeue_expired(self) -> None:
        """Queue again the requests of every worker (this one's too, if it was frozen) whose lease ran out."""
        if requeued := self.scheduler.queue.requeue():
            logger.warning("queued %d request(s) again whose worker stopped renewing their leases", requeued)
            self.crawler.stats.inc_value("frontier/requeued", requeued)

    def begin_round(self) -> None:
        """A later discovery round (the first runs through the engine's start()), if the lock is free."""
        if not self.discovery.begin():
            return
        engine = self.crawler.engine

        async def run() -> None:
            start = await engine.scraper.spidermw.process_start()
            async for request in start:
                engine.crawl(request)
            self.discovery.start_exhausted = True

        deferred_from_coro(run())

    def frontier_empty(self) -> bool:
        """No request queued or leased by any worker, and no discovery round going on."""
        pipe = self.frontier.server.pipeline()
        pipe.zcard(self.scheduler.queue.keys[0])
        pipe.zcard(self.scheduler.queue.keys[1])
        pipe.exists(self.discovery.lock_key)
        queued, leased, discovering = pipe.execute()
        return not (queued or leased or discovering)

    def spider_idle(self, spider) -> None:
        if self.frontier.gone:
            return  # closing
        try:
            self.requeue_expired()  # a dead worker's leases: this one takes them over
            empty = self.frontier_empty()
            if empty and not self.discovery.held and self.discovery.due():
                self.begin_round()
                empty = False
        except RedisError as exc:
            self.frontier.lost(exc)
            return
        if not empty:
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
            logger.info("the frontier is empty")
        if self.exit_when_idle is None or now - self.idle_since < self.exit_when_idle:
            raise DontCloseSpider
        logger.info("the frontier has been empty for %.0fs: the worker exits", now - self.idle_since)

    def spider_closed(self, spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if not self.frontier.gone:
            self.discovery.abandon()
