"""Readers' API: plain functions returning plain dicts, rendered with offsets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from storage.models import StoredArticle

# Article times are shown in China Standard Time, the sites' own zone; storage is UTC.
DISPLAY_TZ = timezone(timedelta(hours=8))

EXPORT_FIELDS = (
    "url", "canonical_url", "title", "published_at", "source", "source_url", "authors", "editor",
    "original_title", "body", "images", "symbols", "language", "site", "fetched_at", "extractor",
)  # fmt: skip


def _iso(value: datetime | None, tz: timezone) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def article_record(row: StoredArticle) -> dict:
    """One stored article as the export's JSON object."""
    record = {name: getattr(row, name) for name in EXPORT_FIELDS}
    record["published_at"] = _iso(row.published_at, DISPLAY_TZ)
    record["fetched_at"] = _iso(row.fetched_at, timezone.utc)
    return record


def iter_articles(engine: Engine, *, site: str | None = None, batch_size: int = 500) -> Iterator[dict]:
    """Every stored article, oldest row first, streamed in batches."""
    statement = select(StoredArticle).order_by(StoredArticle.id)
    if site:
        statement = statement.where(StoredArticle.site == site)
    with Session(engine) as session:
        for row in session.execute(statement.execution_options(yield_per=batch_size)).scalars():
            yield article_record(row)


def count_articles(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(StoredArticle)) or 0
