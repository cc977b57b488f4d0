"""ArticlePipeline: the one hop from a fetched page to a stored article.

Extracts each FetchedPage with extractors.extract and upserts the Article
through storage (crawler.store.CrawlStore; settings DATABASE_URL and
CAIXUN_STORAGE_ENABLED), then links the page's fetch row to the article.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawler.items import FetchedPage
from crawler.store import CrawlStore
from extractors import Article, NotAnArticle, Page, extract
from storage.provenance import link_fetch
from storage.write import upsert_article_with_id

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ArticlePipeline:
    def __init__(self, crawler: Crawler, store: CrawlStore | None) -> None:
        self.stats = crawler.stats
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        return cls(crawler, CrawlStore.of(crawler))

    def process_item(self, item: FetchedPage | Article) -> Article:
        if not isinstance(item, FetchedPage):
            return item
        try:
            article = extract(Page(url=item.url, body=item.body, headers=item.headers))
        except NotAnArticle as exc:
            self.stats.inc_value("caixun/extract/not_article")
            self._link(item, None, "not_article")
            raise DropItem(f"not an article: {exc}") from None
        self.stats.inc_value(f"caixun/extract/{article.extractor.split('@')[0]}")
        if article.warnings:
            logger.warning("%s: %s", item.url, "; ".join(article.warnings))
        if self.store is not None:
            with self.store.sessions.begin() as session:
                outcome, article_id = upsert_article_with_id(session, article, fetched_at=item.fetched_at)
                if item.fetch_id is not None:
                    link_fetch(session, item.fetch_id, article_id=article_id, outcome=outcome)
            self.stats.inc_value(f"caixun/storage/{outcome}")
        return article

    def _link(self, item: FetchedPage, article_id: int | None, outcome: str) -> None:
        if self.store is not None and item.fetch_id is not None:
            with self.store.sessions.begin() as session:
                link_fetch(session, item.fetch_id, article_id=article_id, outcome=outcome)
