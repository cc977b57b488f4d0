"""an index for the crawl health report: articles stored per site and day, duplicates, sources

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The health report (storage.health) counts the articles first stored in a period per site
and day, the share linked as duplicates, and the most common sources. At a million articles
a scan of the table reads every body; ``ix_articles_first_seen_at`` on (first_seen_at, site,
duplicate_of, source) holds every column those counts read, so they scan the index alone.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ["first_seen_at", "site", "duplicate_of", "source"]


def upgrade() -> None:
    op.create_index("ix_articles_first_seen_at", "articles", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_articles_first_seen_at", "articles")
