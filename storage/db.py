"""Database URLs and engines: SQLite by default, PostgreSQL (psycopg 3) by URL.

resolve_database_url checks a URL before anything connects: DatabaseURLError names the part that is
wrong (backend, driver, port, ...), with the password masked. Engines get the time limits of
storage.timeouts: a connect timeout on PostgreSQL, a statement timeout when asked (readers: 30 s by default),
and for the crawler's writer a watchdog for a server that stops answering (storage.watchdog).
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.jsontext import dumps as json_text
from storage.timeouts import READER_TIMEOUT, connect_args, limit_statements
from storage.watchdog import watch_transactions

PROJECT_DIR = Path(__file__).resolve().parent.parent
# the default database, and the crawler's spool, locks and WARC archives: the checkout's data/ (also under
# pip install -e .); installed from a wheel, storage has no project folder, so data/ of the current folder
DATA_DIR = PROJECT_DIR / "data" if (PROJECT_DIR / "scrapy.cfg").is_file() else Path.cwd() / "data"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'caixun.db'}"

# backend -> {driver caixun runs on (the default first): the module it imports}. Upserts and search are
# written for these two backends (storage.write, storage.query), the time limits for these two drivers.
SUPPORTED_DRIVERS = {"sqlite": {"pysqlite": "sqlite3"}, "postgresql": {"psycopg": "psycopg"}}
BACKEND_ALIASES = {"postgres": "postgresql"}
URL_EXAMPLES = "sqlite:///path/to/file.db or postgresql://user:password@host:5432/database"


class DatabaseURLError(ValueError):
    """A database URL that cannot work; the message names the wrong part, with the password masked."""


class MissingDatabase(RuntimeError):
    """A reader was pointed at a SQLite file that does not exist."""


def resolve_database_url(url: str | None = None) -> str:
    """The explicit URL, else $DATABASE_URL, else data/caixun.db in the project, checked.

    postgres:// and postgresql:// URLs without a driver use psycopg 3. Raises
    DatabaseURLError for an unparseable URL, a backend other than sqlite or
    postgresql, another driver or one that is not installed, a port that is not
    a number from 1 to 65535, and a SQLite URL with a host, port, user or password.
    """
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {shown!r} ({exc}); expected e.g. {URL_EXAMPLES}") from None
    except ValueError:  # SQLAlchemy reads the port with int()
        raise DatabaseURLError(
            f"the port in {shown!r} is not a number: {_port_text(url)!r}; give one from 1 to 65535, e.g. :5432"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    backend = BACKEND_ALIASES.get(backend, backend)
    if backend not in SUPPORTED_DRIVERS:
        raise DatabaseURLError(
            f"unsupported database {backend!r} in {shown!r}: caixun stores in sqlite or postgresql, e.g. {URL_EXAMPLES}"
        )
    drivers = SUPPORTED_DRIVERS[backend]
    default_driver = next(iter(drivers))
    driver = driver or default_driver
    if driver not in drivers:
        raise DatabaseURLError(
            f"unsupported driver {driver!r} for {backend} in {shown!r}: caixun uses {', '.join(drivers)}; "
            f"write {backend}+{default_driver}:// or just {backend}://"
        )
    try:
        importlib.import_module(drivers[driver])
    except ImportError as exc:
        raise DatabaseURLError(
            f"the {backend} driver {driver} is not installed ({exc}): pip install -r requirements.txt"
        ) from None
    _check_location(parsed, backend, shown)
    if backend == "postgresql":
        parsed = parsed.set(drivername=f"{backend}+{driver}")
    return parsed.render_as_string(hide_password=False)


def _check_location(parsed: URL, backend: str, shown: str) -> None:
    if backend == "sqlite":
        if parsed.host or parsed.port or parsed.username or parsed.password:
            raise DatabaseURLError(
                f"a SQLite URL names a file and takes no host, port, user or password: {shown!r}; write "
                "sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        return
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseURLError(f"the port in {shown!r} is out of range: {parsed.port}; give one from 1 to 65535")


def _port_text(url: str) -> str:
    """What stands where the port goes: after the host (and any user:password@) up to the path."""
    authority = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]
    host_port = authority.rpartition("@")[2]
    return host_port.rpartition("]")[2].partition(":")[2] if host_port.startswith("[") else host_port.partition(":")[2]


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs and messages (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        scheme, sep, rest = url.partition("://")
        userinfo, at, location = rest.rpartition("@")
        if not sep or not at or ":" not in userinfo:
            return url
        return f"{scheme}://{userinfo.partition(':')[0]}:***@{location}"


# what PostgreSQL answers a connection to a database, or as a role, that does not exist (SQLSTATE 3D000,
# 28000; psycopg gives no SQLSTATE for a failed connection, so its message is read)
_MISSING = re.compile(r'\b(database|role) "([^"]+)" does not exist')


def missing_database(exc: BaseException, url: str | None = None) -> str | None:
    """What to create when `exc` (a driver error, SQLAlchemy's wrapper, or an error raised from one) says
    the PostgreSQL database or role of `url` does not exist; None for any other error. A configuration
    error, not an outage: the crawler exits 2 with this message rather than 5."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        if found := _MISSING.search(str(exc)):
            return _what_to_create(found.group(1), found.group(2), url)
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def _what_to_create(kind: str, name: str, url: str | None) -> str:
    parsed = None
    if url:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            pass
    where = ""
    options = ""
    if parsed is not None and parsed.host:
        where = f" on {parsed.host}:{parsed.port or 5432}"
        options = f"-h {parsed.host} -p {parsed.port or 5432} "
    if kind == "database":
        owner = parsed.username if parsed is not None and parsed.username else None
        command = f"createdb {options}" + (f"-U {owner} " if owner else "") + name
        sql = f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else "")
    else:
        command = f"createuser {options}-U postgres --pwprompt {name}"
        sql = f"CREATE ROLE \"{name}\" LOGIN PASSWORD '…'"
    return (f'the PostgreSQL {kind} "{name}" does not exist{where}: create it ({command}, or in psql: {sql};), '
            "or correct the database URL")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers read while a crawl writes; busy_timeout rides out short locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(
    url: str | None = None,
    *,
    create: bool = True,
    statement_timeout: float | None = None,
    watchdog: bool = False,
    retry_after: float = 0.0,
    **engine_options,
) -> Engine:
    """An engine for the resolved URL.

    With create=True an empty database gets the current schema (Alembic), and a
    database at another schema revision raises storage.migrate.OutdatedSchema.
    PostgreSQL connections give up connecting after storage.timeouts.CONNECT_TIMEOUT
    (or statement_timeout, if shorter). statement_timeout (seconds; None or 0: no
    limit) ends any statement running longer with storage.timeouts.StatementTimeout.
    watchdog=True (PostgreSQL, needs a statement_timeout) also closes the connection
    of a transaction still waiting for the server a little past that timeout
    (storage.watchdog), so a server that stops answering raises OperationalError;
    after such a silence, attempts fail at once for `retry_after` seconds.
    engine_options go to sqlalchemy.create_engine (e.g. poolclass).
    """
    resolved = make_url(resolve_database_url(url))
    backend = resolved.get_backend_name()
    if backend == "sqlite" and resolved.database not in (None, "", ":memory:"):
        Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
    engine_options.setdefault("pool_pre_ping", True)
    engine_options.setdefault("json_serializer", json_text)  # characters, not \u escapes (storage.jsontext)
    guarded = watchdog and bool(statement_timeout) and backend == "postgresql"
    if guarded:
        engine_options["pool_pre_ping"] = False  # a pre-ping on a frozen server would hang: the watchdog pings
    if backend == "postgresql":
        engine_options["connect_args"] = connect_args(resolved, statement_timeout) | engine_options.get(
            "connect_args", {}
        )
    engine = create_engine(resolved, **engine_options)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    limit_statements(engine, statement_timeout)
    if guarded:
        watch_transactions(engine, statement_timeout, retry_after)
    if create:
        from storage.migrate import (
            ensure_schema,  # alembic is only needed where schemas change
        )

        ensure_schema(engine, mask_url(resolved.render_as_string(hide_password=False)))
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def reader_engine(url: str, *, timeout: float | None = READER_TIMEOUT) -> Engine:
    """An engine for reading: a SQLite file that is not there is an error, not a new empty store.

    timeout: seconds any one statement may run (storage.timeouts.StatementTimeout past it);
    None or 0: no limit.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            raise MissingDatabase(f"no database at {parsed.database}: crawl first, or check --database-url")
    return make_engine(url, statement_timeout=timeout)


def upsert_insert(session: Session):
    """The dialect's INSERT, which has on_conflict_do_update: SQLite's or PostgreSQL's."""
    dialect = session.get_bind().dialect.name
    try:
        return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    except KeyError:
        raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {dialect}") from None
