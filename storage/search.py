"""Search: the syntax readers type, the bigram index that serves it, and the snippet of a hit.

Syntax (parse): words separated by spaces all must be found; "an exact phrase" is one term,
spaces included; -word or -"a phrase" excludes articles that contain it. Every character is
plain: %, _, \\ and quotes inside a word are looked for as they are. BadSearch says what is
wrong with a search (an unclosed quote, a lone -, nothing to find, too many or too long terms).

Index (storage/migrations/versions/0008_bigram_search.py): every article's title and body as
the tokens of storage.cjk_tokens, in an FTS5 table on SQLite (articles_bigrams, rowid = the
article's id) and in the tsvector column articles.search_tokens under a GIN index on
PostgreSQL. The writer keeps them current (index_article); reindex fills them for rows written
around the writer (a bulk load). A term's tokens select candidates through the index, and a
term of several tokens must then be in the title or the body (case-insensitive for Latin
letters); a term that is one token (a Chinese word of two characters, one character, one
Latin word) is in the text wherever its token is, so the index alone answers it. Both databases
return the same articles: those a substring scan finds, except that a Latin word is matched
from its start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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

from storage.cjk_tokens import Token, index_tokens, normalized, term_tokens
from storage.models import StoredArticle

BIGRAM_TABLE = "articles_bigrams"  # SQLite
TOKENS_COLUMN = "search_tokens"  # PostgreSQL: articles.search_tokens
TOKENS_INDEX = "ix_articles_search_tokens"
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


def _store_tokens(connection: Connection, rows: list[dict]) -> None:
    """Write index rows: {"id", "tokens", and any other columns of the article's row to set in the same
    statement (the writer's duplicate_of, so that PostgreSQL writes the row once, not twice)}."""
    also = [name for name in rows[0] if name not in ("id", "tokens")]
    if connection.dialect.name == "postgresql":
        setting = "".join(f", {name} = :{name}" for name in also)
        connection.execute(
            text(f"UPDATE articles SET {TOKENS_COLUMN} = array_to_tsvector(CAST(:tokens AS text[])){setting} WHERE id = :id"),
            rows,
        )
        return
    if also:
        setting = ", ".join(f"{name} = :{name}" for name in also)
        connection.execute(text(f"UPDATE articles SET {setting} WHERE id = :id"), rows)
    connection.execute(text(f"DELETE FROM {BIGRAM_TABLE} WHERE rowid = :id"), [{"id": row["id"]} for row in rows])
    connection.execute(
        text(f"INSERT INTO {BIGRAM_TABLE}(rowid, tokens) VALUES (:id, :tokens)"),
        [{"id": row["id"], "tokens": " ".join(row["tokens"])} for row in rows],
    )


def index_article(
    connection: Connection, article_id: int, title: str | None, body: str | None, **also: object
) -> None:
    """(Re)index one article's title and body, setting `also` columns of its row too; the caller commits."""
    _store_tokens(connection, [{"id": article_id, "tokens": index_tokens(title, body), **also}])


def reindex(connection: Connection, article_ids: Iterable[int] | None = None, batch: int = 1000) -> int:
    """Index the given articles (None: every article not indexed yet); returns how many were indexed.

    For rows written around the writer (a bulk load, a migration): reads titles and bodies in batches.
    """
    if article_ids is None:
        if connection.dialect.name == "postgresql":
            missing = text(f"SELECT id FROM articles WHERE {TOKENS_COLUMN} IS NULL ORDER BY id")
        else:
            missing = text(f"SELECT id FROM articles WHERE id NOT IN (SELECT rowid FROM {BIGRAM_TABLE}) ORDER BY id")
        article_ids = [row[0] for row in connection.execute(missing)]
    ids = list(article_ids)
    for start in range(0, len(ids), batch):
        rows = connection.execute(
            select(StoredArticle.id, StoredArticle.title, StoredArticle.body).where(
                StoredArticle.id.in_(ids[start : start + batch])
            )
        ).all()
        if rows:
            _store_tokens(connection, [{"id": i, "tokens": index_tokens(t, b)} for i, t, b in rows])
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
        found = text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'articles' AND column_name = :name"
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


def _fts5_expression(tokens: list[Token]) -> str:
    return " AND ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in tokens)  # tokens hold no quotes


def _tsquery(tokens: list[Token]) -> str:
    return " & ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in tokens)


_bigrams = table(BIGRAM_TABLE, column("rowid"), column(BIGRAM_TABLE))


def _indexed(tokens: list[Token], dialect: str) -> ColumnElement[bool]:
    """Rows whose index holds every token (each term its own bound parameter)."""
    if dialect == "postgresql":  # a tsquery literal: no parser, no locale, the tokens as they are
        return literal_column(f"articles.{TOKENS_COLUMN}").op("@@")(cast(literal(_tsquery(tokens)), TSQUERY))
    matching = select(_bigrams.c.rowid).where(_bigrams.c[BIGRAM_TABLE].op("MATCH")(literal(_fts5_expression(tokens))))
    return StoredArticle.id.in_(matching)


def conditions(connection: Connection, search: SearchQuery) -> list[ColumnElement[bool]]:
    """Every term found (through the index, then as a substring), no excluded term found."""
    require_index(connection)
    dialect = connection.dialect.name
    found: list[ColumnElement[bool]] = []
    for term in search.terms:
        tokens = term_tokens(term)
        if tokens:
            found.append(_indexed(tokens, dialect))
        if [t.text for t in tokens] != [normalized(term)]:  # a term that is one token (央行, 降, iphone) is in
            # the text wherever its token is: no check needed; any other must be found as it is
            found.append(contains(term, dialect))  # a term of symbols only ("%") has no tokens: a scan
    found += [not_(contains(term, dialect)) for term in search.excluded]
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
    "BIGRAM_TABLE", "BadSearch", "SearchQuery", "SearchUnavailable", "conditions", "contains", "index_article",
    "parse", "reindex", "require_index", "snippet",
]  # fmt: skip
