"""add full-text search over titles and bodies

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

SQLite: an external-content FTS5 table ``articles_fts`` (trigram tokenizer, so
Chinese text needs no word segmentation), kept in sync with ``articles`` by
triggers and filled from the existing rows. Needs SQLite 3.34+ built with FTS5.

PostgreSQL: the pg_trgm extension and GIN trigram indexes on title and body,
which serve ``ILIKE '%term%'`` for terms of three or more characters. The
extension is never skipped silently: if it cannot be created, the upgrade stops
and says what to ask the DBA.

Caveat for later revisions: on SQLite, ``batch_alter_table("articles")`` copies
and drops the table, which drops these triggers; such a revision must recreate
them (call ``create_sqlite_triggers`` from here) and rebuild ``articles_fts``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.query import (
    SearchUnavailable,  # the CLI reports it as a message, not a traceback
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FTS_TABLE = "articles_fts"
TRIGRAM_INDEXES = {"title": "ix_articles_title_trgm", "body": "ix_articles_body_trgm"}

_SQLITE_TRIGGERS = {
    "articles_fts_after_insert": f"""
        CREATE TRIGGER articles_fts_after_insert AFTER INSERT ON articles BEGIN
            INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
    "articles_fts_after_delete": f"""
        CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        END""",
    # Only when the text changes: a re-fetch that merely touches fetched_at leaves the index alone.
    "articles_fts_after_update": f"""
        CREATE TRIGGER articles_fts_after_update AFTER UPDATE OF title, body ON articles BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
            INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
}


def _create_sqlite_fts_table() -> None:
    statement = (
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
        "title, body, content='articles', content_rowid='id', tokenize='trigram')"
    )
    try:
        op.execute(statement)
    except sa.exc.OperationalError as exc:
        version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar()
        raise SearchUnavailable(
            f"SQLite {version} cannot create the search table ({exc.orig}): full-text search needs "
            "SQLite 3.34 or newer built with FTS5; run caixun with a Python whose sqlite3 module has it"
        ) from None


def create_sqlite_triggers() -> None:
    for statement in _SQLITE_TRIGGERS.values():
        op.execute(statement)


def _upgrade_sqlite() -> None:
    _create_sqlite_fts_table()
    create_sqlite_triggers()
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # index the existing rows


def _ensure_pg_trgm() -> None:
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").scalar():
        return
    database = bind.exec_driver_sql("SELECT current_database()").scalar()
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").scalar()
    if not available:
        raise SearchUnavailable(
            f"the PostgreSQL server lacks the pg_trgm extension that search needs: ask the DBA to install "
            f"PostgreSQL's contrib modules (e.g. the postgresql-contrib package) and to run "
            f"CREATE EXTENSION pg_trgm; in the database {database}, then run python -m storage upgrade again"
        )
    try:
        with bind.begin_nested():  # a savepoint, so the error does not poison the migration's transaction
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        raise SearchUnavailable(
            f"cannot create the pg_trgm extension that search needs ({str(exc.orig).strip()}): ask the DBA "
            f"to run  CREATE EXTENSION pg_trgm;  in the database {database} (or to give this user the "
            f"CREATE privilege on it), then run python -m storage upgrade again"
        ) from None


def _upgrade_postgresql() -> None:
    _ensure_pg_trgm()
    for column, name in TRIGRAM_INDEXES.items():
        op.create_index(
            name, "articles", [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _upgrade_sqlite()
    elif dialect == "postgresql":
        _upgrade_postgresql()
    else:
        raise SearchUnavailable(f"full-text search is implemented for SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    """Drops the search table, triggers and indexes; leaves pg_trgm, which the DBA may have made."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif dialect == "postgresql":
        for name in TRIGRAM_INDEXES.values():
            op.drop_index(name, "articles")
