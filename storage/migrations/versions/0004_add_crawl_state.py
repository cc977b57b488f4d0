"""add crawl state for scheduled runs: page states, roll watermarks, removals, coverage

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "page_states",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL"), index=True),
        sa.Column("roll_mtime", UTC),
        sa.Column("etag", sa.String(255)),
        sa.Column("last_modified", sa.String(64)),
        sa.Column("status", sa.Integer),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_fetched_at", UTC, nullable=False),
    )
    op.create_index("ix_page_states_outcome", "page_states", ["outcome"])
    op.create_table(
        "roll_watermarks",
        sa.Column("spider", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("newest_ctime", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    # plain ADD COLUMN: a batch copy of articles would drop its SQLite search triggers (see 0003)
    op.add_column("articles", sa.Column("removed_at", UTC))
    op.add_column("articles", sa.Column("removed_status", sa.Integer))
    op.add_column("crawl_runs", sa.Column("coverage", sa.JSON))
    with op.batch_alter_table("fetches") as batch:  # failed fetches have no status or body
        batch.alter_column("status", existing_type=sa.Integer, nullable=True)
        batch.alter_column("body_sha256", existing_type=sa.String(64), nullable=True)
        batch.alter_column("body_bytes", existing_type=sa.Integer, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM fetches WHERE status IS NULL")
    with op.batch_alter_table("fetches") as batch:
        batch.alter_column("body_bytes", existing_type=sa.Integer, nullable=False)
        batch.alter_column("body_sha256", existing_type=sa.String(64), nullable=False)
        batch.alter_column("status", existing_type=sa.Integer, nullable=False)
    op.drop_column("crawl_runs", "coverage")
    op.drop_column("articles", "removed_status")  # SQLite 3.35+ drops columns in place
    op.drop_column("articles", "removed_at")
    op.drop_table("roll_watermarks")
    op.drop_index("ix_page_states_outcome", "page_states")
    op.drop_table("page_states")
