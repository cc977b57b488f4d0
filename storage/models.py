"""The schema: SQLAlchemy 2 typed models. Only storage/ knows table layouts.

Times are stored in UTC (UTCDateTime) and come back timezone-aware. Changing a
model means adding an Alembic revision in storage/migrations/versions/.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored as UTC on every dialect.

    SQLite has no time zone type, so naive values are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class StoredArticle(Base):
    """One row per article, unique by canonical URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    site: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # "day" when the page gave a date without a time (published_at is then 00:00 China time), "minute", "second"
    published_precision: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str | None] = mapped_column(String(255))
    source_url: Mapped[str | None] = mapped_column(String(2048))
    authors: Mapped[list] = mapped_column(JSON, default=list)
    editor: Mapped[str | None] = mapped_column(String(255))
    original_title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    images: Mapped[list] = mapped_column(JSON, default=list)
    symbols: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    extractor: Mapped[str] = mapped_column(String(128))
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the fetch that produced this version
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # last change of the content
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # sha256 of the normalised body: exact duplicates share it
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # 64-bit SimHash of character shingles (signed), and its four 16-bit bands for lookup
    fingerprint: Mapped[int | None] = mapped_column(BigInteger)
    fp_band0: Mapped[int | None] = mapped_column(Integer, index=True)
    fp_band1: Mapped[int | None] = mapped_column(Integer, index=True)
    fp_band2: Mapped[int | None] = mapped_column(Integer, index=True)
    fp_band3: Mapped[int | None] = mapped_column(Integer, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    # set when the page later answered 404/410: the article is kept, marked removed
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_status: Mapped[int | None] = mapped_column(Integer)
    # newest-first order (storage.order_key): published second, then id; set by the writer with the row
    order_key: Mapped[int | None] = mapped_column(BigInteger)

    revisions: Mapped[list[ArticleRevision]] = relationship(back_populates="article", cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_articles_order_key", "order_key"),
        Index("ix_articles_site_order_key", "site", "order_key"),
        # every column the health report's counts read (storage.health): they scan the index, not the bodies
        Index("ix_articles_first_seen_at", "first_seen_at", "site", "duplicate_of", "source"),
    )


class ArticleRevision(Base):
    """A previous version of an article, kept when a re-fetch changed its title or body."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_precision: Mapped[str | None] = mapped_column(String(8))
    extractor: Mapped[str] = mapped_column(String(128))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when this old version was fetched
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when a newer version replaced it

    article: Mapped[StoredArticle] = relationship(back_populates="revisions")


class ArticleSymbol(Base):
    """Securities an article marks up, one row each, so readers can query by symbol."""

    __tablename__ = "article_symbols"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_key: Mapped[int | None] = mapped_column(BigInteger)  # the article's, so a symbol's newest come first

    __table_args__ = (Index("ix_article_symbols_symbol_order_key", "symbol", "order_key"),)


class CrawlRun(Base):
    """One crawl: what ran, with which arguments, how it ended."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    spider: Mapped[str] = mapped_column(String(64), index=True)
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    exit_status: Mapped[int | None] = mapped_column(Integer)
    # share of this run's articles with each field, e.g. {"title": 1.0, "published_at": 0.97, "articles": 120}
    coverage: Mapped[dict | None] = mapped_column(JSON)


class Fetch(Base):
    """One HTTP fetch and its provenance: how the URL was found, where the raw response is."""

    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    requested_url: Mapped[str] = mapped_column(String(2048))
    final_url: Mapped[str] = mapped_column(String(2048), index=True)
    status: Mapped[int | None] = mapped_column(Integer)  # None: no response (timeout, reset, …)
    content_type: Mapped[str | None] = mapped_column(String(255))
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    declared_charset: Mapped[str | None] = mapped_column(String(64))
    used_charset: Mapped[str | None] = mapped_column(String(64))
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    body_bytes: Mapped[int | None] = mapped_column(Integer)
    warc_file: Mapped[str | None] = mapped_column(String(512))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    discovered_from: Mapped[str | None] = mapped_column(String(2048))
    discovery: Mapped[dict] = mapped_column(JSON, default=dict)
    outcome: Mapped[str | None] = mapped_column(String(32))  # inserted, updated, unchanged, not_article, …
    error: Mapped[str | None] = mapped_column(Text)


class PageState(Base):
    """What the last fetch of a URL gave: lets a scheduled crawl skip, revalidate or retry it."""

    __tablename__ = "page_states"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)  # as requested
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    # the item's listed modification time when fetched (roll mtime, sitemap lastmod, RSS pubDate, showTime)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32), index=True)  # inserted, unchanged, failed, removed, …
    error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row
    last_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Watermark(Base):
    """Per site and discovery source, the newest item of the last sweep that finished: paging stops below it."""

    __tablename__ = "watermarks"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)  # the site rule's name, "sina"
    # extractors.sources key: "rollapi:153:2516", "jsonlist:<name>", or a feed/sitemap/list URL
    source_key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    newest_listed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the watermark was set
