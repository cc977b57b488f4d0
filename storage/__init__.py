"""Storage: the schema, engines, the one writer and the readers' API. Imports no Scrapy."""

from storage.db import DEFAULT_DATABASE_URL, make_engine, mask_url, resolve_database_url, session_factory
from storage.query import count_articles, iter_articles
from storage.write import upsert_article

__all__ = [
    "DEFAULT_DATABASE_URL", "count_articles", "iter_articles", "make_engine", "mask_url",
    "resolve_database_url", "session_factory", "upsert_article",
]  # fmt: skip
