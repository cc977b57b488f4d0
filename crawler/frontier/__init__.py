"""Distributed mode: several crawl workers, on one or many machines, share one Redis frontier.

Switched on by CAIXUN_FRONTIER=redis://host:6379/0 (crawler.frontier.addon); without it nothing
here is loaded and Redis is not needed. The pieces:

  leases.py     the shared queue (scrapy-redis's priority queue) with leases: a request a worker
                pops stays in Redis, leased, until that worker has stored what came of it; a lease
                its holder stops renewing (a worker killed) runs out and the request is queued again
  scheduler.py  the Scrapy scheduler over that queue, scrapy-redis's duplicate filter, and a local
                queue for discovery (list pages), which only the discovery lock's holder reads
  discovery.py  the discovery lock (a lease in Redis) and the spider middleware that runs a
                spider's start() only under it
  ratelimit.py  a per-site request slot in Redis, so that N workers keep one site's delay between
                them all, not N times its rate
  extension.py  the extension that acknowledges finished requests, renews leases, requeues
                expired ones, and decides when an idle worker exits

Redis keys, all under caixun:<spider>: (one frontier per spider name):
  requests     sorted set: queued requests (scrapy-redis PriorityQueue, score -priority)
  dupefilter   set: fingerprints of requests queued or in flight (forgotten once done)
  leases       sorted set: lease id → deadline (Redis server time, ms)
  leased       hash: lease id → the request as queued;  leased:score  hash: lease id → its score
  discovery    string: the discovery lock's holder, with a TTL;  discovery:last  when a round ended
  slot:<site>  the next time (ms) a request to <site> may start (ratelimit.py)
"""
