"""Discovery under a lock: one worker of a frontier reads the lists (roll APIs, feeds, sitemaps) at a time.

The lock is a Redis key (caixun:<spider>:discovery) set to the holder's worker id with a TTL of
CAIXUN_LEASE_SECONDS, renewed every third of that while the holder discovers; a holder that dies
or freezes loses it when the TTL runs out, and the next worker that tries takes it. A round ends
when the spider's start() is exhausted and no list request is queued or in progress here: the
incremental middleware then moves the round's watermarks (crawler.signals.sweeps_finished), the
round's end time is kept (caixun:<spider>:discovery:last) and the lock is given back.

A worker tries for the lock when it starts, and while it runs (crawler.frontier.extension) each time
CAIXUN_DISCOVERY_INTERVAL seconds (default 300) have passed since the last round ended, whichever
worker ran it; a worker that does not get it only fetches. Rounds do not overlap, on any machine; only
a holder frozen past its lease (SIGSTOP, a stalled VM) could find another round begun when it wakes, and
it says so in a warning.

Settings read: CAIXUN_DISCOVERY_INTERVAL, CAIXUN_LEASE_SECONDS (crawler.frontier.connection).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from crawler import signals
from crawler.frontier.connection import Frontier, RedisError
from crawler.frontier.leases import worker_id
from crawler.items import LIST_META

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0

# KEYS: lock; ARGV: holder, ttl ms → 1 if the holder still held it (and now for ttl more), else 0
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# KEYS: lock, last; ARGV: holder → 1 if the holder gave it back
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
redis.call('SET', KEYS[2], t[1] .. '.' .. string.format('%06d', t[2]))
return redis.call('DEL', KEYS[1])
"""
# KEYS: lock; ARGV: holder → 1 if the holder gave it back
_ABANDON = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Discovery:
    """The discovery lock and the state of this worker's round, one per crawler (Discovery.of)."""

    def __init__(self, crawler: Crawler, frontier: Frontier, interval: float) -> None:
        self.crawler = crawler
        self.frontier = frontier
        self.interval = interval
        self.holder = worker_id()
        self.lock_key, self.last_key = frontier.key("discovery"), frontier.key("discovery:last")
        self.held = False
        self.start_exhausted = False
        self.rounds = 0
        self._said = ""
        self._renew = frontier.server.register_script(_RENEW)
        self._release = frontier.server.register_script(_RELEASE)
        self._abandon = frontier.server.register_script(_ABANDON)

    @classmethod
    def of(cls, crawler: Crawler) -> Discovery:
        discovery = getattr(crawler, "_caixun_discovery", None)
        if discovery is None:
            interval = crawler.settings.getfloat("CAIXUN_DISCOVERY_INTERVAL", DEFAULT_INTERVAL)
            discovery = crawler._caixun_discovery = cls(crawler, Frontier.of(crawler), interval)
        return discovery

    @property
    def ttl_ms(self) -> int:
        return int(self.frontier.lease_seconds * 1000)

    def due(self) -> bool:
        """Whether a round is due: none ended in the last `interval` seconds (by the Redis clock)."""
        last = self.frontier.server.get(self.last_key)
        return last is None or self.frontier.now() - float(last) >= self.interval

    def begin(self) -> bool:
        """Take the lock for a round if one is due and no other worker holds it; True if this worker now
        discovers."""
        if self.held:
            return True
        try:
            if not self.due():
                self._say(f"discovery: the last round ended less than {self.interval:g}s ago; this worker only fetches")
                return False
            if not self.frontier.server.set(self.lock_key, self.holder, nx=True, px=self.ttl_ms):
                holder = (self.frontier.server.get(self.lock_key) or b"another worker").decode()
                self._say(f"discovery: {holder} holds the lock; this worker only fetches")
                return False
        except RedisError as exc:
            self.frontier.lost(exc)
            return False
        self.held, self.start_exhausted = True, False
        self.rounds += 1
        self.crawler.stats.inc_value("frontier/discovery/rounds")
        logger.info("discovery: round %d begins (lock %s held by %s)", self.rounds, self.lock_key, self.holder)
        return True

    def _say(self, message: str) -> None:
        """Log why this worker does not discover, once per reason and holder (workers try every few seconds)."""
        logger.log(logging.DEBUG if message == self._said else logging.INFO, message)
        self._said = message

    def renew(self) -> None:
        if not self.held:
            return
        if not self._renew(keys=[self.lock_key], args=[self.holder, self.ttl_ms]):
            logger.warning("discovery: the lock ran out before it was renewed (was this worker frozen?); "
                           "another worker may discover at the same time until this round ends")  # fmt: skip

    def list_requests_pending(self) -> bool:
        slot = self.crawler.engine._slot  # Scrapy's own record of what is in progress: no public equivalent
        if slot is None:
            return False
        # a request stays in slot.inprogress from its download to the end of its parsing, its items stored and
        # its follow-ups (the next page, a redirect) scheduled: no gap in which a round looks over
        if any(LIST_META in r.meta for r in slot.inprogress):
            return True
        return bool(slot.scheduler.lists)  # the FrontierScheduler's local discovery queue

    def maybe_end(self) -> None:
        """End the round if it is over: start() exhausted and no list request queued or in progress."""
        if not self.held or not self.start_exhausted or self.list_requests_pending():
            return
        self.crawler.signals.send_catch_log(signals.sweeps_finished, spider=self.crawler.spider)
        self.held = False
        try:
            released = self._release(keys=[self.lock_key, self.last_key], args=[self.holder])
        except RedisError as exc:
            self.frontier.lost(exc)
            return
        logger.info("discovery: round %d ended%s", self.rounds, "" if released else " (the lock had run out)")

    def abandon(self) -> None:
        """The worker stops mid-round: give the lock back (the round's watermarks do not move, and its end is
        not recorded, so another worker may take the round up at once)."""
        if not self.held:
            return
        self.held = False
        try:
            self._abandon(keys=[self.lock_key], args=[self.holder])
        except RedisError:
            pass  # the lock runs out by itself
        logger.info("discovery: round %d abandoned", self.rounds)


class DiscoveryMiddleware:
    """Spider middleware: the spider's start() (its discovery, and the incremental middleware's retries)
    runs only in the worker that holds the discovery lock; in the others it yields nothing."""

    def __init__(self, discovery: Discovery) -> None:
        self.discovery = discovery

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DiscoveryMiddleware:
        return cls(Discovery.of(crawler))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if not self.discovery.begin():
            return
        async for request in start:
            yield request
        self.discovery.start_exhausted = True
