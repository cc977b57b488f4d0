"""The only writer: upsert an extracted article by canonical URL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import StoredArticle

if TYPE_CHECKING:
    from extractors import Article

Outcome = Literal["inserted", "updated", "unchanged"]

_CONTENT_FIELDS = (
    "url", "site", "title", "published_at", "source", "source_url", "authors", "editor",
    "original_title", "body", "images", "symbols", "language", "extractor", "warnings",
)  # fmt: skip


def _row_values(article: Article) -> dict:
    data = article.to_dict()
    data["published_at"] = article.published_at  # keep the datetime, not its ISO string
    return {name: data[name] for name in _CONTENT_FIELDS}


def upsert_article(session: Session, article: Article, fetched_at: datetime | None = None) -> Outcome:
    """Insert or update the article keyed on canonical_url (else url).

    Uses INSERT … ON CONFLICT so that concurrent writers never duplicate a row.
    The caller commits.
    """
    fetched_at = fetched_at or datetime.now(timezone.utc)
    key = article.canonical_url or article.url
    values = _row_values(article)
    existing = session.execute(
        select(StoredArticle).where(StoredArticle.canonical_url == key)
    ).scalar_one_or_none()
    if existing is not None and all(getattr(existing, k) == v for k, v in values.items()):
        existing.fetched_at = fetched_at
        return "unchanged"
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"upsert is implemented for SQLite and PostgreSQL, not {dialect}")
    statement = insert(StoredArticle).values(
        canonical_url=key, fetched_at=fetched_at, first_seen_at=fetched_at, updated_at=fetched_at, **values
    )
    statement = statement.on_conflict_do_update(
        index_elements=[StoredArticle.canonical_url],
        set_={**values, "fetched_at": fetched_at, "updated_at": fetched_at},
    )
    session.execute(statement)
    return "inserted" if existing is None else "updated"
