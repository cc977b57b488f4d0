"""From a fetched page (or a failed fetch) to storage: extract, upsert, record the fetch and the page state.

Used by ArticlePipeline during a crawl and by `python -m crawler run` when it
ingests the spool. Outcomes, one per page (also the page_states.outcome):
  inserted, updated, unchanged   an article was extracted and stored
  not_modified                   304 to a conditional request: the stored article stands
  not_article                    the page is no article (empty, binary, a list page, …)
  removed / gone                 404 or 410: the stored article is marked removed / there was none
  failed                         no usable response (5xx after retries, timeout, reset, too large, …), or
                                 extraction failed (error "extract_<reason>: …", see extractors.sandbox)

Extraction always runs in a worker process under the limits of extractors.limits
(extractors.sandbox), never in the caller: the crawl passes its pipeline's Sandbox,
spool ingestion one of its own under the run's settings (sandbox_from_settings);
`python -m crawler reextract` uses default_sandbox(), one worker under the limits
in the project's settings.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.items import FetchedPage, FetchFailed, listed_at
from extractors import Article, Page
from extractors.limits import ExtractionLimits
from extractors.sandbox import Extraction, Sandbox
from storage.crawlstate import mark_removed, mark_seen, record_page
from storage.provenance import fetch_fields, link_fetch, record_fetch
from storage.write import article_dedup_values, upsert_article_with_id

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings
    from sqlalchemy.orm import Session

GONE_STATUSES = (404, 410)


@dataclass
class Stored:
    outcome: str
    article: Article | None = None
    error: str | None = None
    reason: str | None = None  # a failed extraction: extract_timeout, extract_memory, … (the stats key)
    detail: str | None = None  # extract_error: the worker's traceback, for the log
    dedup: dict | None = None  # the article's duplicate-detection values, computed in the worker


def limits_from_settings(settings: BaseSettings) -> ExtractionLimits:
    """CAIXUN_EXTRACT_MAX_BYTES, _MAX_ELEMENTS, _TIMEOUT and _MEMORY_MB (crawler/settings.py)."""
    default = ExtractionLimits()
    return ExtractionLimits(
        max_bytes=settings.getint("CAIXUN_EXTRACT_MAX_BYTES", default.max_bytes),
        max_elements=settings.getint("CAIXUN_EXTRACT_MAX_ELEMENTS", default.max_elements),
        timeout_s=settings.getfloat("CAIXUN_EXTRACT_TIMEOUT", default.timeout_s),
        memory_mb=settings.getint("CAIXUN_EXTRACT_MEMORY_MB", default.memory_mb),
    )


def sandbox_from_settings(settings: BaseSettings, workers: int | None = None) -> Sandbox:
    """A Sandbox under the settings' limits; workers default to CAIXUN_EXTRACT_WORKERS (0: one per core)."""
    workers = workers or settings.getint("CAIXUN_EXTRACT_WORKERS", 0) or None
    # the storage's content hash and SimHash are made in the worker too: they cost the crawl process ~12%
    return Sandbox(limits_from_settings(settings), workers, after=article_dedup_values)


_default_sandbox: Sandbox | None = None


def default_sandbox() -> Sandbox:
    """The process's one-worker Sandbox for extraction outside a crawl, under the project's settings."""
    global _default_sandbox
    if _default_sandbox is None:
        from scrapy.utils.project import get_project_settings  # the settings `scrapy crawl` would use

        _default_sandbox = sandbox_from_settings(get_project_settings(), workers=1)
        atexit.register(close_default_sandbox)
    return _default_sandbox


def close_default_sandbox() -> None:
    """Stop the default sandbox's worker (a crawl uses its own pool)."""
    if _default_sandbox is not None:
        _default_sandbox.close()


def _header(page: FetchedPage, name: str) -> str | None:
    return next((v for k, v in page.headers.items() if k.lower() == name.lower()), None)


def _fetch_row(page: FetchedPage, crawl_run_id: int | None) -> dict:
    """A fetches row from the page alone, for pages whose fetch was not recorded live (spooled)."""
    return fetch_fields(
        crawl_run_id=crawl_run_id,
        requested_url=page.request_url,
        final_url=page.url,
        status=page.status,
        headers=page.headers,
        body=page.body,
        fetched_at=page.fetched_at,
        discovered_from=page.discovered_from,
        discovery=page.discovery,
    )


def as_page(page: FetchedPage) -> Page:
    return Page(url=page.url, body=page.body, headers=page.headers)


def stored_extraction(extraction: Extraction) -> Stored:
    """An Extraction as a Stored: (outcome 'extracted', article), not_article, or failed with its extract_ reason."""
    if extraction.article is not None:
        return Stored("extracted", extraction.article, dedup=extraction.extras)
    if extraction.reason is not None:
        return Stored("failed", error=extraction.error, reason=extraction.reason, detail=extraction.detail)
    return Stored("not_article", error=extraction.not_article)


def extract_page(page: FetchedPage, sandbox: Sandbox | None = None) -> Stored:
    """Extraction alone, in a sandbox worker, outside any transaction; waits for it."""
    return stored_extraction((sandbox or default_sandbox()).extract(as_page(page)))


def store_page(session: Session, page: FetchedPage, extracted: Stored | None, crawl_run_id: int | None) -> Stored:
    """Store one fetched page in the session's transaction; the caller commits."""
    if page.fetch_id is None:
        page.fetch_id = record_fetch(session, **_fetch_row(page, crawl_run_id))
    article_id = None
    if page.status == 304:
        result = Stored("not_modified")
        article_id = mark_seen(session, page.request_url, at=page.fetched_at)
    elif page.status in GONE_STATUSES:
        article_id = mark_removed(session, page.request_url, status=page.status, at=page.fetched_at)
        result = Stored("removed" if article_id is not None else "gone", error=f"HTTP {page.status}")
    else:
        result = extracted or extract_page(page)
        if result.article is not None:
            outcome, article_id = upsert_article_with_id(
                session, result.article, fetched_at=page.fetched_at, dedup=result.dedup
            )
            result = Stored(outcome, result.article)
    link_fetch(session, page.fetch_id, article_id=article_id, outcome=result.outcome, error=result.error)
    record_page(
        session,
        page.request_url,
        outcome=result.outcome,
        fetched_at=page.fetched_at,
        article_id=article_id,
        status=page.status,
        listed_at=listed_at(page.discovery),
        etag=_header(page, "ETag"),
        last_modified=_header(page, "Last-Modified"),
        error=result.error,
    )
    return result


def store_failure(session: Session, failure: FetchFailed, crawl_run_id: int | None) -> None:
    """Record a failed fetch (the fetches row, the page's failure count); the caller commits."""
    if failure.fetch_id is None:
        failure.fetch_id = record_fetch(
            session,
            **fetch_fields(
                crawl_run_id=crawl_run_id,
                requested_url=failure.url,
                final_url=failure.url,
                status=failure.status,
                fetched_at=failure.fetched_at,
                discovered_from=failure.discovered_from,
                discovery=failure.discovery,
            ),
        )
    link_fetch(session, failure.fetch_id, article_id=None, outcome="failed", error=failure.message)
    record_page(
        session, failure.url, outcome="failed", fetched_at=failure.fetched_at, status=failure.status,
        error=failure.message,
    )  # fmt: skip
