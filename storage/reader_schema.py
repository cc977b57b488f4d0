"""The reader schema: SQL views whose column names, order and types are promised to readers.

Readers' own SQL (psql, sqlite3, pandas.read_sql, BI tools) reads these views, not the tables: the tables are
ours to reshape in migrations, the views are not.

- ``reader_articles``: one row per stored article;
- ``reader_article_symbols``: one row per (article, security) the article marks up, indexed through its table:
  a symbol lookup that needs no dialect's JSON functions;
- ``reader_fetches``: one row per HTTP fetch, with its outcome and where its raw response is archived.

The promise, for every view in VIEWS, from schema revision 0007 on:
- a column keeps its name, its place and its portable type for good;
- a later revision may add columns, only at the end of a view, each with ``since`` set to that revision;
- a view is never dropped or renamed; a new view may be added.
tests/test_reader_views.py checks that the database's views equal VIEWS after ``upgrade head`` on SQLite and
PostgreSQL, and that VIEWS still starts with what 0007 promised; on PostgreSQL, CREATE OR REPLACE VIEW itself
refuses to rename, retype or drop a column.

Portable types and what the databases report for them (DATABASE_TYPES: PRAGMA table_info's declared type on
SQLite, information_schema.columns.data_type on PostgreSQL):
- ``integer``: INTEGER or BIGINT / integer or bigint;
- ``text``: TEXT or VARCHAR(n) / text or character varying;
- ``timestamp``: an instant in UTC, as stored. PostgreSQL: timestamp with time zone. SQLite: DATETIME, text
  ``'YYYY-MM-DD HH:MM:SS.ffffff'`` in UTC without an offset (SQLite has no time zone type), which sorts and
  compares as time and which SQLite's date functions read as UTC;
- ``json``: a JSON list or object as stored. PostgreSQL: json (``authors->>0``, ``json_array_elements_text``).
  SQLite: JSON, text holding JSON (``json_extract(authors, '$[0]')``, ``json_each``).
NULL is a value of every type: a page that gave no date has a NULL published_at.

Left out, as internals no reader needs: articles' content_hash, fingerprint and fp_band0..3 (duplicate
detection, whose result readers get as duplicate_of), warnings (the extractor's diagnostics); fetches' etag,
last_modified, declared_charset and used_charset (HTTP revalidation and decoding); the search tables and
indexes; crawl_runs, page_states, watermarks and article_revisions (crawl state and history, not news). A
column added later for a reader goes at the end of its view (see above).

Migrations and the views:
- 0007 creates them: ``create_views("0007")``; its downgrade drops them.
- A revision that adds a promised column appends ``Column(name, type, since="00NN")`` to its view here, and
  calls ``create_views("00NN")`` in its upgrade and ``create_views(<its down_revision>)`` in its downgrade.
  Each revision thus makes the views as they were at that revision, whatever VIEWS holds later. On PostgreSQL
  this is CREATE OR REPLACE VIEW, which keeps readers' own views built on ours.
- A revision that rebuilds a table a view reads must set the views aside around it:
  ``with views_set_aside("00NN"): ...`` (00NN: its own revision) drops them and re-creates them afterwards.
  On SQLite that is every ``op.batch_alter_table("articles" | "article_symbols" | "fetches")``: the batch
  copies the table, drops it and renames the copy, and SQLite refuses the rename ("error in view
  reader_articles: no such table: main.articles") while a view reads the table. On PostgreSQL a batch is plain
  ALTER TABLE and needs nothing, except a change of type, a rename or a drop of a column a view reads, which
  PostgreSQL refuses while the view depends on it: pass ``dialects=("sqlite", "postgresql")`` then (that
  DROP VIEW fails loudly if a reader built a view on ours). Plain ``op.add_column`` needs nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic import op

FIRST_REVISION = "0007"  # the revision that made the views


@dataclass(frozen=True)
class Column:
    name: str  # also the column of the view's table it shows
    type: str  # portable: integer, text, timestamp, json
    since: str = FIRST_REVISION  # the schema revision that added it to its view


@dataclass(frozen=True)
class View:
    name: str
    table: str
    columns: tuple[Column, ...]
    since: str = FIRST_REVISION

    def columns_at(self, revision: str) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.since <= revision)

    def select(self, revision: str) -> str:
        names = ", ".join(c.name for c in self.columns_at(revision))
        return f"SELECT {names} FROM {self.table}"


def _columns(spec: str) -> tuple[Column, ...]:
    """ "name type, name type" → columns added by revision 0007."""
    return tuple(Column(*item.split()) for item in spec.split(","))


VIEWS: tuple[View, ...] = (
    View(
        "reader_articles",
        "articles",
        _columns(
            "id integer, url text, canonical_url text, site text, title text, original_title text, body text,"
            " published_at timestamp, published_precision text, source text, source_url text, authors json,"
            " editor text, language text, symbols json, images json, duplicate_of integer, fetched_at timestamp,"
            " first_seen_at timestamp, updated_at timestamp, last_fetched_at timestamp, removed_at timestamp,"
            " removed_status integer, extractor text"
        ),
    ),
    View("reader_article_symbols", "article_symbols", _columns("article_id integer, symbol text")),
    View(
        "reader_fetches",
        "fetches",
        _columns(
            "id integer, crawl_run_id integer, article_id integer, requested_url text, final_url text,"
            " status integer, outcome text, error text, fetched_at timestamp, content_type text,"
            " body_bytes integer, body_sha256 text, warc_file text, warc_offset integer, discovered_from text,"
            " discovery json"
        ),
    ),
)
# What each column holds (the README's "Reader schema" says the same):
# reader_articles: id (stable while the article is stored), url (as fetched), canonical_url (unique), site
#   ("sina", ...), title, original_title (a repost's original headline), body (plain text, paragraphs joined by
#   newlines), published_at with published_precision ("day": the page gave only a date, stored as 00:00 China
#   time; "minute", "second"; NULL: unknown), source and source_url (the outlet credited), authors (JSON list
#   of names), editor, language, symbols (JSON list, e.g. ["sh600000"]), images (JSON list of {"src",
#   "caption"}), duplicate_of (the id of the earliest article with the same or nearly the same body; NULL for
#   an original), fetched_at (the fetch that produced this version), first_seen_at, updated_at (last change of
#   the stored content), last_fetched_at (the page last answered), removed_at and removed_status (the page later
#   answered 404/410: the article is kept), extractor ("site/layout@version").
# reader_fetches: status NULL when no response came (timeout, reset; error says what), outcome ("inserted",
#   "updated", "unchanged", "not_modified", "not_article", "removed", "gone", "failed": see crawler.ingest),
#   article_id the article the fetch stored or matched, body_sha256/body_bytes of the raw response,
#   warc_file/warc_offset where it is archived, discovered_from and discovery (JSON) how its URL was found.

# What a database reports for a view's column → the portable type (see the module docstring).
DATABASE_TYPES = {
    "sqlite": {
        "INTEGER": "integer", "BIGINT": "integer", "TEXT": "text", "VARCHAR": "text", "DATETIME": "timestamp",
        "JSON": "json",
    },
    "postgresql": {
        "integer": "integer", "bigint": "integer", "text": "text", "character varying": "text",
        "timestamp with time zone": "timestamp", "json": "json",
    },
}  # fmt: skip


def views_at(revision: str) -> tuple[View, ...]:
    return tuple(v for v in VIEWS if v.since <= revision)


def create_statements(dialect: str, revision: str) -> list[str]:
    """The SQL that makes (or re-makes) the views as they are at schema revision `revision`."""
    statements = []
    for view in views_at(revision):
        if dialect == "postgresql":  # keeps views that depend on ours; refuses to drop or change a column
            statements.append(f"CREATE OR REPLACE VIEW {view.name} AS {view.select(revision)}")
        elif dialect == "sqlite":
            statements += [f"DROP VIEW IF EXISTS {view.name}", f"CREATE VIEW {view.name} AS {view.select(revision)}"]
        else:
            raise ValueError(f"the reader views are written for sqlite and postgresql, not {dialect}")
    return statements


def drop_statements(revision: str) -> list[str]:
    return [f"DROP VIEW IF EXISTS {view.name}" for view in reversed(views_at(revision))]


def create_views(revision: str) -> None:
    """In a migration: make the views as they are at `revision`."""
    for statement in create_statements(op.get_bind().dialect.name, revision):
        op.execute(statement)


def drop_views(revision: str) -> None:
    """In a migration: drop the views that exist at `revision`."""
    for statement in drop_statements(revision):
        op.execute(statement)


@contextmanager
def views_set_aside(revision: str, dialects: tuple[str, ...] = ("sqlite",)) -> Iterator[None]:
    """In a migration that rebuilds a table the views read (see the module docstring): on the given dialects,
    drop the views before the block and make them as they are at `revision` after it."""
    acting = op.get_bind().dialect.name in dialects
    if acting:
        drop_views(revision)
    yield
    if acting:
        create_views(revision)
