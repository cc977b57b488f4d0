"""Archived fetches: where the raw response behind each stored article is, for re-extraction.

archived_fetches() gives, per article, its latest fetch that answered 200 and
has a WARC location (fetches.warc_file, fetches.warc_offset), oldest article
first, read in keyset-paged batches so the caller may commit in between.
count_archived_fetches() counts the same rows (a progress total).

Re-extraction is not a fetch: it upserts with refetch=False, which leaves
last_fetched_at and the removal mark alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import Fetch, StoredArticle

# fetch outcomes that stored a new version of the article
_CHANGING_OUTCOMES = ("inserted", "updated")


@dataclass(frozen=True)
class ArchivedFetch:
    fetch_id: int
    article_id: int
    final_url: str
    warc_file: str  # as the WARC writer recorded it: a file name inside its WARC_DIR, or a path
    warc_offset: int
    fetched_at: datetime
    site: str  # articles.site
    canonical_url: str  # articles.canonical_url, the article's key
    # a later fetch without a WARC location stored a newer version: this archive is older than the article
    newer_unarchived: bool


def _archived_query(site: str | None, since: datetime | None) -> Select:
    later = aliased(Fetch)
    newer = aliased(Fetch)
    is_archived_200 = (Fetch.status == 200, Fetch.warc_file.is_not(None), Fetch.warc_offset.is_not(None))
    # NOT EXISTS a later archived fetch of the same article: an index walk, where a window function
    # would rank every fetch again for each batch
    has_later = exists().where(
        later.article_id == Fetch.article_id,
        later.status == 200,
        later.warc_file.is_not(None),
        later.warc_offset.is_not(None),
        or_(later.fetched_at > Fetch.fetched_at, and_(later.fetched_at == Fetch.fetched_at, later.id > Fetch.id)),
    )
    has_newer_unarchived = exists().where(
        newer.article_id == Fetch.article_id,
        newer.warc_file.is_(None),
        newer.outcome.in_(_CHANGING_OUTCOMES),
        newer.fetched_at > Fetch.fetched_at,
    )
    statement = (
        select(
            Fetch.id, Fetch.article_id, Fetch.final_url, Fetch.warc_file, Fetch.warc_offset, Fetch.fetched_at,
            StoredArticle.site, StoredArticle.canonical_url, has_newer_unarchived.label("newer_unarchived"),
        )  # fmt: skip
        .join(StoredArticle, StoredArticle.id == Fetch.article_id)
        .where(*is_archived_200, ~has_later)
    )
    if site is not None:
        statement = statement.where(StoredArticle.site == site)
    if since is not None:  # on the latest archived fetch: an article fetched before `since` only is left out
        statement = statement.where(Fetch.fetched_at >= since)
    return statement


def count_archived_fetches(session: Session, site: str | None = None, since: datetime | None = None) -> int:
    """How many rows archived_fetches(session, site, since) gives."""
    inner = _archived_query(site, since).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def archived_fetches(
    session: Session, site: str | None = None, since: datetime | None = None, *, batch_size: int = 500
) -> Iterator[ArchivedFetch]:
    """Each article's latest archived 200 fetch, by article id; filters on articles.site and fetched_at >= since.

    Every batch is a query of its own, fully read before its rows are yielded,
    so the caller can write and commit in the same session between rows.
    """
    last_id = 0
    while True:
        rows = session.execute(
            _archived_query(site, since).where(Fetch.article_id > last_id).order_by(Fetch.article_id).limit(batch_size)
        ).all()
        for row in rows:
            yield ArchivedFetch(*row[:-1], newer_unarchived=bool(row.newer_unarchived))
        if len(rows) < batch_size:
            return
        last_id = rows[-1].article_id
