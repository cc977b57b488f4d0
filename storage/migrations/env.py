"""Alembic environment: runs on the connection storage.migrate hands over, else on a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storage.db import resolve_database_url
from storage.models import Base

config = context.config


def _include_name(name, type_, parent_names) -> bool:
    """Full-text search objects are raw DDL of revision 0003, not models: autogenerate leaves them."""
    return not (name or "").startswith("articles_fts") and not (name or "").endswith("_trgm")


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:  # the alembic command line: -x database_url=... or $DATABASE_URL
    url = context.get_x_argument(as_dictionary=True).get("database_url")
    engine = create_engine(resolve_database_url(url))
    with engine.begin() as conn:
        _configure_and_run(conn)
