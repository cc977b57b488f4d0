"""Frontier: the crawler's Redis connection, key names and settings, one per crawler (Frontier.of).

Settings read:
  CAIXUN_FRONTIER            redis://host:6379/0: distributed mode (crawler.frontier.addon); empty: off
  CAIXUN_FRONTIER_KEY        prefix of the frontier's Redis keys (default caixun:<spider>); workers
                             that share it share one frontier: run them with the same spider and arguments
  CAIXUN_LEASE_SECONDS       how long a request a worker took stays its own without a renewal (default
                             300); a worker renews its leases every third of it, so a lease runs out only
                             when its worker died or froze, and the request is then queued again
  CAIXUN_REDIS_TIMEOUT       seconds a Redis command may take before Redis counts as gone (default 10)

When Redis stops answering, the worker says so in one ERROR line and stops with exit code 6
(crawler.exitcodes.FRONTIER). Requests it had leased stay leased in Redis and are queued again when
their leases run out; requests it could not queue are listed again by the next discovery round
(a discovery cut short moves no watermark).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from redis.exceptions import RedisError

from crawler.store import mark_run_failed
from storage import mask_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_REDIS_TIMEOUT = 10.0
FRONTIER_GONE = "frontier_unreachable"  # the spider's close reason when Redis stops answering


class Frontier:
    def __init__(self, crawler: Crawler, url: str, prefix: str, lease_seconds: float, timeout: float) -> None:
        self.crawler = crawler
        self.url = url
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.server = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.gone = False

    @classmethod
    def of(cls, crawler: Crawler) -> Frontier:
        frontier = getattr(crawler, "_caixun_frontier", None)
        if frontier is None:
            settings = crawler.settings
            url = settings.get("CAIXUN_FRONTIER")
            if not url:
                raise RuntimeError("CAIXUN_FRONTIER is not set: distributed mode is off")
            name = crawler.spidercls.name if crawler.spidercls else "crawl"
            lease = settings.getfloat("CAIXUN_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
            if lease <= 0:
                raise ValueError(f"CAIXUN_LEASE_SECONDS must be above 0, got {lease}")
            frontier = crawler._caixun_frontier = cls(
                crawler, url, settings.get("CAIXUN_FRONTIER_KEY") or f"caixun:{name}", lease,
                settings.getfloat("CAIXUN_REDIS_TIMEOUT", DEFAULT_REDIS_TIMEOUT),
            )  # fmt: skip
        return frontier

    @property
    def shown(self) -> str:
        return mask_url(self.url)

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def now(self) -> float:
        """The Redis server's clock, in seconds: the one clock every worker's leases and rounds are on."""
        seconds, micros = self.server.time()
        return seconds + micros / 1e6

    def lost(self, exc: RedisError) -> None:
        """Redis stopped answering: fail the run (exit 6) and close the spider, once."""
        if self.gone:
            return
        self.gone = True
        message = f"the frontier {self.shown} is unreachable: {exc}"
        logger.error("%s; the worker stops (leased requests are queued again when their leases run out)", message)
        mark_run_failed(self.crawler.stats, "frontier", message)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason=FRONTIER_GONE))


__all__ = ["FRONTIER_GONE", "Frontier", "RedisError"]
