"""LeasedQueue: scrapy-redis's priority queue, made at-least-once with leases.

scrapy-redis pops a request and forgets it: a worker killed with it in hand loses it. Here pop()
moves the request, atomically (a Lua script), from the queue into the leases, with a deadline
CAIXUN_LEASE_SECONDS ahead on the Redis server's clock (one clock for every machine). The worker
renews the deadlines of the leases it holds while it works on them (crawler.frontier.extension) and
acknowledges each once what came of it is stored (ack); a lease whose deadline passes (its holder
died or froze) is put back in the queue by whichever worker calls requeue_expired() next. Stored
pages are idempotent upserts, so a request done twice costs a fetch, never a duplicate article.
"""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from collections.abc import Iterable

from scrapy_redis.queue import PriorityQueue

LEASE_META = "caixun_lease"  # request meta: the lease id of a leased request and of its follow-ups

# Lua: `now`, the Redis server's clock in ms (every machine's leases and slots are on this one clock)
NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS: queue, leases, leased, leased:score; ARGV: lease id, lease ms → the request's data, or nil
_POP = NOW_MS + """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[3], ARGV[1], found[1])
redis.call('HSET', KEYS[4], ARGV[1], found[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return found[1]
"""

# KEYS: queue, dupefilter; ARGV: fingerprint, score, data → 1 if queued, 0 if the fingerprint was there already
# (one script: a worker dying between the two steps would leave a fingerprint that filters its URL for good)
_PUSH_NEW = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1
"""

# KEYS: queue, leases, leased, leased:score; ARGV: lease ids (none: every expired one) → how many requeued
_REQUEUE = NOW_MS + """
local ids = ARGV
if #ids == 0 then ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now) end
local count = 0
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[3], id)
  if data then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id), data)
    count = count + 1
  end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
return count
"""

# KEYS: leases; ARGV: lease ms, lease ids → how many were still held (a lease that ran out is not revived)
_RENEW = NOW_MS + """
local count = 0
for i = 2, #ARGV do
  count = count + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
return count
"""


def worker_id() -> str:
    """This process's name in lease ids and logs: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedQueue(PriorityQueue):
    """The frontier's queue. key is caixun:<spider>:requests; the lease keys sit beside it."""

    lease_seconds: float = 300.0  # set by the scheduler from CAIXUN_LEASE_SECONDS

    def __init__(self, server, spider, key, serializer=None) -> None:
        super().__init__(server, spider, key, serializer)
        prefix = self.key.rsplit(":", 1)[0]
        self.keys = [self.key, f"{prefix}:leases", f"{prefix}:leased", f"{prefix}:leased:score"]
        self.worker = worker_id()
        self._serial = itertools.count(1)
        self._push_new = server.register_script(_PUSH_NEW)
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)
        self._renew = server.register_script(_RENEW)

    def push_new(self, request, fingerprint: str, dupefilter_key: str) -> bool:
        """Queue the request unless its fingerprint is in the duplicate filter (queued or in flight); the
        fingerprint is added in the same step. True if queued."""
        data = self._encode_request(request)
        return bool(self._push_new(keys=[self.key, dupefilter_key], args=[fingerprint, -request.priority, data]))

    def pop(self, timeout=0):
        """The first request, leased to this worker (meta caixun_lease holds the lease id), or None."""
        lease = f"{self.worker}:{next(self._serial)}"
        data = self._pop(keys=self.keys, args=[lease, int(self.lease_seconds * 1000)])
        if data is None:
            return None
        request = self._decode_request(data)
        request.meta[LEASE_META] = lease
        return request

    def ack(self, leases: Iterable[str], fingerprints: Iterable[str] = (), dupefilter_key: str | None = None) -> None:
        """The leases are done with: forget them (and, in the same transaction, their fingerprints)."""
        leases = list(leases)
        pipe = self.server.pipeline()
        pipe.zrem(self.keys[1], *leases)
        pipe.hdel(self.keys[2], *leases)
        pipe.hdel(self.keys[3], *leases)
        fingerprints = list(fingerprints)
        if fingerprints and dupefilter_key:
            pipe.srem(dupefilter_key, *fingerprints)
        pipe.execute()

    def renew(self, leases: Iterable[str]) -> int:
        """Move the leases' deadlines lease_seconds ahead; how many were still held."""
        leases = list(leases)
        if not leases:
            return 0
        return int(self._renew(keys=self.keys[1:2], args=[int(self.lease_seconds * 1000), *leases]))

    def requeue(self, leases: Iterable[str] = ()) -> int:
        """Put leased requests back in the queue: those named, else every one whose lease ran out."""
        return int(self._requeue(keys=self.keys, args=list(leases)))

    def clear(self) -> None:
        self.server.delete(*self.keys)
