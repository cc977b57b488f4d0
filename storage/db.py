"""Database URLs and engines: SQLite by default, anything SQLAlchemy takes by URL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / "data"  # the default database, and the crawler's spool, locks and WARC archives
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'caixun.db'}"


class DatabaseURLError(ValueError):
    pass


class MissingDatabase(RuntimeError):
    """A reader was pointed at a SQLite file that does not exist."""


def resolve_database_url(url: str | None = None) -> str:
    """The explicit URL, else $DATABASE_URL, else data/caixun.db in the project.

    postgres:// and postgresql:// URLs without a driver use psycopg 3.
    """
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {mask_url(url)!r} ({exc})") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers read while a crawl writes; busy_timeout rides out short locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None, *, create: bool = True) -> Engine:
    """An engine for the resolved URL.

    With create=True an empty database gets the current schema (Alembic), and a
    database at another schema revision raises storage.migrate.OutdatedSchema.
    """
    resolved = make_url(resolve_database_url(url))
    if resolved.get_backend_name() == "sqlite" and resolved.database not in (None, "", ":memory:"):
        Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(resolved, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        from storage.migrate import (
            ensure_schema,  # alembic is only needed where schemas change
        )

        ensure_schema(engine, mask_url(resolved.render_as_string(hide_password=False)))
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def reader_engine(url: str) -> Engine:
    """An engine for reading: a SQLite file that is not there is an error, not a new empty store."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            raise MissingDatabase(f"no database at {parsed.database}: crawl first, or check --database-url")
    return make_engine(url)


def upsert_insert(session: Session):
    """The dialect's INSERT, which has on_conflict_do_update: SQLite's or PostgreSQL's."""
    dialect = session.get_bind().dialect.name
    try:
        return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    except KeyError:
        raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {dialect}") from None
