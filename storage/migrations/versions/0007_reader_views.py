"""add the reader views: reader_articles, reader_article_symbols, reader_fetches

The reader schema: views whose columns (names, order, portable types) are promised to readers, so that their
own SQL survives later migrations. The columns and the rules for later revisions (add at the end only; set
the views aside around a SQLite batch copy of a table they read) are in storage/reader_schema.py, which
makes each view as it is at a given revision: this one makes them as at 0007, whatever columns a later
revision appends.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from storage import reader_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    reader_schema.create_views(revision)


def downgrade() -> None:
    reader_schema.drop_views(revision)
