"""ArticlePipeline: the one hop from a fetched page to a stored article.

Settings read:
  DATABASE_URL              SQLAlchemy URL; empty: $DATABASE_URL, else sqlite:///data/caixun.db
  CAIXUN_STORAGE_ENABLED    False extracts without storing (default True)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from crawler.items import FetchedPage
from extractors import Article, NotAnArticle, Page, extract
from storage import make_engine, mask_url, resolve_database_url, session_factory, upsert_article

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ArticlePipeline:
    def __init__(self, crawler: Crawler, database_url: str | None, store: bool) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = resolve_database_url(database_url) if store else None
        self.engine = None
        self.sessions = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            database_url=settings.get("DATABASE_URL") or None,
            store=settings.getbool("CAIXUN_STORAGE_ENABLED", True),
        )

    def open_spider(self) -> None:
        if self.database_url is None:
            return
        try:
            self.engine = make_engine(self.database_url)
        except SQLAlchemyError as exc:
            # one clear line, password masked, instead of a bare driver traceback
            raise RuntimeError(
                f"cannot open the database {mask_url(self.database_url)}: {getattr(exc, 'orig', None) or exc}"
            ) from None
        self.sessions = session_factory(self.engine)
        logger.info("storing articles in %s", mask_url(self.database_url))

    def close_spider(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def process_item(self, item: FetchedPage | Article) -> Article:
        if not isinstance(item, FetchedPage):
            return item
        page = Page(url=item.url, body=item.body, headers=item.headers)
        try:
            article = extract(page)
        except NotAnArticle as exc:
            self.stats.inc_value("caixun/extract/not_article")
            raise DropItem(f"not an article: {exc}") from None
        self.stats.inc_value(f"caixun/extract/{article.extractor.split('@')[0]}")
        if article.warnings:
            logger.warning("%s: %s", item.url, "; ".join(article.warnings))
        if self.sessions is not None:
            with self.sessions.begin() as session:
                outcome = upsert_article(session, article, fetched_at=item.fetched_at)
            self.stats.inc_value(f"caixun/storage/{outcome}")
        return article
