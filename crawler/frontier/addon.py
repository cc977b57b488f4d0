"""FrontierAddon (in ADDONS): with CAIXUN_FRONTIER set, the crawl joins the shared Redis frontier.

It sets the scheduler (crawler.frontier.scheduler) and adds the discovery lock's spider middleware,
the global rate limit's downloader middleware and the worker extension. Without CAIXUN_FRONTIER it
changes nothing and nothing imports Redis.
"""

from __future__ import annotations

from storage.extras import require


class FrontierAddon:
    def update_settings(self, settings) -> None:
        if not settings.get("CAIXUN_FRONTIER"):
            return
        require("scrapy_redis", "distributed")  # a missing extra is named (MissingExtra), not a bare ImportError
        require("redis", "distributed")
        from crawler.frontier.discovery import DiscoveryMiddleware
        from crawler.frontier.ratelimit import GlobalRateLimit
        from crawler.frontier.scheduler import FrontierScheduler
        from crawler.frontier.extension import FrontierWorker

        settings.set("SCHEDULER", FrontierScheduler, priority="addon")
        # closest to the engine: gates the spider's start() together with the incremental middleware's retries
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", DiscoveryMiddleware, 50)
        # before the WARC replay (950) and the download: replayed and robots.txt requests are spaced too
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", GlobalRateLimit, 940)
        settings.set_in_component_priority_dict("EXTENSIONS", FrontierWorker, 600)
