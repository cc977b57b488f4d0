"""`scrapy crawl` whose exit code says how the crawl ended.

Exit codes: 0 finished (or stopped by a CLOSESPIDER_* limit); 1 failed to start,
ended for another reason (e.g. shutdown) or the spider marked the run failed
(stat caixun/run_failed, e.g. no roll-API page could be read); 3 banned by the site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

if TYPE_CHECKING:
    import argparse

EXIT_BANNED = 3


def exit_code_for(finish_reason: str | None, run_failed: object = None) -> int:
    if finish_reason == "banned":
        return EXIT_BANNED
    if run_failed:
        return 1
    if finish_reason == "finished" or (finish_reason or "").startswith("closespider_"):
        return 0
    return 1


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self.crawler_process.create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or crawler.stats is None:
            self.exitcode = 1
            return
        stats = crawler.stats
        self.exitcode = exit_code_for(stats.get_value("finish_reason"), stats.get_value("caixun/run_failed"))
