"""Time limits on database work: connecting, and each statement.

- Connecting (PostgreSQL): psycopg's connect_timeout covers the whole startup (TCP, TLS,
  authentication), so a port that accepts connections and never answers fails after
  CONNECT_TIMEOUT seconds, or after the statement timeout if that is shorter (psycopg waits at
  least 2 s). A connect_timeout in the URL wins.
- Statements (limit_statements): on PostgreSQL the session's statement_timeout is set as it starts
  (the `options` connection parameter, after any options the URL gives), so the server itself ends a
  statement past the limit, even one whose client has died. SQLite has no such setting: a progress
  handler aborts a statement that has run past the limit since SQLAlchemy executed it; its clock
  covers fetching the statement's rows too. Either way StatementTimeout, an sqlalchemy
  OperationalError whose .orig says the limit, replaces the driver's error.

A server that stops answering altogether cannot apply its statement_timeout: storage.watchdog.
"""

from __future__ import annotations

import math
import sqlite3
import time

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

CONNECT_TIMEOUT = 10  # seconds; psycopg's own default is 130
READER_TIMEOUT = 30.0  # seconds a reader's statement may run (python -m storage --timeout)
PROGRESS_STEPS = 1000  # SQLite virtual-machine steps between two looks at the clock
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a cancelled statement (timeout or pg_cancel_backend)
_CLOCK = "caixun_statement_clock"  # key in each pooled connection's info dict


class StatementTimeout(OperationalError):
    """A statement ran past the engine's statement timeout; str(.orig) says the limit."""


def connect_args(url: URL, statement_timeout: float | None) -> dict:
    """psycopg connection parameters for the limits; those the URL gives itself are left alone."""
    args: dict = {}
    if "connect_timeout" not in url.query:
        seconds = min(CONNECT_TIMEOUT, statement_timeout) if statement_timeout else CONNECT_TIMEOUT
        args["connect_timeout"] = max(2, math.ceil(seconds))
    if statement_timeout:
        given = url.query.get("options") or ""
        given = " ".join(given) if isinstance(given, tuple) else given
        # the URL's own options come last, so a statement_timeout there wins
        args["options"] = f"-c statement_timeout={math.ceil(statement_timeout * 1000)} {given}".strip()
    return args


class _Clock:
    """When the current statement of one connection started, and whether SQLite's handler stopped it."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.started: float | None = None  # None between statements: nothing to stop
        self.interrupted = False

    def start(self) -> None:
        self.started = time.monotonic()
        self.interrupted = False

    def stop(self) -> None:
        self.started = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started is not None else 0.0

    def sqlite_progress(self) -> int:
        """SQLite's progress handler: non-zero aborts the statement (sqlite3.OperationalError: interrupted)."""
        if self.started is not None and time.monotonic() - self.started > self.limit:
            self.interrupted = True
            return 1
        return 0


def limit_statements(engine: Engine, seconds: float | None) -> None:
    """Raise StatementTimeout from any statement of this engine that runs longer than `seconds` (None/0: no limit).

    On PostgreSQL the limit itself comes from connect_args(); this adds the clock and the error.
    """
    if not seconds:
        return
    sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record) -> None:
        clock = record.info[_CLOCK] = _Clock(seconds)
        if sqlite:
            dbapi_connection.set_progress_handler(clock.sqlite_progress, PROGRESS_STEPS)

    @event.listens_for(engine, "before_cursor_execute")
    def _started(connection, cursor, statement, parameters, context, executemany) -> None:
        clock = connection.info.get(_CLOCK)
        if clock is not None:
            clock.start()

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        clock = record.info.get(_CLOCK) if record is not None else None
        if clock is not None:  # a pooled connection's next ping must not inherit an old start
            clock.stop()

    @event.listens_for(engine, "handle_error")
    def _timed_out(context):
        clock = _clock_of(context)
        error = context.original_exception
        if clock is None or clock.started is None:
            return None
        if sqlite:
            timed_out = clock.interrupted and isinstance(error, sqlite3.OperationalError)
        else:  # a cancel by pg_cancel_backend has the same code: only one that came after the limit counts
            timed_out = getattr(error, "sqlstate", None) == QUERY_CANCELED and clock.elapsed() >= seconds
        if not timed_out:
            return None
        message = f"the statement ran past the statement timeout of {seconds:g} s and was stopped"
        return StatementTimeout(context.statement, context.parameters, TimeoutError(message), hide_parameters=True)


def _clock_of(context) -> _Clock | None:
    try:
        return context.connection.info.get(_CLOCK) if context.connection is not None else None
    except Exception:  # an invalidated connection has no info to give
        return None
