"""The only writer: upsert an extracted article by canonical URL, keeping what it replaces.

- INSERT … ON CONFLICT DO UPDATE on both dialects, so concurrent crawls never
  create a second row for one canonical URL;
- a re-fetch that changes the title or body keeps the previous version in
  article_revisions;
- article_symbols mirrors the article's symbols for indexed lookups;
- the search index (storage.search) follows the title and body, and the order
  key (storage.order_key) the publication time;
- duplicate_of links the article to the earliest article with the same content
  hash, else to one whose fingerprint is within NEAR_DUPLICATE_BITS.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from sqlalchemy import delete, insert, select, union, update
from sqlalchemy.orm import Session

from storage import fingerprint
from storage.db import upsert_insert
from storage.models import ArticleRevision, ArticleSymbol, StoredArticle
from storage.order_key import order_key
from storage.search import index_article

if TYPE_CHECKING:
    from extractors import Article

Outcome = Literal["inserted", "updated", "unchanged"]

CONTENT_FIELDS = (
    "url", "site", "title", "published_at", "published_precision", "source", "source_url", "authors", "editor",
    "original_title", "body", "images", "symbols", "language", "extractor", "warnings",
)  # fmt: skip
_BAND_COLUMNS = ("fp_band0", "fp_band1", "fp_band2", "fp_band3")


def row_values(article: Article) -> dict:
    """An article's CONTENT_FIELDS as the writer stores them (the storage benchmark's bulk fill stores the same)."""
    data = article.to_dict()
    data["published_at"] = article.published_at  # keep the datetime, not its ISO string
    return {name: data[name] for name in CONTENT_FIELDS}


def article_dedup_values(article: Article) -> dict:
    """The article's duplicate-detection columns (content_hash, fingerprint and its bands): the crawl has them
    made in its extraction workers (crawler.ingest), off the process that writes."""
    return dedup_values(article.body)


def dedup_values(body: str) -> dict:
    value = fingerprint.simhash(body)
    return {
        "content_hash": fingerprint.content_hash(body),
        "fingerprint": fingerprint.to_signed(value),
        **dict(zip(_BAND_COLUMNS, fingerprint.bands(value))),
    }


def find_original(session: Session, article_id: int, body: str, values: dict) -> int | None:
    """The earliest earlier article with the same content, else a near duplicate; None if none.

    Each lookup is one equality on an indexed column and nothing else: a filter
    such as "duplicate_of IS NULL" in SQL lets a planner without statistics pick
    that index and scan the table, so it is applied here, in Python.
    """
    if len(fingerprint.normalized(body)) < fingerprint.MIN_LENGTH:
        return None
    columns = (StoredArticle.id, StoredArticle.fingerprint, StoredArticle.duplicate_of)
    same = session.execute(select(*columns).where(StoredArticle.content_hash == values["content_hash"])).all()
    near = session.execute(
        union(*(select(*columns).where(getattr(StoredArticle, band) == values[band]) for band in _BAND_COLUMNS))
    ).all()
    near = [row for row in near if fingerprint.distance(row[1], values["fingerprint"]) <= fingerprint.NEAR_DUPLICATE_BITS]
    for rows in (same, near):
        others = sorted(row for row in rows if row[0] < article_id)  # a copy follows its original
        if others:
            first_id, _, first_original = others[0]
            return first_original or first_id  # link to the original, never to another copy
    return None


def _keep_revision(session: Session, row: StoredArticle, replaced_at: datetime) -> None:
    session.add(
        ArticleRevision(
            article_id=row.id,
            title=row.title,
            body=row.body,
            published_at=row.published_at,
            published_precision=row.published_precision,
            extractor=row.extractor,
            content_hash=row.content_hash,
            fetched_at=row.fetched_at,
            replaced_at=replaced_at,
        )
    )


def _sync_symbols(session: Session, article_id: int, symbols: list[str], key: int) -> None:
    session.execute(delete(ArticleSymbol).where(ArticleSymbol.article_id == article_id))
    if symbols:
        rows = [{"article_id": article_id, "symbol": s, "order_key": key} for s in dict.fromkeys(symbols)]
        session.execute(insert(ArticleSymbol), rows)


def upsert_article(session: Session, article: Article, fetched_at: datetime | None = None) -> Outcome:
    """Insert or update the article keyed on canonical_url (else url). The caller commits."""
    outcome, _ = upsert_article_with_id(session, article, fetched_at)
    return outcome


def upsert_article_with_id(
    session: Session,
    article: Article,
    fetched_at: datetime | None = None,
    *,
    changed_at: datetime | None = None,
    refetch: bool = True,
    dedup: dict | None = None,
) -> tuple[Outcome, int]:
    """upsert_article, also returning the article's row id.

    changed_at is when a change is recorded (updated_at, a revision's replaced_at);
    it defaults to fetched_at. refetch=False (re-extraction of an archived
    fetch) leaves last_fetched_at and the removal mark as they are. dedup: the
    article's dedup_values, when made elsewhere; else they are made here.
    """
    fetched_at = fetched_at or datetime.now(timezone.utc)
    changed_at = changed_at or fetched_at
    key = article.canonical_url or article.url
    values = row_values(article)
    existing = session.execute(select(StoredArticle).where(StoredArticle.canonical_url == key)).scalar_one_or_none()
    if existing is not None and all(getattr(existing, k) == v for k, v in values.items()):
        if refetch:
            existing.last_fetched_at = fetched_at
            existing.removed_at = existing.removed_status = None  # answering again: not removed
        return "unchanged", existing.id
    if existing is not None and (existing.title != values["title"] or existing.body != values["body"]):
        _keep_revision(session, existing, replaced_at=changed_at)
    dedup = dedup if dedup is not None else dedup_values(article.body)
    changed = {**values, **dedup, "fetched_at": fetched_at, "updated_at": changed_at}
    if refetch:  # the page answered: fetched now, and not removed
        changed.update(last_fetched_at=fetched_at, removed_at=None, removed_status=None)
    statement = (
        upsert_insert(session)(StoredArticle)
        .values(canonical_url=key, first_seen_at=fetched_at, **{"last_fetched_at": fetched_at, **changed})
        .on_conflict_do_update(index_elements=[StoredArticle.canonical_url], set_=changed)
        .returning(StoredArticle.id)
    )
    indexed_key = existing.order_key if existing is not None else None  # before the statement changes the row
    article_id = session.execute(statement).scalar_one()
    original = find_original(session, article_id, article.body, changed)
    key = order_key(article_id, values["published_at"])
    if indexed_key != key or existing.title != values["title"] or existing.body != values["body"]:
        index_article(
            session.connection(), article_id, values["title"], values["body"], values["published_at"],
            indexed_key=indexed_key, duplicate_of=original,
        )  # fmt: skip
    else:
        session.execute(update(StoredArticle).where(StoredArticle.id == article_id).values(duplicate_of=original))
    _sync_symbols(session, article_id, article.symbols, key)
    return ("inserted" if existing is None else "updated"), article_id
