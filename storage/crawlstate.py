"""Crawl state for scheduled runs: what each URL gave last time, and how far each site's source is swept.

The crawler asks before fetching (known_pages, watermark), and tells after
(record_page, set_watermark, mark_removed). Removal never deletes an article:
it sets removed_at, and a later successful fetch clears it. Nothing here knows
a site: watermarks are per (site, source key), the source keys of
extractors.sources (Sina's roll channel P:L is site "sina", "rollapi:P:L").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import upsert_insert
from storage.models import PageState, StoredArticle, Watermark

# outcomes after which a page needs no fetch until its listing says it changed
SETTLED_OUTCOMES = frozenset({"inserted", "updated", "unchanged", "not_modified", "removed", "gone"})
# outcomes tried again in later runs, a few times: an article URL that gave no article may be a glitch
RETRIED_OUTCOMES = ("failed", "not_article")


@dataclass(frozen=True)
class KnownPage:
    url: str
    outcome: str
    listed_at: datetime | None  # the listed modification time it was fetched under
    etag: str | None
    last_modified: str | None
    failures: int

    @property
    def settled(self) -> bool:
        return self.outcome in SETTLED_OUTCOMES

    def given_up(self, max_failures: int) -> bool:
        return self.outcome in RETRIED_OUTCOMES and self.failures >= max_failures


def known_pages(session: Session, urls: Iterable[str]) -> dict[str, KnownPage]:
    """The stored state of each of these URLs that has one."""
    urls = list(dict.fromkeys(urls))
    found: dict[str, KnownPage] = {}
    for start in range(0, len(urls), 500):  # keep IN lists small
        rows = session.execute(
            select(PageState.url, PageState.outcome, PageState.listed_at, PageState.etag,
                   PageState.last_modified, PageState.failures).where(PageState.url.in_(urls[start : start + 500]))
        ).all()  # fmt: skip
        found.update({row.url: KnownPage(*row) for row in rows})
    return found


def record_page(
    session: Session,
    url: str,
    *,
    outcome: str,
    fetched_at: datetime,
    article_id: int | None = None,
    status: int | None = None,
    listed_at: datetime | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    error: str | None = None,
) -> None:
    """Upsert the URL's state. A failure keeps what the last good fetch knew and counts one more failure
    (not_article counts as one too: see RETRIED_OUTCOMES)."""
    values = dict(url=url, outcome=outcome, status=status, error=error, last_fetched_at=fetched_at)
    if outcome in RETRIED_OUTCOMES:
        statement = upsert_insert(session)(PageState).values(**values, failures=1)
        statement = statement.on_conflict_do_update(
            index_elements=[PageState.url],
            set_=dict(outcome=outcome, status=status, error=error, last_fetched_at=fetched_at,
                      failures=PageState.failures + 1),
        )  # fmt: skip
    else:
        good = dict(values, failures=0)
        if outcome != "not_modified":  # a 304 carries no new validators worth replacing the old with
            good.update(etag=etag, last_modified=last_modified)
        if article_id is not None:
            good["article_id"] = article_id
        if listed_at is not None:
            good["listed_at"] = listed_at
        statement = upsert_insert(session)(PageState).values(**good)
        statement = statement.on_conflict_do_update(
            index_elements=[PageState.url], set_={k: v for k, v in good.items() if k != "url"}
        )
    session.execute(statement)


def pages_to_retry(session: Session, max_failures: int, limit: int = 1000) -> list[str]:
    """URLs whose last fetch failed (or gave no article) fewer than max_failures times in a row, oldest first."""
    return list(
        session.scalars(
            select(PageState.url)
            .where(PageState.outcome.in_(RETRIED_OUTCOMES), PageState.failures < max_failures)
            .order_by(PageState.last_fetched_at)
            .limit(limit)
        )
    )


def mark_seen(session: Session, url: str, *, at: datetime) -> int | None:
    """A 304 for url: the article last fetched from it stands, seen again at `at`; returns its id, None if none."""
    article_id = session.scalar(select(PageState.article_id).where(PageState.url == url))
    if article_id is not None:
        session.execute(update(StoredArticle).where(StoredArticle.id == article_id).values(last_fetched_at=at))
    return article_id


def mark_removed(session: Session, url: str, *, status: int, at: datetime) -> int | None:
    """Mark the article last fetched from url (or stored under it) removed; returns its id, None if none."""
    article_id = session.scalar(select(PageState.article_id).where(PageState.url == url))
    if article_id is None:
        article_id = session.scalar(
            select(StoredArticle.id).where((StoredArticle.canonical_url == url) | (StoredArticle.url == url)).limit(1)
        )
    if article_id is not None:
        session.execute(
            update(StoredArticle)
            .where(StoredArticle.id == article_id, StoredArticle.removed_at.is_(None))
            .values(removed_at=at, removed_status=status)
        )
    return article_id


def watermark(session: Session, site: str, source_key: str) -> datetime | None:
    """The newest listed time of the source's last finished sweep, None before the first."""
    return session.scalar(
        select(Watermark.newest_listed_at).where(Watermark.site == site, Watermark.source_key == source_key)
    )


def set_watermark(session: Session, site: str, source_key: str, newest: datetime, at: datetime) -> None:
    """Set the source's watermark to the newest item of a finished sweep.

    It may move down as well as up: a lower watermark only makes the next sweep
    page further, while one stuck too high (a bad listed time) would stop every
    sweep at page 1.
    """
    values = dict(site=site, source_key=source_key, newest_listed_at=newest, updated_at=at)
    statement = upsert_insert(session)(Watermark).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Watermark.site, Watermark.source_key],
            set_=dict(newest_listed_at=newest, updated_at=at),
        )
    )
