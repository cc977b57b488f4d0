"""ProvenanceExtension: record the crawl run and every fetch in storage.

Signals: spider_opened starts a crawl_runs row; response_received adds a
fetches row (requested and final URL, status, headers that matter, charsets,
sha256 of the body, WARC file and offset, how the URL was found) and puts its
id in request.meta["caixun_fetch_id"] for the pipeline; spider_closed closes
the run with its finish reason, stats, field coverage and exit status.
Credentials in URLs are masked in what it stores (crawler.logmasking).

While the database is unreachable, fetches go unrecorded here (the pipeline
spools the pages, and the spool's ingestion records them) and one error is logged.
If the run's end cannot be recorded, it goes to the spool too, and the next
`python -m crawler run` records it (or, without it, closes the run as abandoned).

Off when storage is (CAIXUN_STORAGE_ENABLED = False).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse

from crawler.exitcodes import exit_code_for
from crawler.items import requested_url
from crawler.logmasking import mask_data
from crawler.spool import Spool
from crawler.store import UNREACHABLE, CrawlStore
from storage.provenance import fetch_fields, finish_run, record_fetch, start_run

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _json_safe(stats: dict) -> dict:
    """Stats or arguments as stored: times as ISO text, credentials in any string masked."""
    return mask_data({k: v.isoformat() if isinstance(v, (datetime, date)) else v for k, v in stats.items()})


class ProvenanceExtension:
    def __init__(self, crawler: Crawler, store: CrawlStore) -> None:
        self.crawler = crawler
        self.store = store
        self.database_lost = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProvenanceExtension:
        store = CrawlStore.of(crawler)
        if store is None:
            raise NotConfigured
        extension = cls(crawler, store)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _write(self, what: str, write, default: object = None) -> object:
        """write(session)'s result, committed; `default` when the database is unreachable."""
        try:
            with self.store.sessions.begin() as session:
                return write(session)
        except UNREACHABLE as exc:
            if not self.database_lost:
                logger.error("cannot record %s, the database is unreachable: %s", what, getattr(exc, "orig", None) or exc)
            self.database_lost = True
            return default

    def spider_opened(self, spider: Spider) -> None:
        arguments = _json_safe(getattr(spider, "arguments", {}))
        self.store.run_id = self._write(
            "the crawl run", lambda session: start_run(session, spider.name, arguments, datetime.now(timezone.utc))
        )
        self.crawler.stats.set_value("caixun/crawl_run_id", self.store.run_id)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        warc = request.meta.get("warc") or {}
        kwargs = request.cb_kwargs or {}
        fields = fetch_fields(
            crawl_run_id=self.store.run_id,
            requested_url=requested_url(request),
            final_url=response.url,
            status=response.status,
            headers={name: _header(response, name) for name in ("Content-Type", "ETag", "Last-Modified")},
            body=response.body,
            used_charset=response.encoding if isinstance(response, TextResponse) else None,
            warc_file=warc.get("file"),
            warc_offset=warc.get("offset"),
            fetched_at=datetime.now(timezone.utc),
            discovered_from=kwargs.get("discovered_from"),
            discovery=kwargs.get("discovery"),
        )
        request.meta["caixun_fetch_id"] = self._write("a fetch", lambda session: record_fetch(session, **fields))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        if self.store.run_id is not None:
            fields = dict(
                finished_at=datetime.now(timezone.utc),
                finish_reason=reason,
                stats=_json_safe(stats),
                coverage=stats.get("caixun/coverage"),
                exit_status=exit_code_for(reason, stats),
            )
            def finish(session) -> bool:
                finish_run(session, self.store.run_id, **fields)
                return True

            if not self._write("the end of the crawl run", finish, default=False):
                self._spool_run_end(fields)
        self.store.close()

    def _spool_run_end(self, fields: dict) -> None:
        """The next `python -m crawler run` records the end from the spool; without it, closes the run as abandoned."""
        spool = Spool.of(self.crawler)
        try:
            spool.add_run_end(self.store.run_id, fields)
            logger.info("the end of crawl run %s is in the spool %s, for the next run", self.store.run_id, spool.path)
        except OSError as exc:
            logger.error("cannot spool the end of crawl run %s either (%s): the next run closes it as abandoned",
                         self.store.run_id, exc)  # fmt: skip
        finally:
            spool.close()
