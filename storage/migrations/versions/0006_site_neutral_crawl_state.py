"""site-neutral crawl state: watermarks per (site, source key), page_states.listed_at

Sina's roll API was the crawl-state model: roll_watermarks keyed by (spider,
channel "pageid:lid") and page_states.roll_mtime. Now a watermark belongs to a
site and one of its discovery sources (extractors.sources keys), and a page
keeps the listed modification time of whatever source listed it (roll mtime,
sitemap lastmod, RSS pubDate, showTime). Data is carried both ways: spider
sina_finance's channel "P:L" is site "sina", source key "rollapi:P:L".
Other spiders' roll watermarks (none was ever written) and, on the way down,
other sources' watermarks are dropped: a missing watermark only makes the
next sweep page further.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
ROLL_PREFIX = "rollapi:"  # extractors.sources.RollApi.channel_key, frozen here as migrations must be


def upgrade() -> None:
    op.create_table(
        "watermarks",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("source_key", sa.String(1024), primary_key=True),
        sa.Column("newest_listed_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.execute(
        "INSERT INTO watermarks (site, source_key, newest_listed_at, updated_at) "
        f"SELECT 'sina', '{ROLL_PREFIX}' || channel, newest_ctime, updated_at FROM roll_watermarks "
        "WHERE spider = 'sina_finance'"
    )
    op.drop_table("roll_watermarks")
    with op.batch_alter_table("page_states") as batch:  # a rename keeps the values
        batch.alter_column("roll_mtime", new_column_name="listed_at", existing_type=UTC)


def downgrade() -> None:
    with op.batch_alter_table("page_states") as batch:
        batch.alter_column("listed_at", new_column_name="roll_mtime", existing_type=UTC)
    op.create_table(
        "roll_watermarks",
        sa.Column("spider", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("newest_ctime", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.execute(
        "INSERT INTO roll_watermarks (spider, channel, newest_ctime, updated_at) "
        f"SELECT 'sina_finance', substr(source_key, {len(ROLL_PREFIX) + 1}), newest_listed_at, updated_at "
        f"FROM watermarks WHERE site = 'sina' AND source_key LIKE '{ROLL_PREFIX}%'"
    )
    op.drop_table("watermarks")
