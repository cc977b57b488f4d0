"""Crawl runs and fetches: what ran, what was fetched, and how each URL was found."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import CrawlRun, Fetch


def start_run(session: Session, spider: str, arguments: dict, started_at: datetime) -> int:
    statement = insert(CrawlRun).values(spider=spider, arguments=arguments, started_at=started_at, stats={})
    return session.execute(statement.returning(CrawlRun.id)).scalar_one()


def finish_run(
    session: Session,
    run_id: int,
    *,
    finished_at: datetime,
    finish_reason: str,
    stats: dict,
    exit_status: int,
    coverage: dict | None = None,
) -> None:
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(finished_at=finished_at, finish_reason=finish_reason, stats=stats, exit_status=exit_status,
                coverage=coverage)
    )  # fmt: skip


def run_sites(arguments: Mapping | None) -> frozenset[str] | None:
    """The site names a run recorded in arguments["crawl_sites"] (its run locks); None when it recorded none
    (a run written by a release before per-site locks: it held the lock of its spider name only)."""
    recorded = arguments.get("crawl_sites") if isinstance(arguments, Mapping) else None
    if isinstance(recorded, str):
        return frozenset([recorded])
    if isinstance(recorded, (list, tuple)):
        return frozenset(name for name in recorded if isinstance(name, str))
    return None


def finish_abandoned_runs(
    session: Session, spider: str, at: datetime, sites: Collection[str] | None = None
) -> list[int]:
    """Close runs that never recorded their end (killed, or the database and the spool were both unwritable
    then): finish_reason "abandoned", finished_at their last recorded fetch (else their start), exit_status left
    unknown. Returns their ids, in id order.

    sites=None: every unfinished run of `spider`; call it only while no other run of the spider can be going.
    With sites (the names whose run locks the caller holds): the unfinished runs of any spider whose recorded
    sites (arguments["crawl_sites"]) share a name with `sites`, as they held one of those locks and so are dead;
    a run that recorded no sites (an older release) counts as holding its spider's name only, and is closed
    when its spider is `spider`.
    """
    unfinished = select(CrawlRun.id, CrawlRun.spider, CrawlRun.arguments, CrawlRun.started_at).where(
        CrawlRun.finished_at.is_(None)
    )
    if sites is None:
        unfinished = unfinished.where(CrawlRun.spider == spider)
    else:
        ours = frozenset([sites] if isinstance(sites, str) else sites)
    runs = []
    for run_id, run_spider, arguments, started_at in session.execute(unfinished.order_by(CrawlRun.id)).all():
        if sites is not None:  # few rows, and JSON tests differ between SQLite and PostgreSQL: decided here
            recorded = run_sites(arguments)
            if not (recorded & ours if recorded is not None else run_spider == spider):
                continue
        runs.append((run_id, started_at))
    for run_id, started_at in runs:
        last_fetch = session.scalar(select(func.max(Fetch.fetched_at)).where(Fetch.crawl_run_id == run_id))
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id, CrawlRun.finished_at.is_(None))
            .values(finished_at=min(last_fetch or started_at, at), finish_reason="abandoned")
        )
    return [run_id for run_id, _ in runs]


def recorded_fetch(
    session: Session, *, fetch_id: int | None, requested_url: str, final_url: str, fetched_at: datetime
) -> tuple[int | None, bool]:
    """The fetches row of a page that was spooled, and whether the page is stored already.

    A spooled page may carry the id of a row recorded live (before the store failed: not stored yet), or have
    been stored by an earlier ingestion that was killed before deleting its spool file (a row with its own
    fetch time and an outcome). Returns (row id or None, stored).
    """
    if fetch_id is not None:
        row = session.execute(select(Fetch.requested_url, Fetch.outcome).where(Fetch.id == fetch_id)).first()
        if row is not None and row.requested_url == requested_url:
            return fetch_id, row.outcome is not None
    stored = session.scalar(
        select(Fetch.id)
        .where(Fetch.final_url == final_url, Fetch.fetched_at == fetched_at, Fetch.requested_url == requested_url,
               Fetch.outcome.is_not(None))
        .limit(1)
    )  # fmt: skip
    return stored, stored is not None


def fetch_fields(
    *,
    crawl_run_id: int | None,
    requested_url: str,
    final_url: str,
    status: int | None,
    fetched_at: datetime,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    used_charset: str | None = None,
    warc_file: str | None = None,
    warc_offset: int | None = None,
    discovered_from: str | None = None,
    discovery: dict | None = None,
) -> dict:
    """A fetches row's fields, built in one place for live responses, spooled pages and failures.

    Headers give the content type (and its declared charset), ETag and Last-Modified;
    the body its sha256 and size. A fetch without a response has neither.
    """
    def header(name: str) -> str | None:
        return next((value for key, value in (headers or {}).items() if key.lower() == name.lower()), None)

    content_type = header("Content-Type")
    return dict(
        crawl_run_id=crawl_run_id,
        requested_url=requested_url,
        final_url=final_url,
        status=status,
        content_type=content_type,
        etag=header("ETag"),
        last_modified=header("Last-Modified"),
        declared_charset=declared_charset(content_type),
        used_charset=used_charset,
        body_sha256=hashlib.sha256(body).hexdigest() if body is not None else None,
        body_bytes=len(body) if body is not None else None,
        warc_file=warc_file,
        warc_offset=warc_offset,
        fetched_at=fetched_at,
        discovered_from=discovered_from,
        discovery=discovery or {},
    )


def declared_charset(content_type: str | None) -> str | None:
    """The charset a Content-Type header declares ("text/html; charset=GBK" → "gbk")."""
    if content_type and "charset=" in content_type.lower():
        return content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'") or None
    return None


def record_fetch(session: Session, **fields) -> int:
    """One fetch row (see storage.models.Fetch for the fields); returns its id."""
    fields.setdefault("discovery", {})
    return session.execute(insert(Fetch).values(**fields).returning(Fetch.id)).scalar_one()


def link_fetch(
    session: Session, fetch_id: int, *, article_id: int | None, outcome: str, error: str | None = None
) -> None:
    session.execute(
        update(Fetch).where(Fetch.id == fetch_id).values(article_id=article_id, outcome=outcome, error=error)
    )
