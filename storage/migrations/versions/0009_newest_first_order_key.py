"""newest-first order key: site, symbol and search queries stop after `limit` rows at a million articles

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

Readers get the newest articles first. Sorting every match of a common symbol or search term
took hundreds of milliseconds at a million articles; this revision gives every article its place
in that order as one integer (storage.order_key), so that an index walked backwards serves the
order and stops after `limit` rows:

- ``articles.order_key`` under ``ix_articles_order_key`` and ``ix_articles_site_order_key``
  (which replaces ``ix_articles_site_published``);
- ``article_symbols.order_key`` under ``ix_article_symbols_symbol_order_key`` (which replaces
  ``ix_article_symbols_symbol``);
- SQLite: the search table's rowid becomes the order key, so a search reads its matches
  newest first (its tokens are copied, not recomputed); a trigger takes a deleted article's
  row out of it (an id was reused and its row replaced before);
- PostgreSQL: each article's search tokens gain its China-time day, month and year (or
  ``@undated``), so that a search asks the GIN index for one period at a time (storage.search).

Keys are computed by the database for existing rows, data kept; the writer sets them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.order_key import sql_order_key
from storage.search import BIGRAM_TABLE, FTS5_OPTIONS, TOKENS_COLUMN, sql_period_tokens

FORGET_TRIGGER = "articles_bigrams_forget"

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_articles = sa.table("articles", sa.column("id"), sa.column("published_at"), sa.column("order_key"))


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.add_column("articles", sa.Column("order_key", sa.BigInteger))
    op.add_column("article_symbols", sa.Column("order_key", sa.BigInteger))
    op.execute(_articles.update().values(order_key=sql_order_key(_articles.c.id, _articles.c.published_at, dialect)))
    op.execute(
        "UPDATE article_symbols SET order_key = (SELECT order_key FROM articles WHERE articles.id = article_symbols.article_id)"
    )
    op.drop_index("ix_articles_site_published", "articles")
    op.drop_index("ix_article_symbols_symbol", "article_symbols")
    op.create_index("ix_articles_order_key", "articles", ["order_key"])
    op.create_index("ix_articles_site_order_key", "articles", ["site", "order_key"])
    op.create_index("ix_article_symbols_symbol_order_key", "article_symbols", ["symbol", "order_key"])
    if dialect == "sqlite":
        _rekey_bigrams("articles.order_key", "articles.id = old.rowid")
        op.execute(  # a deleted article's key is not reused: its search row must go with it
            f"CREATE TRIGGER {FORGET_TRIGGER} AFTER DELETE ON articles "
            f"BEGIN DELETE FROM {BIGRAM_TABLE} WHERE rowid = old.order_key; END"
        )
    elif dialect == "postgresql":
        op.execute(
            f"UPDATE articles SET {TOKENS_COLUMN} = coalesce({TOKENS_COLUMN}, ''::tsvector) || "
            f"array_to_tsvector({sql_period_tokens('published_at')})"
        )


def _rekey_bigrams(rowid: str, joined: str) -> None:
    """Copy the SQLite search table under new rowids (an FTS5 rowid cannot be updated in place)."""
    op.execute(f"CREATE VIRTUAL TABLE {BIGRAM_TABLE}_new USING fts5({FTS5_OPTIONS})")
    op.execute(
        f"INSERT INTO {BIGRAM_TABLE}_new(rowid, tokens) SELECT {rowid}, old.tokens "
        f"FROM {BIGRAM_TABLE} AS old JOIN articles ON {joined}"
    )
    op.execute(f"DROP TABLE {BIGRAM_TABLE}")
    op.execute(f"ALTER TABLE {BIGRAM_TABLE}_new RENAME TO {BIGRAM_TABLE}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {FORGET_TRIGGER}")
        _rekey_bigrams("articles.id", "articles.order_key = old.rowid")
    elif bind.dialect.name == "postgresql":
        op.execute(
            f"UPDATE articles SET {TOKENS_COLUMN} = ts_delete({TOKENS_COLUMN}, "
            f"ARRAY(SELECT lexeme FROM unnest({TOKENS_COLUMN}) WHERE lexeme LIKE '@%'))"
        )
    op.drop_index("ix_article_symbols_symbol_order_key", "article_symbols")
    op.drop_index("ix_articles_site_order_key", "articles")
    op.drop_index("ix_articles_order_key", "articles")
    op.create_index("ix_article_symbols_symbol", "article_symbols", ["symbol"])
    op.create_index("ix_articles_site_published", "articles", ["site", "published_at"])
    op.drop_column("article_symbols", "order_key")
    op.drop_column("articles", "order_key")
