"""JSON columns hold characters as they are, not ASCII escapes: ["栾某"], not ["\\u683e\\u67d0"]

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08

SQLAlchemy wrote JSON with json.dumps, which escapes every character past ASCII, on SQLite (JSON is
text there) and in PostgreSQL's ``json`` columns alike (``json`` keeps the text as given; only
``jsonb`` would have decoded it). The values read back the same, but a reader's own SQL on the text,
``authors LIKE '%栾%'``, found nothing. From this revision on the engines write characters
(storage.jsontext, storage.db.make_engine); this revision rewrites the rows written before.

Up: each JSON value holding an escape is written again with characters (storage.jsontext.dumps);
down: each holding a character past ASCII is written again as json.dumps writes it, escaped. A value
is read and written by Python's json, in batches of BATCH rows by id, and only where its text changes;
keys keep their order. The columns: articles' authors, images, symbols, warnings; crawl_runs'
arguments, stats, coverage; fetches' discovery. The views (storage.reader_schema) are untouched, and
nothing hashes JSON text (content_hash and the fingerprint are the body's).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from storage.jsontext import dumps as dumps_characters

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = {
    "articles": ("authors", "images", "symbols", "warnings"),
    "crawl_runs": ("arguments", "stats", "coverage"),
    "fetches": ("discovery",),
}
BATCH = 1000


def _rewrite(dumps: Callable[[object], str]) -> None:
    connection = op.get_bind()
    postgresql = connection.dialect.name == "postgresql"
    for table, columns in COLUMNS.items():
        read = ", ".join(f"{name}::text" if postgresql else name for name in columns)
        select = sa.text(f"SELECT id, {read} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}")
        assign = ", ".join(f"{name} = CAST(:{name} AS json)" if postgresql else f"{name} = :{name}" for name in columns)
        update = sa.text(f"UPDATE {table} SET {assign} WHERE id = :id")
        last = 0
        while True:
            rows = connection.execute(select, {"last": last}).all()
            changed = []
            for row in rows:
                stored = dict(zip(columns, row[1:]))
                written = {name: None if text is None else dumps(json.loads(text)) for name, text in stored.items()}
                if written != stored:
                    changed.append({"id": row[0], **written})
            if changed:
                connection.execute(update, changed)
            if len(rows) < BATCH:
                break
            last = rows[-1][0]


def upgrade() -> None:
    _rewrite(dumps_characters)


def downgrade() -> None:
    _rewrite(json.dumps)  # ensure_ascii: as SQLAlchemy's default serializer wrote it
