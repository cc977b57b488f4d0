"""create articles (the schema of the first release)

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canonical_url", sa.String(2048), nullable=False, unique=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("site", sa.String(64), nullable=False, index=True),
        sa.Column("title", sa.Text),
        sa.Column("published_at", UTC, index=True),
        sa.Column("source", sa.String(255)),
        sa.Column("source_url", sa.String(2048)),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("editor", sa.String(255)),
        sa.Column("original_title", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("images", sa.JSON, nullable=False),
        sa.Column("symbols", sa.JSON, nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("extractor", sa.String(128), nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("fetched_at", UTC, nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_articles_site_published", "articles", ["site", "published_at"])


def downgrade() -> None:
    op.drop_table("articles")
