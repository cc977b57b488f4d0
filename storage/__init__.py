"""Storage: the schema, engines, the one writer and the readers' API. Imports no Scrapy.

The readers' ``query`` function is imported from ``storage.query`` itself: re-exporting it
here would make the attribute ``storage.query`` the function instead of the module.
"""

from storage.db import (
    DEFAULT_DATABASE_URL,
    make_engine,
    mask_url,
    resolve_database_url,
    session_factory,
)
from storage.query import SearchUnavailable, count_articles, iter_articles, stats
from storage.write import upsert_article

__all__ = [
    "DEFAULT_DATABASE_URL", "SearchUnavailable", "count_articles", "iter_articles", "make_engine", "mask_url",
    "resolve_database_url", "session_factory", "stats", "upsert_article",
]  # fmt: skip
