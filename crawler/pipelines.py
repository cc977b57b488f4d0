"""ArticlePipeline: the one hop from a fetched page to a stored article.

Takes FetchedPage and FetchFailed items and stores them through crawler.ingest
(extract, upsert, fetch row, page state). Counts outcomes under
caixun/storage/<outcome> (crawler.ingest lists them), failures under
caixun/fetch/failed and caixun/fetch/failed/<reason>, and field coverage
(crawler.coverage).

When the database is unreachable, pages go to the spool (crawler.spool) and are
ingested on the next `python -m crawler run`; the run is marked failed
(stat caixun/failure/database). The database is tried again at most every
CAIXUN_DATABASE_RETRY_SECONDS.

Settings read: DATABASE_URL, CAIXUN_STORAGE_ENABLED (crawler.store),
CAIXUN_SPOOL_DIR, CAIXUN_DATABASE_RETRY_SECONDS (default 30),
CAIXUN_COVERAGE_THRESHOLDS, CAIXUN_COVERAGE_MIN_ARTICLES (crawler.coverage).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawler.coverage import DEFAULT_THRESHOLDS, Coverage
from crawler.ingest import extract_page, store_failure, store_page
from crawler.items import FetchedPage, FetchFailed
from crawler.spool import Spool
from crawler.store import UNREACHABLE, CrawlStore, mark_run_failed

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

class ArticlePipeline:
    def __init__(
        self,
        crawler: Crawler,
        store: CrawlStore | None,
        spool: Spool,
        retry_seconds: float,
        thresholds: dict[str, float],
        min_articles: int,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = store
        self.spool = spool
        self.retry_seconds = retry_seconds
        self.thresholds = thresholds
        self.min_articles = min_articles
        self.coverage = Coverage()
        self.database_down_at: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            CrawlStore.of(crawler),
            Spool(settings.get("CAIXUN_SPOOL_DIR") or None),
            settings.getfloat("CAIXUN_DATABASE_RETRY_SECONDS", 30),
            settings.getdict("CAIXUN_COVERAGE_THRESHOLDS", DEFAULT_THRESHOLDS),  # {} judges nothing
            settings.getint("CAIXUN_COVERAGE_MIN_ARTICLES", 10),
        )

    def process_item(self, item):
        if isinstance(item, FetchFailed):
            self._store_failure(item)
            raise DropItem(f"fetch failed: {item.url}: {item.message}")
        if not isinstance(item, FetchedPage):
            return item
        extracted = extract_page(item) if item.status == 200 else None
        if extracted is not None and extracted.article is not None:
            self.coverage.add(extracted.article)
            if extracted.article.warnings:
                logger.warning("%s: %s", item.url, "; ".join(extracted.article.warnings))
        elif extracted is not None:
            self.coverage.add_missing(item.url)
        outcome = self._store_page(item, extracted)
        self.stats.inc_value(f"caixun/storage/{outcome}")
        if extracted is not None and extracted.article is not None:
            self.stats.inc_value(f"caixun/extract/{extracted.article.extractor.split('@')[0]}")
            return extracted.article
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
        self.spool.add(item, self.store.run_id)
        return "spooled"

    def _store_failure(self, item: FetchFailed) -> None:
        self.stats.inc_value("caixun/fetch/failed")
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
        mark_run_failed(self.stats, "database", "the database was unreachable: pages were spooled for the next run")

    def _database_back(self) -> None:
        if self.database_down_at is not None:
            logger.info("the database answers again")
            self.database_down_at = None

    def close_spider(self) -> None:
        self.spool.close()
        record = self.coverage.as_record()
        self.stats.set_value("caixun/coverage", record)
        shortfalls = self.coverage.shortfalls(self.thresholds, self.min_articles)
        if shortfalls:
            message = "field coverage below thresholds (a template change?): " + "; ".join(shortfalls)
            logger.error(message)
            mark_run_failed(self.stats, "coverage", message)
        elif self.coverage.articles and self.coverage.articles < self.min_articles:
            logger.info("coverage not judged: %d article(s), fewer than %d", self.coverage.articles, self.min_articles)
