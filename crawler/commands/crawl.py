"""`scrapy crawl` whose exit code says how the crawl ended.

Exit codes are those of crawler.exitcodes: 0 finished, 1 failed, 2 a bad database
URL, 3 banned, 4 coverage below thresholds, 5 database unreachable, 73 a folder
that cannot be written. A crawl that cannot start says why in one line
(crawler.startup), not in a traceback. For cron, use
`python -m crawler run`, which adds a lock, the spool and a summary line.

Passwords are masked in every log line (crawler.logmasking) from option parsing
on, so Scrapy's "Overridden settings" line shows postgresql://user:***@host/db.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.exitcodes import exit_code_for
from crawler.logmasking import install_log_masking
from crawler.startup import StartupWatch

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        # first thing scrapy.cmdline runs for us: before the CrawlerProcess
        # configures logging and before any crawler logs its settings
        install_log_masking()
        super().process_options(args, opts)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self.crawler_process.create_crawler(args[0])
        startup = StartupWatch()
        startup.watch(self.crawler_process.crawl(crawler, **opts.spargs))
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or crawler.stats is None or startup.error is not None:
            self.exitcode = startup.exit_code
            return
        stats = crawler.stats
        self.exitcode = exit_code_for(stats.get_value("finish_reason"), stats.get_stats())
