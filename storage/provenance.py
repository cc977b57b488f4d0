"""Crawl runs and fetches: what ran, what was fetched, and how each URL was found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
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
