"""add published_precision: how much of published_at the page gave ("day", "minute", "second")

A page that shows only a date ("2005年08月16日") is stored at 00:00 China time
of that day with precision "day"; rows written before this revision keep NULL
(unknown). Articles and their kept revisions both carry it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("articles", "article_revisions")


def upgrade() -> None:
    # plain ADD COLUMN: a batch copy of articles would drop its SQLite search triggers (see 0003)
    for table in TABLES:
        op.add_column(table, sa.Column("published_precision", sa.String(8)))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "published_precision")  # SQLite 3.35+ drops columns in place
