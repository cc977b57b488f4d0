"""ArticlePipeline: the one hop from a fetched page to a stored article.

Takes FetchedPage and FetchFailed items and stores them through crawler.ingest
(extract, upsert, fetch row, page state). Counts outcomes under
caixun/storage/<outcome> (crawler.ingest lists them), failures under
caixun/fetch/failed and caixun/fetch/failed/<reason>, each also per site
(caixun/site/<site>/storage/<outcome>, caixun/site/<site>/fetch/failed), and
field coverage per site (crawler.coverage); pages no rule handles count under
`generic` (crawler.sites.reported_site), as the store names them. A site below the thresholds fails
the run, named in the message.

When the database is unreachable, pages go to the spool (crawler.spool) and are
ingested on the next `python -m crawler run`; the run is marked failed
(stat caixun/failure/database). The database is tried again at most every
CAIXUN_DATABASE_RETRY_SECONDS. A page the spool cannot take either is counted
as caixun/storage/lost (its state is untouched, so the next run fetches it
again), and the failure message says how many were spooled and how many not.

Extraction runs in a pool of worker processes (extractors.sandbox) and is
awaited, so the reactor keeps fetching while pages are extracted. A page whose
extraction fails (refused as too large or with too many elements, over the
time or memory limit, a crashed worker) is stored as `failed` with the error
"extract_<reason>: …" and counted like a failed fetch: caixun/fetch/failed and
caixun/fetch/failed/extract_<reason>; the next run tries it again. When the
crawl is stopped (SIGTERM, Ctrl-C), extractions in progress and those still
arriving end at once as failed/extract_interrupted instead of being waited for;
the workers are stopped when the spider closes.

Settings read: DATABASE_URL, CAIXUN_STORAGE_ENABLED (crawler.store),
CAIXUN_SPOOL_DIR, CAIXUN_DATABASE_RETRY_SECONDS (default 30),
CAIXUN_COVERAGE_THRESHOLDS, CAIXUN_COVERAGE_MIN_ARTICLES (crawler.coverage),
CAIXUN_EXTRACT_WORKERS, CAIXUN_EXTRACT_MAX_BYTES, CAIXUN_EXTRACT_MAX_ELEMENTS,
CAIXUN_EXTRACT_TIMEOUT, CAIXUN_EXTRACT_MEMORY_MB (crawler.ingest, crawler/settings.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DropItem
from twisted.internet.task import LoopingCall

from crawler import signals as crawler_signals
from crawler.coverage import Coverage
from crawler.ingest import (
    Stored,
    as_page,
    sandbox_from_settings,
    store_failure,
    store_page,
    stored_extraction,
)
from crawler.items import FetchedPage, FetchFailed
from crawler.sites import reported_site
from crawler.spool import Spool
from crawler.store import UNREACHABLE, CrawlStore, mark_run_failed
from storage.runs import DEFAULT_COVERAGE_THRESHOLDS

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from extractors.sandbox import Sandbox

logger = logging.getLogger(__name__)

DATABASE_DOWN = "the database was unreachable"
SANDBOX_WATCH_SECONDS = 0.5
INTERRUPTED = "the crawl was stopped during extraction; the next run tries the page again"

class ArticlePipeline:
    def __init__(
        self,
        crawler: Crawler,
        store: CrawlStore | None,
        spool: Spool,
        retry_seconds: float,
        thresholds: dict[str, float],
        min_articles: int,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = store
        self.spool = spool
        self.retry_seconds = retry_seconds
        self.thresholds = thresholds
        self.min_articles = min_articles
        self.coverage: dict[str, Coverage] = {}  # site → its articles' field coverage
        self.database_down_at: float | None = None
        self.sandbox = sandbox or sandbox_from_settings(crawler.settings)
        self.sandbox_watch = LoopingCall(self._watch_sandbox)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            CrawlStore.of(crawler),
            Spool.of(crawler),
            settings.getfloat("CAIXUN_DATABASE_RETRY_SECONDS", 30),
            settings.getdict("CAIXUN_COVERAGE_THRESHOLDS", DEFAULT_COVERAGE_THRESHOLDS),  # {} judges nothing
            settings.getint("CAIXUN_COVERAGE_MIN_ARTICLES", 10),
        )
        crawler.signals.connect(pipeline._close_sandbox, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.sandbox.start()  # the workers start while the first pages are fetched
        self.sandbox_watch.start(SANDBOX_WATCH_SECONDS, now=False)

    def _watch_sandbox(self) -> None:
        """Scrapy's graceful stop waits for items in progress: extractions are not worth the wait.
        Meanwhile, extractions a broken pool will never answer are ended (Sandbox.check)."""
        if self.crawler.crawling:
            self.sandbox.check()
            return
        stopped = self.sandbox.interrupt(INTERRUPTED)
        if stopped:
            logger.info("the crawl is stopping: %d extraction(s) in progress stopped", stopped)
        self.sandbox_watch.stop()

    def _close_sandbox(self) -> None:
        if self.sandbox_watch.running:
            self.sandbox_watch.stop()
        self.sandbox.close()

    async def _extract(self, item: FetchedPage) -> Stored:
        """The page extracted in a worker, awaited on the event loop (Scrapy's default asyncio reactor)."""
        extraction = await asyncio.wrap_future(self.sandbox.submit(as_page(item)))
        return stored_extraction(extraction)

    def _count(self, site: str | None, key: str) -> None:
        """caixun/<key>, and caixun/site/<site>/<key> when the item's site is known (a host: generic)."""
        self.stats.inc_value(f"caixun/{key}")
        if site := reported_site(site):
            self.stats.inc_value(f"caixun/site/{site}/{key}")

    async def process_item(self, item):
        if isinstance(item, FetchFailed):
            self._store_failure(item)
            raise DropItem(f"fetch failed: {item.url}: {item.message}")
        if not isinstance(item, FetchedPage):
            return item
        extracted = await self._extract(item) if item.status == 200 else None
        failed = extracted is not None and extracted.outcome == "failed"
        coverage = self.coverage.setdefault(reported_site(item.site) or "", Coverage())
        if extracted is not None and extracted.article is not None:
            coverage.add(extracted.article)
            if extracted.article.warnings:
                logger.warning("%s: %s", item.url, "; ".join(extracted.article.warnings))
        elif extracted is not None and not failed:
            coverage.add_missing(item.url)
        if failed:  # counted like a failed fetch, whether or not the database takes it
            self._count(item.site, "fetch/failed")
            self.stats.inc_value(f"caixun/fetch/failed/{extracted.reason}")
            if extracted.detail:
                logger.error("%s: extraction raised:\n%s", item.url, extracted.detail)
        outcome = self._store_page(item, extracted)
        if outcome != "failed":
            self._count(item.site, f"storage/{outcome}")
        if extracted is not None and extracted.article is not None:
            self.stats.inc_value(f"caixun/extract/{extracted.article.extractor.split('@')[0]}")
            return extracted.article
        if failed:
            if extracted.reason == "extract_interrupted":
                self.crawler.signals.send_catch_log(crawler_signals.page_interrupted, request_url=item.request_url)
            raise DropItem(f"extraction failed: {item.url}: {extracted.error}")
        raise DropItem(f"{outcome}: {item.url}" + (f" ({extracted.error})" if extracted and extracted.error else ""))

    def _database_usable(self) -> bool:
        if self.database_down_at is None:
            return True
        return time.monotonic() - self.database_down_at >= self.retry_seconds

    def _store_page(self, item: FetchedPage, extracted) -> str:
        if self.store is None:
            return extracted.outcome if extracted else "not_stored"
        if self._database_usable():
            try:
                with self.store.sessions.begin() as session:
                    result = store_page(session, item, extracted, self.store.run_id)
                self._database_back()
                return result.outcome
            except UNREACHABLE as exc:
                self._database_lost(exc)
        try:
            self.spool.add(item, self.store.run_id)
        except OSError as exc:  # nothing pretends the page was kept; its state is untouched, so the next run fetches it
            if not self.stats.get_value("caixun/storage/lost"):
                logger.error("cannot write the spool (%s): pages fetched while the database is unreachable are not "
                             "kept; the next run fetches them again", exc)  # fmt: skip
            return "lost"
        return "spooled"

    def _store_failure(self, item: FetchFailed) -> None:
        self._count(item.site, "fetch/failed")
        self.stats.inc_value(f"caixun/fetch/failed/{item.reason}")
        if item.reason == "banned":
            return  # never sent: the page keeps its state, and the next run (no watermark moved) finds it again
        if self.store is None or not self._database_usable():
            return  # not spooled: the page state is unchanged, so the next run tries the URL again
        try:
            with self.store.sessions.begin() as session:
                store_failure(session, item, self.store.run_id)
        except UNREACHABLE as exc:
            self._database_lost(exc)

    def _database_lost(self, exc: Exception) -> None:
        if self.database_down_at is None:
            logger.error(
                "the database is unreachable (%s): fetched pages go to the spool in %s until it answers again",
                getattr(exc, "orig", None) or exc, self.spool.directory,
            )  # fmt: skip
        self.database_down_at = time.monotonic()
        mark_run_failed(self.stats, "database", DATABASE_DOWN)  # close_spider says what became of the pages

    def _database_back(self) -> None:
        if self.database_down_at is not None:
            logger.info("the database answers again")
            self.database_down_at = None

    def _report_outage(self) -> None:
        """The database failure's message, once the run is over: what was spooled, what was not kept."""
        spooled, lost = (int(self.stats.get_value(f"caixun/storage/{k}") or 0) for k in ("spooled", "lost"))
        message = f"{DATABASE_DOWN}: {spooled} page(s) spooled for the next run"
        if lost:
            message += (
                f", {lost} not kept (the spool folder {self.spool.directory} cannot be written; "
                "the next run fetches them again)"
            )
        logger.error("%s", message)
        self.stats.set_value("caixun/failure/database", message)
        if self.stats.get_value("caixun/run_failed") == DATABASE_DOWN:
            self.stats.set_value("caixun/run_failed", message)

    def close_spider(self) -> None:
        self.spool.close()
        if self.stats.get_value("caixun/failure/database"):
            self._report_outage()
        self.stats.set_value("caixun/coverage", coverage_record(self.coverage, self.thresholds))
        failing = []
        for site, coverage in sorted(self.coverage.items()):
            named = f" on {site}" if site and len(self.coverage) > 1 else ""
            if shortfalls := coverage.shortfalls(self.thresholds, self.min_articles):
                failing.append(f"field coverage below thresholds{named} (a template change?): " + "; ".join(shortfalls))
            elif coverage.articles and coverage.articles < self.min_articles:
                logger.info("coverage%s not judged: %d article(s), fewer than %d", named, coverage.articles,
                            self.min_articles)  # fmt: skip
        for message in failing:
            logger.error(message)
        if failing:
            mark_run_failed(self.stats, "coverage", " | ".join(failing))


def coverage_record(by_site: dict[str, Coverage], thresholds: dict[str, float]) -> dict:
    """What crawl_runs.coverage stores: the run's coverage, each site's, and the thresholds it was judged by
    (storage.runs reads it for the health report)."""
    total = Coverage()
    for coverage in by_site.values():
        total.merge(coverage)
    record = total.as_record()
    record["sites"] = {site or "-": coverage.as_record() for site, coverage in sorted(by_site.items())}
    record["thresholds"] = dict(thresholds)
    return record
