"""Readers' API: plain functions returning plain dicts, rendered with offsets.

- ``query``: articles filtered by site, China-time dates, symbol and full-text
  search, newest published first; at most ``limit`` (DEFAULT_LIMIT, 100, unless
  given; ``limit=None``: every matching article);
- ``stats``: counts per site and per day, the last crawl run, field coverage;
- ``iter_articles`` / ``count_articles``: the whole store (or a site's, a period's), for the export;
- ``frame``: ``query``'s articles as a pandas DataFrame (storage.frames; pandas is
  a readers' extra, imported when ``frame`` is first used).

``since``/``until`` take a ``date`` (that whole China-time day), a timezone-aware
``datetime`` (that instant) or an ISO 8601 string of either ("2019-01-01",
"2019-01-01T09:30:00+08:00"); anything else is a ValueError saying so. ``site``
is a site rule's name, "generic" (pages no rule handles) or a site the store
holds; another is UnknownSite (a ValueError listing the known sites). ``symbol``
is read by storage.scope.symbol_candidates: "600519" finds sh600519, sz600519
and bj600519; one that cannot be a symbol is BadSymbol (a ValueError saying how
to write one).

Search (storage.search) needs schema revision 0008 (storage/migrations): a
bigram index, an FTS5 table on SQLite and a GIN-indexed tsvector on PostgreSQL.
Without it, ``query`` with ``search`` raises SearchUnavailable, whose message
names the fix.

Limits, checked before the database is touched (each a ValueError naming the
limit): a search has at most MAX_SEARCH_TERMS terms of at most MAX_TERM_LENGTH
characters (BadSearch; every term is an index and a LIKE condition, and thousands
of them kept PostgreSQL planning for minutes, deaf to cancels); dates lie from
FIRST_DAY to LAST_DAY (DateOutOfRange); a whole-number ``limit`` is at most
MAX_LIMIT (None asks for everything, held in memory: the export streams it
instead); ``stats`` counts at most MAX_STATS_DAYS days. Statement time limits
are the engine's (storage.db.reader_engine).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, and_, case, exists, func, select
from sqlalchemy.orm import Session

from storage import search as search_index
from storage.models import ArticleSymbol, CrawlRun, StoredArticle
from storage.order_key import FIRST_DATED_KEY, key_bound_is_exact, keys_before, keys_from, keys_through
from storage.scope import (  # noqa: F401 (the readers' API names the errors)
    CHINA,
    BadSymbol,
    Scope,
    UnknownSite,
    check_site,
    midnight,
    symbol_candidates,
)
from storage.search import (  # noqa: F401 (the readers' API names them)
    MAX_SEARCH_TERMS,
    MAX_TERM_LENGTH,
    BadSearch,
    SearchQuery,
    SearchUnavailable,
)
from storage.search import parse as parse_search

if TYPE_CHECKING:
    from storage.frames import frame  # noqa: F401 (loaded by __getattr__ below)

logger = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    """``storage.query.frame`` is storage.frames.frame, loaded when first asked for (storage.frames imports
    this module; pandas is imported when frame is called)."""
    if name == "frame":
        from storage.frames import frame

        return frame
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Article times are shown in China Standard Time, the sites' own zone; storage is UTC.
DISPLAY_TZ = CHINA

EXPORT_FIELDS = (
    "url", "canonical_url", "title", "published_at", "published_precision", "source", "source_url", "authors",
    "editor", "original_title", "body", "images", "symbols", "language", "site", "fetched_at", "extractor",
    "removed_at", "removed_status",  # set when the page later answered 404/410; the article is kept
    "id",  # the row's id: stable while the article is stored, what duplicate_of names
    "duplicate_of",  # the id of the earliest article with the same or nearly the same body; None: an original
    "first_seen_at",  # when the article was first stored (UTC)
)  # fmt: skip
INTEGER_FIELDS = ("removed_status", "id", "duplicate_of")
UTC_FIELDS = ("fetched_at", "removed_at", "first_seen_at")  # published_at is in China time (DISPLAY_TZ)
COVERAGE_FIELDS = ("title", "body", "published_at", "source", "editor", "authors")

# Far beyond real use, far below what strains a database (see the module docstring).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # any news date; midnight China time fits every driver
MAX_LIMIT = 1_000_000
DEFAULT_LIMIT = 100  # query's and frame's, and python -m storage query's
EVERY = 2**62  # "no limit" where a number is needed: fits SQLite's and PostgreSQL's 64-bit LIMIT
MAX_STATS_DAYS = 3660  # ten years of per-day counts
EXPORT_BATCH = 500  # articles per statement of iter_articles
Bound = date | datetime | str | None  # since/until: see as_bound


class DateOutOfRange(ValueError):
    """A date bound outside FIRST_DAY … LAST_DAY."""


def _iso(value: datetime | None, tz: timezone) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def article_record(row: StoredArticle) -> dict:
    """One stored article as the export's JSON object."""
    record = {name: getattr(row, name) for name in EXPORT_FIELDS}
    record["published_at"] = _iso(row.published_at, DISPLAY_TZ)
    for name in UTC_FIELDS:
        record[name] = _iso(record[name], timezone.utc)
    return record


def iter_articles(
    engine: Engine,
    *,
    site: str | None = None,
    since: Bound = None,
    until: Bound = None,
    batch_size: int = EXPORT_BATCH,
) -> Iterator[dict]:
    """Every stored article (of `site`, published within since … until), in batches of `batch_size`.

    since/until as ``query`` takes them (a date bound leaves out undated articles); UnknownSite for a
    site neither the rules nor the store know, ValueError for a bound that is not a date. Without a
    bound, oldest row first (by id); with one, oldest published first (by the order key, whose index
    holds the period). Each batch is a statement of its own (the rows after the last one seen): the
    engine's statement timeout bounds each batch, not the whole export, which may run for hours. No
    article comes twice; one written while the export runs may or may not be in it.
    """
    scope = _scope(site, since, until, None)
    by_key = scope.low is not None or scope.high is not None
    walk = StoredArticle.order_key if by_key else StoredArticle.id
    statement = select(StoredArticle).where(*scope.conditions(StoredArticle.order_key)).order_by(walk)
    statement = statement.limit(batch_size)
    with Session(engine) as session:
        if site:
            check_site(session, site)
        last = None
        while True:
            batch = statement if last is None else statement.where(walk > last)
            rows = session.execute(batch).scalars().all()
            for row in rows:
                yield article_record(row)
            if len(rows) < batch_size:
                return
            last = rows[-1].order_key if by_key else rows[-1].id
            session.expunge_all()  # the session would otherwise keep every exported row


def count_articles(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(StoredArticle)) or 0


# --- query -------------------------------------------------------------------------------------------------------


def check_day(day: date, name: str = "date") -> date:
    """The day, if within FIRST_DAY … LAST_DAY; else DateOutOfRange naming the range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DateOutOfRange(f"{name} {day.isoformat()} is out of range: give a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def day_start(day: date) -> datetime:
    """Midnight of a China-time day, as an aware datetime; DateOutOfRange outside FIRST_DAY … LAST_DAY."""
    return midnight(check_day(day))


_BOUND_FORMS = (
    "give a date (that whole day in China time), a timezone-aware datetime, or an ISO 8601 string of either, "
    "e.g. '2019-01-01' or '2019-01-01T09:30:00+08:00'"
)


def as_bound(value: object, name: str) -> date | datetime | None:
    """since/until as query takes them: a date, an aware datetime, or an ISO 8601 string of either (a
    string of a day, "2019-01-01", is that date). ValueError for anything else, for a naive datetime
    and for a day outside FIRST_DAY … LAST_DAY (DateOutOfRange)."""
    if value is None:
        return None
    bound = value
    if isinstance(value, str):
        text = value.strip()
        try:
            bound = date.fromisoformat(text)
        except ValueError:
            try:
                bound = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{name}={value!r} is not a date or a time: {_BOUND_FORMS}") from None
    elif not isinstance(value, date):
        raise ValueError(f"{name}={value!r} (of type {type(value).__name__}) is not a date or a time: {_BOUND_FORMS}")
    if not isinstance(bound, datetime):
        return check_day(bound, name)
    if bound.tzinfo is None or bound.utcoffset() is None:
        raise ValueError(f"{name}={value!r} is a naive datetime: give it a time zone (e.g. +08:00), or pass a date")
    try:
        day = bound.astimezone(DISPLAY_TZ).date()
    except OverflowError:  # within hours of datetime.min or .max
        day = date.min if bound.year == 1 else date.max
    check_day(day, name)
    return bound


def _scope(site: str | None, since: Bound, until: Bound, symbol: str | None) -> Scope:
    """The query's site, period and symbol as order-key bounds (storage.scope), with published_at compared too
    where a key bound is a superset (storage.order_key). A date bound leaves out undated articles."""
    since, until = as_bound(since, "since"), as_bound(until, "until")
    low = high = None
    exact: list[ColumnElement[bool]] = []
    published = StoredArticle.published_at
    if since is not None:
        start = since if isinstance(since, datetime) else midnight(since)
        low = keys_from(start)
        if not key_bound_is_exact(start):
            exact.append(published >= start)
    if until is not None:
        if isinstance(until, datetime):  # inclusive: a stored time may pass it by a fraction of a second
            high = keys_through(until)
            exact.append(published <= until)
        else:
            end = midnight(until + timedelta(days=1))
            high = keys_before(end)
            if not key_bound_is_exact(end):
                exact.append(published < end)
    if (since is not None or until is not None) and low is None:
        low = FIRST_DATED_KEY
    return Scope(site=site or None, low=low, high=high, exact=tuple(exact), symbol=symbol or None)


def _check_limit(limit: object) -> int:
    """A whole-number limit as a number of rows; None: every row (EVERY)."""
    if limit is None:
        return EVERY
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(
            f"limit must be a whole number from 1 to {MAX_LIMIT:,}, or None for every article (the export "
            f"streams everything), not {limit!r}"
        )
    return limit


def _stored_symbols(session: Session, candidates: tuple[str, ...]) -> list[str]:
    """The candidates some article has: one indexed look-up each, in one statement."""
    if len(candidates) == 1:
        return list(candidates)
    held = session.execute(select(*(exists().where(ArticleSymbol.symbol == s) for s in candidates))).one()
    return [symbol for symbol, present in zip(candidates, held) if present]


def _newest(rows: list[list[StoredArticle]], limit: int) -> list[StoredArticle]:
    """The newest `limit` of several newest-first lists (each a symbol's), each article once: the newest
    `limit` of a union are among the newest `limit` of each part."""
    if len(rows) == 1:
        return rows[0]
    merged = {row.id: row for part in rows for row in part}.values()
    return sorted(merged, key=lambda row: (row.order_key is not None, row.order_key or 0), reverse=True)[:limit]


def query(
    engine: Engine,
    *,
    site: str | None = None,
    since: Bound = None,
    until: Bound = None,
    symbol: str | None = None,
    search: str | SearchQuery | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[dict]:
    """Stored articles as export records, newest published first (to the second, then newest stored first;
    undated articles last), at most `limit` (default DEFAULT_LIMIT, 100; None: every matching article).

    site: a site rule's name ("sina"), "generic", or a site the store holds; else UnknownSite listing the
    known sites. since/until: a date is that whole day in China time (UTC+8), so until is inclusive of
    its day; a datetime must be timezone-aware and bounds the instant (both inclusive); an ISO 8601
    string is read as either ("2019-01-01", "2019-01-01T09:30:00+08:00"); anything else is a ValueError.
    Articles without a publication time match no date bound. symbol: as stored, "sh600000", or a form
    storage.scope.symbol_candidates reads: a bare A-share code ("600519") finds it on any of sh, sz, bj;
    BadSymbol for one that cannot be a symbol.
    search: the syntax of storage.search.parse: words that must all be in the title or
    the body, "exact phrases", -excluded words; served by the bigram index
    (revision 0008) on both databases, with the same results. Records of a search
    carry a "snippet" around the first hit. Raises SearchUnavailable when the
    database lacks the index; before touching the database, BadSearch for a search
    that cannot be read or is past the limits, DateOutOfRange for a bound
    outside FIRST_DAY … LAST_DAY, ValueError on a naive datetime, a bound that is not a date, or a
    limit that is not None or a whole number from 1 to MAX_LIMIT.
    """
    rows_wanted = _check_limit(limit)
    wanted = search if isinstance(search, SearchQuery) else parse_search(search)
    symbols = symbol_candidates(symbol) if symbol else None
    scope = _scope(site, since, until, None)
    with Session(engine) as session:
        if site:
            check_site(session, site)
        scopes = [scope] if symbols is None else [
            Scope(scope.site, scope.low, scope.high, scope.exact, s) for s in _stored_symbols(session, symbols)
        ]  # fmt: skip
        found = []
        for part in scopes:
            if wanted:
                found.append(search_index.newest_matching(session, part, wanted, rows_wanted))
            else:
                found.append(list(session.execute(part.newest().limit(limit)).scalars()))
        records = [article_record(row) for row in _newest(found, rows_wanted)] if found else []
    if wanted:
        for record in records:
            record["snippet"] = search_index.snippet(record, wanted)
    return records


# --- stats -------------------------------------------------------------------------------------------------------


def china_day(value: ColumnElement, dialect: str) -> ColumnElement[str]:
    """The China-time calendar day of a stored UTC time, as 'YYYY-MM-DD'."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", value) + timedelta(hours=8), "YYYY-MM-DD")
    return func.date(value, "+8 hours")  # SQLite stores naive UTC text


def _present(field: str, dialect: str) -> ColumnElement[bool]:
    """The field has a value: not NULL and not empty (authors: a non-empty JSON array)."""
    value = getattr(StoredArticle, field)
    if field == "published_at":
        return value.is_not(None)
    if field != "authors":
        return and_(value.is_not(None), value != "")
    if dialect == "postgresql":
        return case((func.json_typeof(value) == "array", func.json_array_length(value)), else_=0) > 0
    return func.json_array_length(value) > 0  # 0 for anything but an array


def _per_site(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(StoredArticle.site, func.count()).group_by(StoredArticle.site).order_by(StoredArticle.site)
    )
    return {site: count for site, count in rows}


def _per_day(session: Session, first: date, last: date) -> dict[str, dict[str, int]]:
    """{day: {site: articles}} for every day from last back to first, empty days included."""
    published = StoredArticle.published_at
    day = china_day(published, session.get_bind().dialect.name).label("day")
    rows = session.execute(
        select(day, StoredArticle.site, func.count())
        .where(published >= midnight(first), published < midnight(last + timedelta(days=1)))
        .group_by(day, StoredArticle.site)
        .order_by(day, StoredArticle.site)
    )
    days = {(last - timedelta(days=n)).isoformat(): {} for n in range((last - first).days + 1)}
    for day_text, site, count in rows:
        days.setdefault(str(day_text), {})[site] = count
    return days


def _last_run(session: Session) -> dict | None:
    run = session.execute(
        select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1)
    ).scalar_one_or_none()
    if run is None:
        return None
    return {
        "spider": run.spider,
        "started_at": _iso(run.started_at, timezone.utc),
        "finished_at": _iso(run.finished_at, timezone.utc),
        "finish_reason": run.finish_reason,
        "exit_status": run.exit_status,
    }


def _coverage(session: Session) -> dict[str, dict[str, float | int]]:
    """{site: {"articles": n, field: share of its articles with the field}}; shares rounded to 0.001."""
    dialect = session.get_bind().dialect.name
    counts = [func.count(case((_present(field, dialect), 1))).label(field) for field in COVERAGE_FIELDS]
    rows = session.execute(
        select(StoredArticle.site, func.count().label("articles"), *counts)
        .group_by(StoredArticle.site)
        .order_by(StoredArticle.site)
    )
    coverage = {}
    for row in rows:
        total = row.articles
        coverage[row.site] = {"articles": total} | {f: round(getattr(row, f) / total, 3) for f in COVERAGE_FIELDS}
    return coverage


def stats(engine: Engine, *, days: int = 7, today: date | None = None) -> dict:
    """What the store holds.

    - articles: the total; per_site: {site: articles};
    - per_day: {"YYYY-MM-DD": {site: articles}} by China-time publication day,
      for the `days` days ending `today` (default: today in China), newest first;
    - last_run: the latest crawl run (spider, started_at, finished_at,
      finish_reason, exit_status; times in UTC), or None;
    - coverage: {site: {"articles": n, "title": share, ...}}, the share of the
      site's articles with a non-empty title, body, published_at, source,
      editor and authors.

    ValueError for days outside 1 … MAX_STATS_DAYS, DateOutOfRange for a
    period reaching outside FIRST_DAY … LAST_DAY.
    """
    if not 1 <= days <= MAX_STATS_DAYS:
        raise ValueError(f"days must be from 1 to {MAX_STATS_DAYS}, not {days}")
    last = check_day(today or datetime.now(DISPLAY_TZ).date(), "today")
    first = check_day(last - timedelta(days=days - 1), "the first day counted")
    with Session(engine) as session:
        per_site = _per_site(session)
        return {
            "articles": sum(per_site.values()),
            "per_site": per_site,
            "days": {"first": first.isoformat(), "last": last.isoformat()},
            "per_day": _per_day(session, first, last),
            "last_run": _last_run(session),
            "coverage": _coverage(session),
        }
