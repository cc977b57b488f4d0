"""add fetches, crawl runs, revisions, symbols and duplicate detection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BANDS = ("fp_band0", "fp_band1", "fp_band2", "fp_band3")


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("last_fetched_at", UTC))
        batch.add_column(sa.Column("content_hash", sa.String(64)))
        batch.add_column(sa.Column("fingerprint", sa.BigInteger))
        for band in BANDS:
            batch.add_column(sa.Column(band, sa.Integer))
        batch.add_column(sa.Column("duplicate_of", sa.Integer))
        batch.create_foreign_key("fk_articles_duplicate_of", "articles", ["duplicate_of"], ["id"], ondelete="SET NULL")
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_index("ix_articles_duplicate_of", "articles", ["duplicate_of"])
    for band in BANDS:
        op.create_index(f"ix_articles_{band}", "articles", [band])
    op.execute("UPDATE articles SET last_fetched_at = fetched_at")

    op.create_table(
        "article_revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("title", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("published_at", UTC),
        sa.Column("extractor", sa.String(128), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("fetched_at", UTC, nullable=False),
        sa.Column("replaced_at", UTC, nullable=False),
    )
    op.create_table(
        "article_symbols",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True, index=True),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("spider", sa.String(64), nullable=False, index=True),
        sa.Column("arguments", sa.JSON, nullable=False),
        sa.Column("started_at", UTC, nullable=False, index=True),
        sa.Column("finished_at", UTC),
        sa.Column("finish_reason", sa.String(64)),
        sa.Column("stats", sa.JSON, nullable=False),
        sa.Column("exit_status", sa.Integer),
    )
    op.create_table(
        "fetches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("crawl_run_id", sa.Integer, sa.ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL"), index=True),
        sa.Column("requested_url", sa.String(2048), nullable=False),
        sa.Column("final_url", sa.String(2048), nullable=False, index=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("etag", sa.String(255)),
        sa.Column("last_modified", sa.String(64)),
        sa.Column("declared_charset", sa.String(64)),
        sa.Column("used_charset", sa.String(64)),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("body_bytes", sa.Integer, nullable=False),
        sa.Column("warc_file", sa.String(512)),
        sa.Column("warc_offset", sa.BigInteger),
        sa.Column("fetched_at", UTC, nullable=False, index=True),
        sa.Column("discovered_from", sa.String(2048)),
        sa.Column("discovery", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(32)),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("fetches")
    op.drop_table("crawl_runs")
    op.drop_table("article_symbols")
    op.drop_table("article_revisions")
    for band in BANDS:
        op.drop_index(f"ix_articles_{band}", "articles")
    op.drop_index("ix_articles_duplicate_of", "articles")
    op.drop_index("ix_articles_content_hash", "articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_constraint("fk_articles_duplicate_of", type_="foreignkey")
        for column in ("duplicate_of", *BANDS, "fingerprint", "content_hash", "last_fetched_at"):
            batch.drop_column(column)
