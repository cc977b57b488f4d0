"""The crawl's handle on storage, one per crawler, shared by the pipeline and the provenance extension.

Settings read:
  DATABASE_URL              SQLAlchemy URL; empty: $DATABASE_URL, else sqlite:///data/caixun.db
  CAIXUN_STORAGE_ENABLED    False: extract without storing (default True)
  CAIXUN_DATABASE_TIMEOUT   seconds (default 30; 0: no limit) one database transaction of the crawl
                            (storing a page, recording a fetch) may take. Each statement gets it as
                            its statement timeout; on PostgreSQL, connecting gives up after 10 s (or
                            this, if shorter), and a server that stops answering altogether (frozen,
                            SIGSTOPped) has its connection closed by a watchdog 1 s past it
                            (storage.watchdog). Every one of these is an OperationalError: the
                            database counts as unreachable (UNREACHABLE below), pages are spooled
                            and the run exits 5.
  CAIXUN_DATABASE_RETRY_SECONDS  after the database gave no answer in time, every use of the store
                            fails at once for this long (default 30), rather than each costing a
                            timeout; the pipeline tries again at the same pace (crawler.pipelines).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from crawler.folders import writable_database
from storage import make_engine, mask_url, resolve_database_url, session_factory
from storage.db import missing_database

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# what an unreachable or vanished database raises (a timeout too); anything else is a bug and should surface
UNREACHABLE = (OperationalError, InterfaceError)
DEFAULT_DATABASE_TIMEOUT = 30.0  # CAIXUN_DATABASE_TIMEOUT: a page's transaction takes milliseconds
DEFAULT_RETRY_SECONDS = 30.0  # CAIXUN_DATABASE_RETRY_SECONDS


class DatabaseUnreachable(RuntimeError):
    """The database did not answer when the store was opened (exit code 5, crawler.exitcodes)."""


class DatabaseMissing(RuntimeError):
    """The PostgreSQL database or role of the URL does not exist: a configuration error (exit code 2), whose
    message says what to create (storage.db.missing_database)."""


class CrawlStore:
    def __init__(
        self, database_url: str, timeout: float = DEFAULT_DATABASE_TIMEOUT, retry_after: float = DEFAULT_RETRY_SECONDS
    ) -> None:
        self.database_url = database_url
        writable_database(database_url)  # a SQLite file that cannot be written is no outage: FolderNotWritable
        try:
            self.engine = make_engine(  # also refuses an outdated schema
                database_url, statement_timeout=timeout or None, watchdog=True, retry_after=retry_after
            )
        except SQLAlchemyError as exc:
            if missing := missing_database(exc, database_url):
                raise DatabaseMissing(missing) from None
            # one clear line, password masked, instead of a bare driver traceback
            error = DatabaseUnreachable if isinstance(exc, UNREACHABLE) else RuntimeError
            raise error(
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
            settings = crawler.settings
            store = crawler._caixun_store = cls(
                url,
                settings.getfloat("CAIXUN_DATABASE_TIMEOUT", DEFAULT_DATABASE_TIMEOUT),
                settings.getfloat("CAIXUN_DATABASE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS),
            )
        return store

    def close(self) -> None:
        self.engine.dispose()


def mark_run_failed(stats, kind: str, message: str) -> None:
    """Fail the run: caixun/failure/<kind> (which picks the exit code, crawler.exitcodes) and caixun/run_failed."""
    stats.set_value(f"caixun/failure/{kind}", message)
    if not stats.get_value("caixun/run_failed"):
        stats.set_value("caixun/run_failed", message)
