"""bigram search: Chinese search of any term length, indexed on both databases

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Trigrams (revision 0003) cannot index a two-character term, and most Chinese words
have two characters. This revision indexes every article's title and body as the
tokens of storage.cjk_tokens (overlapping character bigrams, a run's last character,
Latin words), computed in Python for the existing rows, data kept:

- SQLite: the FTS5 table ``articles_bigrams`` (rowid = the article's id; detail=none,
  a one-character prefix index), replacing 0003's trigram table and its triggers;
- PostgreSQL: the column ``articles.search_tokens`` (tsvector, filled from the token
  array without any text parser or locale) under a GIN index, replacing 0003's
  trigram indexes (the pg_trgm extension is left to the DBA).

The writer keeps the index current (storage.search.index_article). Downgrade gives
0003's trigram search back, rebuilt from the rows.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from storage.cjk_tokens import index_tokens

BIGRAM_TABLE = "articles_bigrams"
TOKENS_COLUMN = "search_tokens"
TOKENS_INDEX = "ix_articles_search_tokens"

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _revision_0003():
    """0003's module, for its trigram table, triggers and indexes (a file name that is no identifier)."""
    path = Path(__file__).with_name("0003_add_fulltext_search.py")
    spec = importlib.util.spec_from_file_location("caixun_migration_0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _index_rows(bind, batch: int = 1000) -> None:
    """Every article's tokens as this revision indexes them (rowid = id on SQLite; no period tokens): a copy of
    what storage.search did at this revision, which later revisions change."""
    articles = sa.table("articles", sa.column("id"), sa.column("title"), sa.column("body"))
    if bind.dialect.name == "postgresql":
        write = sa.text(f"UPDATE articles SET {TOKENS_COLUMN} = array_to_tsvector(CAST(:tokens AS text[])) WHERE id = :id")
    else:
        write = sa.text(f"INSERT INTO {BIGRAM_TABLE}(rowid, tokens) VALUES (:id, :tokens)")
    last = 0
    while True:
        rows = bind.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.body)
            .where(articles.c.id > last).order_by(articles.c.id).limit(batch)
        ).all()  # fmt: skip
        if not rows:
            return
        tokens = [index_tokens(title, body) for _, title, body in rows]
        if bind.dialect.name != "postgresql":
            tokens = [" ".join(t) for t in tokens]
        bind.execute(write, [{"id": row[0], "tokens": t} for row, t in zip(rows, tokens)])
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    trigram = _revision_0003()
    if bind.dialect.name == "sqlite":
        for trigger in trigram._SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {trigram.FTS_TABLE}")
        op.execute(
            f"CREATE VIRTUAL TABLE {BIGRAM_TABLE} USING fts5(tokens, detail=none, columnsize=0, prefix='1')"
        )
        _index_rows(bind)
    elif bind.dialect.name == "postgresql":
        for name in trigram.TRIGRAM_INDEXES.values():
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"ALTER TABLE articles ADD COLUMN {TOKENS_COLUMN} tsvector")
        _index_rows(bind)
        op.execute(f"CREATE INDEX {TOKENS_INDEX} ON articles USING gin ({TOKENS_COLUMN})")  # after the fill: faster


def downgrade() -> None:
    bind = op.get_bind()
    trigram = _revision_0003()
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {BIGRAM_TABLE}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TOKENS_INDEX}")
        op.execute(f"ALTER TABLE articles DROP COLUMN IF EXISTS {TOKENS_COLUMN}")
    trigram.upgrade()  # the trigram table (filled from the rows) and triggers, or the trigram indexes
