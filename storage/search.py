"""Search: the syntax readers type, the bigram index that serves it, and the snippet of a hit.

Syntax (parse): words separated by spaces all must be found; "an exact phrase" is one term,
spaces included; -word or -"a phrase" excludes articles that contain it. Every character is
plain: %, _, \\ and quotes inside a word are looked for as they are. BadSearch says what is
wrong with a search (an unclosed quote, a lone -, nothing to find, too many or too long terms).

Index (storage/migrations/versions/0008_bigram_search.py, 0009, 0010): every article's title and body as
the tokens of storage.cjk_tokens, in an FTS5 table on SQLite (articles_bigrams, whose rowid is the
article's order key, storage.order_key) and in the tsvector column articles.search_tokens under a GIN
index on PostgreSQL, with every CJK character of the text as a token of its own (a one-character term
is then one token, where a prefix would merge every bigram starting with it; revision 0010) and the
article's China-time day, month and year as extra tokens (postgresql_tokens). The writer
keeps them current (index_article); reindex fills them for rows written around the writer (a bulk
load). A term's tokens select candidates through the index, and a term of several tokens must then be
in the title or the body (case-insensitive for Latin letters); a term that is one token (a Chinese
word of two characters, one character, one Latin word) is in the text wherever its token is, so the
index alone answers it. Both databases return the same articles: those a substring scan finds, except
that a Latin word is matched from its start.

Newest first (newest_matching): SQLite reads the index's matches in rowid order, which is the
readers' order, and stops at `limit`; PostgreSQL's GIN index has no order, so it is asked for one
period at a time, newest first, each period at least four times the last (its own matches are few, and sorted).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    cast,
    column,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from storage.cjk_tokens import character_tokens, index_tokens, normalized, term_tokens
from storage.models import StoredArticle
from storage.order_key import EPOCH, MAX_ID, MAX_SECOND, key_second, order_key
from storage.scope import CHINA, Scope, day_keys

BIGRAM_TABLE = "articles_bigrams"  # SQLite
TOKENS_COLUMN = "search_tokens"  # PostgreSQL: articles.search_tokens
TOKENS_INDEX = "ix_articles_search_tokens"
FTS5_OPTIONS = "tokens, detail=none, columnsize=0, prefix='1'"
UNDATED = "@undated"  # PostgreSQL: the period token of an article without a publication time
UPGRADE_HINT = "run  python -m storage upgrade --database-url URL  (schema revision 0008 adds the search index)"

MAX_SEARCH_TERMS = 16  # far beyond real use, far below what strains a database
MAX_TERM_LENGTH = 64  # characters: a Chinese company name is under 20, a long English word under 30
SNIPPET_CHARS = 30  # on each side of the first hit

_TEXT_COLUMNS = (StoredArticle.title, StoredArticle.body)


class SearchUnavailable(RuntimeError):
    """The database cannot do full-text search; the message names the fix."""


class BadSearch(ValueError):
    """A search that cannot be read or is past the limits; the message says why."""


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...]  # all must be found
    excluded: tuple[str, ...] = ()  # none may be found

    def __bool__(self) -> bool:
        return bool(self.terms)


_PIECE = re.compile(r'(-?)"([^"]*)("?)|(\S+)')


def parse(search: str | None) -> SearchQuery:
    """The terms of a search (see the module docstring); an empty search is an empty SearchQuery."""
    terms: list[str] = []
    excluded: list[str] = []
    for match in _PIECE.finditer((search or "").strip()):
        minus, phrase, closed, word = match.groups()
        if word is not None:
            if word == "-":
                raise BadSearch("a lone '-': write -word to leave out articles containing word")
            if word.startswith("-"):
                excluded.append(word[1:])
            else:
                terms.append(word)
            continue
        if not closed:
            raise BadSearch(f"an unclosed quote: {match.group(0)[:30]!r}… needs its closing \"")
        phrase = " ".join(phrase.split())
        if not phrase:
            raise BadSearch('an empty phrase "": put words between the quotes')
        (excluded if minus else terms).append(phrase)
    terms, excluded = list(dict.fromkeys(terms)), list(dict.fromkeys(excluded))
    if excluded and not terms:
        raise BadSearch("a search needs at least one term to find, not only terms to leave out (-word)")
    if len(terms) + len(excluded) > MAX_SEARCH_TERMS:
        raise BadSearch(f"a search has at most {MAX_SEARCH_TERMS} words, this one has {len(terms) + len(excluded)}")
    for term in terms + excluded:
        if len(term) > MAX_TERM_LENGTH:
            raise BadSearch(f"a search word has at most {MAX_TERM_LENGTH} characters, {term[:20]!r}… has {len(term)}")
    return SearchQuery(tuple(terms), tuple(excluded))


# --- the index ------------------------------------------------------------------------------------------------


def period_tokens(published_at: datetime | None) -> list[str]:
    """PostgreSQL's extra tokens of an article: its China-time day, month and year ("@2026-11-30", "@2026-11",
    "@2026"), or "@undated". No text gives them (text tokens are letters, digits and CJK only)."""
    if published_at is None:
        return [UNDATED]
    day = (EPOCH + timedelta(seconds=key_second(published_at))).astimezone(CHINA).date()
    return [f"@{day:%Y-%m-%d}", f"@{day:%Y-%m}", f"@{day:%Y}"]


def postgresql_tokens(tokens: list[str], published_at: datetime | None) -> list[str]:
    """What PostgreSQL's tsvector of an article holds: its index_tokens, each CJK character, its periods."""
    return tokens + character_tokens(tokens) + period_tokens(published_at)


def sql_period_tokens(column: str) -> str:
    """period_tokens() computed by PostgreSQL for a timestamptz column (a migration filling existing rows)."""
    since, last = EPOCH.isoformat(), (EPOCH + timedelta(seconds=MAX_SECOND)).isoformat()
    local = f"(least(greatest({column}, '{since}'::timestamptz), '{last}'::timestamptz) AT TIME ZONE 'UTC' + interval '8 hours')"
    dated = ", ".join(f"'@' || to_char({local}, '{form}')" for form in ("YYYY-MM-DD", "YYYY-MM", "YYYY"))
    return f"CASE WHEN {column} IS NULL THEN ARRAY['{UNDATED}'] ELSE ARRAY[{dated}] END"


def period_cover(first: date, last: date) -> list[str]:
    """The fewest period tokens whose articles are exactly those of the China-time days first..last."""
    tokens, day = [], first
    while day <= last:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if (day.month, day.day) == (1, 1) and date(day.year, 12, 31) <= last:
            tokens.append(f"@{day:%Y}")
            day = date(day.year + 1, 1, 1)
        elif day.day == 1 and month_end <= last:
            tokens.append(f"@{day:%Y-%m}")
            day = month_end + timedelta(days=1)
        else:
            tokens.append(f"@{day:%Y-%m-%d}")
            day += timedelta(days=1)
    return tokens


def _store_tokens(connection: Connection, rows: list[dict]) -> None:
    """Write index rows and order keys. A row: {"id", "tokens", "published_at", "indexed_key" (the key its index
    row has now, None when not indexed), and any other columns of the article's row to set in the same statement
    (the writer's duplicate_of, so that PostgreSQL writes the row once, not twice)}."""
    also = [name for name in rows[0] if name not in ("id", "tokens", "published_at", "indexed_key")]
    setting = "".join(f", {name} = :{name}" for name in also)
    keyed = [{**row, "order_key": order_key(row["id"], row["published_at"])} for row in rows]
    values = [{"id": row["id"], "order_key": row["order_key"], **{name: row[name] for name in also}} for row in keyed]
    if connection.dialect.name == "postgresql":
        for value, row in zip(values, keyed):
            value["tokens"] = postgresql_tokens(row["tokens"], row["published_at"])
        connection.execute(
            text(
                f"UPDATE articles SET {TOKENS_COLUMN} = array_to_tsvector(CAST(:tokens AS text[])), "
                f"order_key = :order_key{setting} WHERE id = :id"
            ),
            values,
        )
    else:
        connection.execute(text(f"UPDATE articles SET order_key = :order_key{setting} WHERE id = :id"), values)
        stale = [{"key": row["indexed_key"]} for row in keyed if row.get("indexed_key") is not None]
        if stale:
            connection.execute(text(f"DELETE FROM {BIGRAM_TABLE} WHERE rowid = :key"), stale)
        connection.execute(
            text(f"INSERT INTO {BIGRAM_TABLE}(rowid, tokens) VALUES (:key, :tokens)"),
            [{"key": row["order_key"], "tokens": " ".join(row["tokens"])} for row in keyed],
        )
    connection.execute(
        text("UPDATE article_symbols SET order_key = :key WHERE article_id = :id"),
        [{"key": row["order_key"], "id": row["id"]} for row in keyed],
    )


def index_article(
    connection: Connection,
    article_id: int,
    title: str | None,
    body: str | None,
    published_at: datetime | None,
    *,
    indexed_key: int | None = None,
    **also: object,
) -> int:
    """(Re)index one article's title and body and set its order key (returned), setting `also` columns of its row
    too; indexed_key: the order key it had when last indexed (None: new). The caller commits."""
    row = {"id": article_id, "tokens": index_tokens(title, body), "published_at": published_at, "indexed_key": indexed_key}
    _store_tokens(connection, [{**row, **also}])
    return order_key(article_id, published_at)


def reindex(connection: Connection, article_ids: Iterable[int] | None = None, batch: int = 1000) -> int:
    """Index the given articles (None: every article not indexed yet); returns how many were indexed.

    For rows written around the writer (a bulk load, a migration): reads titles and bodies in batches.
    """
    if article_ids is None:
        if connection.dialect.name == "postgresql":
            missing = text(f"SELECT id FROM articles WHERE {TOKENS_COLUMN} IS NULL ORDER BY id")
        else:
            missing = text(
                f"SELECT id FROM articles WHERE order_key IS NULL OR order_key NOT IN (SELECT rowid FROM {BIGRAM_TABLE}) "
                "ORDER BY id"
            )
        article_ids = [row[0] for row in connection.execute(missing)]
    ids = list(article_ids)
    a = StoredArticle
    for start in range(0, len(ids), batch):
        rows = connection.execute(
            select(a.id, a.title, a.body, a.published_at, a.order_key).where(a.id.in_(ids[start : start + batch]))
        ).all()
        if rows:
            _store_tokens(
                connection,
                [
                    {"id": i, "tokens": index_tokens(t, b), "published_at": p, "indexed_key": k}
                    for i, t, b, p, k in rows
                ],
            )
    return len(ids)


def require_index(connection: Connection) -> None:
    """SearchUnavailable, naming the fix, when the database has no bigram index."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        found = text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name")
        if connection.execute(found, {"name": BIGRAM_TABLE}).first() is None:
            raise SearchUnavailable(f"this database has no search index {BIGRAM_TABLE}: {UPGRADE_HINT}")
        return
    if dialect == "postgresql":
        found = text(  # the catalog, not information_schema: this runs before every search, and is 20 times faster
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('articles') AND attname = :name AND NOT attisdropped"
        )
        if connection.execute(found, {"name": TOKENS_COLUMN}).first() is not None:
            return
        if connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is None:
            raise SearchUnavailable(  # the way up passes revision 0003, which needs it
                "this database has no search index, and upgrading it needs the pg_trgm extension: ask the DBA to "
                f"run  CREATE EXTENSION pg_trgm;  in it, then {UPGRADE_HINT}"
            )
        raise SearchUnavailable(f"this database has no search column articles.{TOKENS_COLUMN}: {UPGRADE_HINT}")
    raise SearchUnavailable(f"full-text search is implemented for SQLite and PostgreSQL, not {dialect}")


# --- conditions -------------------------------------------------------------------------------------------------


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(term: str, dialect: str) -> ColumnElement[bool]:
    """Title or body contains the term: LIKE, case-insensitive for Latin letters on both databases (ILIKE on
    PostgreSQL for a term with letter case; SQLite's LIKE ignores ASCII case)."""
    pattern = _like_pattern(term)
    caseless = term.lower() == term.upper()
    if dialect == "postgresql":
        return or_(*(c.like(pattern) if caseless else c.ilike(pattern) for c in _TEXT_COLUMNS))
    return or_(*(c.like(pattern, escape="\\") for c in _TEXT_COLUMNS))


def index_query(search: SearchQuery, dialect: str) -> str | None:
    """What the index is asked, every term's tokens ANDed (None: no term has a token, "%" alone): an FTS5
    expression on SQLite, a tsquery on PostgreSQL (no parser, no locale: the tokens as they are)."""
    every_character = dialect == "postgresql"  # its tokens hold each CJK character (postgresql_tokens)
    tokens = [token for term in search.terms for token in term_tokens(term, every_character=every_character)]
    if not tokens:
        return None
    if dialect == "postgresql":
        return " & ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in dict.fromkeys(tokens))
    return " AND ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in dict.fromkeys(tokens))  # no quotes in tokens


def text_checks(search: SearchQuery, dialect: str) -> list[ColumnElement[bool]]:
    """What the index cannot answer: a term of several tokens found as it is, an excluded term not found."""
    checks: list[ColumnElement[bool]] = []
    for term in search.terms:
        if [t.text for t in term_tokens(term)] != [normalized(term)]:  # a term that is one token (央行, 降, iphone)
            # is in the text wherever its token is; any other must be found as it is
            checks.append(contains(term, dialect))  # a term of symbols only ("%") has no tokens: a scan
    return checks + [not_(contains(term, dialect)) for term in search.excluded]


_bigrams = table(BIGRAM_TABLE, column("rowid"), column(BIGRAM_TABLE))
_tokens = literal_column(f"articles.{TOKENS_COLUMN}")


def newest_matching(session: Session, scope: Scope, search: SearchQuery, limit: int) -> list[StoredArticle]:
    """The newest `limit` articles of the scope that match the search, in order_key order (storage.order_key)."""
    require_index(session.connection())
    if session.get_bind().dialect.name == "postgresql":
        return _newest_matching_postgresql(session, scope, search, limit)
    asked, checks = index_query(search, "sqlite"), text_checks(search, "sqlite")
    if asked is None:  # nothing for the index: the text checks alone, newest first
        return list(session.execute(scope.newest().where(*checks).limit(limit)).scalars())
    # The index's rowid is the order key: its matches are read newest first, each article found by its id (the
    # key's low bits), and reading stops at `limit` articles that pass every other condition.
    statement = (
        select(StoredArticle)
        .select_from(_bigrams)
        .join(StoredArticle, StoredArticle.id == _bigrams.c.rowid.op("&")(MAX_ID))
        .where(_bigrams.c[BIGRAM_TABLE].op("MATCH")(literal(asked)), *scope.conditions(_bigrams.c.rowid, symbol_exists=True), *checks)
        .order_by(_bigrams.c.rowid.desc())
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


FIRST_PERIOD_ARTICLES = 2000  # about what PostgreSQL's first period holds: a term in 1 article of 40 fills 50 rows


def _first_span(session: Session, days: int) -> int:
    """Days of the first period: about FIRST_PERIOD_ARTICLES articles at the store's mean rate (the planner's
    count of articles; every day at once when it has none), so that a small store is asked once or twice, not
    once per doubling of a day."""
    articles = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('articles')")) or 0
    if articles <= 0:  # never counted (-1): not analyzed yet
        return days
    return max(1, min(days, math.ceil(FIRST_PERIOD_ARTICLES * days / articles)))


def _next_span(span: int, days_read: int, found: int, wanted: int) -> int:
    """Days of the next period: four times the last, or more where the matches so far, at their rate, need more
    days to make up the `wanted` still missing (twice as many, as rates vary; none found yet counts as half a
    match). Each statement walks the posting list of the rarest term whatever the period, so a rare term or
    pair is best asked in two or three statements, not seven."""
    return max(span * 4, math.ceil(2 * days_read * wanted / max(found, 0.5)))


def _newest_matching_postgresql(session: Session, scope: Scope, search: SearchQuery, limit: int) -> list[StoredArticle]:
    """GIN cannot give its matches in order, and sorting every match of a common term is slow: ask it for one
    period at a time, newest first (each article's period tokens), each period longer than the last
    (_next_span), until `limit` articles are found; then the undated ones, if the scope has room for them."""
    asked, checks = index_query(search, "postgresql"), text_checks(search, "postgresql")
    matching = scope.newest().where(*checks)
    if asked is None:
        return list(session.execute(matching.limit(limit)).scalars())

    def read(periods: str, low: int | None = None, high: int | None = None) -> list[StoredArticle]:
        statement = matching.where(_tokens.op("@@")(cast(literal(f"({asked}) & ({periods})"), TSQUERY)))
        if low is not None:
            statement = statement.where(StoredArticle.order_key >= low, StoredArticle.order_key < high)
        return list(session.execute(statement.limit(limit - len(found))).scalars())

    found: list[StoredArticle] = []
    days = scope.dated_days(session)
    if days is not None:
        first, end = days
        span, days_read = _first_span(session, (end - first).days + 1), 0
        while end >= first and len(found) < limit:
            start = first if (end - first).days < span else end - timedelta(days=span - 1)
            found += read(" | ".join(f"'{t}'" for t in period_cover(start, end)), *day_keys(start, end))
            days_read += (end - start).days + 1
            end, span = start - timedelta(days=1), _next_span(span, days_read, len(found), limit - len(found))
    if len(found) < limit and scope.takes_undated:
        found += read(f"'{UNDATED}'")
    return found


def snippet(record: dict, search: SearchQuery, width: int = SNIPPET_CHARS) -> str | None:
    """The body around the first hit of the first term found in it (else the title), with … where cut."""
    for field in ("body", "title"):
        value = record.get(field) or ""
        folded = value.lower()
        hits = [(folded.find(term.lower()), term) for term in search.terms if term.lower() in folded]
        if hits:
            at, term = min(hits)
            start, end = max(0, at - width), min(len(value), at + len(term) + width)
            text_ = " ".join(value[start:end].split())
            return ("…" if start else "") + text_ + ("…" if end < len(value) else "")
    return None


__all__ = [
    "BIGRAM_TABLE", "BadSearch", "SearchQuery", "SearchUnavailable", "contains", "index_article", "index_query",
    "newest_matching", "parse", "period_tokens", "postgresql_tokens", "reindex", "require_index", "snippet", "text_checks",
]  # fmt: skip
