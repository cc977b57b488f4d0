"""Crawl runs and fetches: what ran, what was fetched, and how each URL was found."""

from __future__ import annotations

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


def finish_abandoned_runs(session: Session, spider: str, at: datetime) -> list[int]:
    """Close the spider's runs that never recorded their end (killed, or the database and the spool were both
    unwritable then): finish_reason "abandoned", finished_at their last recorded fetch (else their start),
    exit_status left unknown. Call it only while no other run of the spider can be going (the run lock)."""
    runs = session.execute(
        select(CrawlRun.id, CrawlRun.started_at).where(CrawlRun.spider == spider, CrawlRun.finished_at.is_(None))
    ).all()
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
