"""The crawl's handle on storage, one per crawler, shared by the pipeline and the provenance extension.

Settings read:
  DATABASE_URL              SQLAlchemy URL; empty: $DATABASE_URL, else sqlite:///data/caixun.db
  CAIXUN_STORAGE_ENABLED    False: extract without storing (default True)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from storage import make_engine, mask_url, resolve_database_url, session_factory

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# what an unreachable or vanished database raises; anything else is a bug and should surface
UNREACHABLE = (OperationalError, InterfaceError)


class CrawlStore:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        try:
            self.engine = make_engine(database_url)  # also refuses an outdated schema
        except SQLAlchemyError as exc:
            # one clear line, password masked, instead of a bare driver traceback
            raise RuntimeError(
                f"cannot open the database {mask_url(database_url)}: {getattr(exc, 'orig', None) or exc}"
            ) from None
        self.sessions = session_factory(self.engine)
        self.run_id: int | None = None
        logger.info("storing articles in %s", mask_url(database_url))

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlStore | None:
        """The crawler's store, opened on first use; None when storage is switched off."""
        if not crawler.settings.getbool("CAIXUN_STORAGE_ENABLED", True):
            return None
        store = getattr(crawler, "_caixun_store", None)
        if store is None:
            url = resolve_database_url(crawler.settings.get("DATABASE_URL") or None)
            store = crawler._caixun_store = cls(url)
        return store

    def close(self) -> None:
        self.engine.dispose()


def mark_run_failed(stats, kind: str, message: str) -> None:
    """Fail the run: caixun/failure/<kind> (which picks the exit code, crawler.exitcodes) and caixun/run_failed."""
    stats.set_value(f"caixun/failure/{kind}", message)
    if not stats.get_value("caixun/run_failed"):
        stats.set_value("caixun/run_failed", message)
