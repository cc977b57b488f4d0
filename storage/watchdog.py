"""A client-side guard for a PostgreSQL server that stops answering (frozen, SIGSTOPped, cut off behind a
proxy that keeps the connection open).

The server's statement_timeout cannot help there, as the server is not running to apply it, and TCP
keepalives are answered by the server machine's kernel. So one watchdog thread keeps a deadline for each
guarded connection; past it, it shuts the connection's socket down (through a duplicate of its file
descriptor, so a descriptor number reused after a close is never touched). The call blocked on that
connection then fails at once, and DatabaseNotAnswering, an sqlalchemy OperationalError saying how long
the server was given, replaces the driver's error.

watch_transactions(engine, seconds, hold) guards every transaction of an engine: from checking a
connection out of the pool (its ping, made here instead of by pool_pre_ping, which would run unguarded)
to checking it back in (the final commit or rollback included); the deadline is `seconds` plus GRACE, so
a live server's own statement timeout answers first. Once the server has not answered in time (the
watchdog stepped in, or connecting timed out), the engine fails every attempt at once for `hold`
seconds: each attempt would otherwise cost a full timeout, page after page. guarding(dbapi_connection,
seconds) guards one block (the run lock's, whose connection stays checked out for the whole crawl).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError, OperationalError

logger = logging.getLogger(__name__)

GRACE = 1.0  # seconds past the statement timeout before the watchdog steps in


class DatabaseNotAnswering(OperationalError):
    """The server gave no answer in time: the watchdog closed the connection (or, during the hold after, was not
    asked at all); str(.orig) says which."""


@dataclass
class _Guard:
    seconds: float
    deadline: float
    socket: socket.socket
    fired: bool = False


class Watchdog:
    """Deadlines for connections, and one daemon thread that shuts down the sockets of those past theirs."""

    def __init__(self) -> None:
        self._guards: dict[int, _Guard] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection, seconds: float) -> None:
        duplicate = socket.socket(fileno=os.dup(dbapi_connection.fileno()))
        guard = _Guard(seconds, time.monotonic() + seconds, duplicate)
        with self._changed:
            previous = self._guards.pop(id(dbapi_connection), None)
            self._guards[id(dbapi_connection)] = guard
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="caixun-database-watchdog", daemon=True)
                self._thread.start()
            self._changed.notify()
        if previous is not None:
            previous.socket.close()

    def disarm(self, dbapi_connection) -> None:
        with self._changed:
            guard = self._guards.pop(id(dbapi_connection), None)
        if guard is not None:
            guard.socket.close()

    def fired(self, dbapi_connection) -> float | None:
        """The seconds the server was given, if the watchdog closed this connection; else None."""
        with self._changed:
            guard = self._guards.get(id(dbapi_connection))
        return guard.seconds if guard is not None and guard.fired else None

    def _watch(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                waiting = [guard for guard in self._guards.values() if not guard.fired]
                for guard in waiting:
                    if guard.deadline <= now:
                        guard.fired = True
                        logger.warning("no answer from the database in %g s: closing the connection", guard.seconds)
                        try:
                            guard.socket.shutdown(socket.SHUT_RDWR)
                        except OSError:  # already closed by the server or the client
                            pass
                pending = [guard.deadline for guard in waiting if not guard.fired]
                self._changed.wait(timeout=min(pending) - now if pending else None)


WATCHDOG = Watchdog()


def not_answering(seconds: float, statement=None, parameters=None) -> DatabaseNotAnswering:
    message = f"no answer from the database within {seconds:g} s: the connection was closed"
    return DatabaseNotAnswering(statement, parameters, TimeoutError(message), hide_parameters=True)


@contextmanager
def guarding(dbapi_connection, seconds: float) -> Iterator[None]:
    """Close the connection if the block has not ended after `seconds`; the block then raises DatabaseNotAnswering."""
    WATCHDOG.arm(dbapi_connection, seconds)
    try:
        yield
    except Exception as exc:
        fired = WATCHDOG.fired(dbapi_connection)
        if fired is not None and not isinstance(exc, DatabaseNotAnswering):
            raise not_answering(fired) from exc
        raise
    finally:
        WATCHDOG.disarm(dbapi_connection)


def explain_errors(engine: Engine) -> None:
    """An error on a connection the watchdog closed is raised as DatabaseNotAnswering, and invalidates it."""

    @event.listens_for(engine, "handle_error")
    def _closed_by_watchdog(context):
        try:
            dbapi_connection = context.connection.connection.dbapi_connection
        except Exception:  # no connection (a connect error), or already invalidated
            return None
        fired = WATCHDOG.fired(dbapi_connection)
        if fired is None:
            return None
        context.is_disconnect = True
        return not_answering(fired, context.statement, context.parameters)


class _Silence:
    """When the server last failed to answer in time, and for how long attempts then fail at once."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.since: float | None = None

    def started(self) -> None:
        self.since = time.monotonic()

    def check(self) -> None:
        """DatabaseNotAnswering at once while within `hold` seconds of the last silence."""
        if self.since is None:
            return
        ago = time.monotonic() - self.since
        if ago < self.hold:
            message = (
                f"the database did not answer in time {ago:.0f} s ago; it is tried again in {self.hold - ago:.0f} s"
            )
            raise DatabaseNotAnswering(None, None, TimeoutError(message), hide_parameters=True)


def _is_connect_timeout(error: BaseException) -> bool:
    from psycopg.errors import ConnectionTimeout  # psycopg only where PostgreSQL is used

    return isinstance(error, ConnectionTimeout)


def watch_transactions(engine: Engine, seconds: float, hold: float = 0.0) -> None:
    """Guard every checkout of the engine's pool with a deadline of `seconds` + GRACE; after a silence, fail
    attempts at once for `hold` seconds (see the module)."""
    limit = seconds + GRACE
    dialect = engine.dialect
    silence = _Silence(hold)
    explain_errors(engine)

    @event.listens_for(engine, "handle_error")
    def _silent(context) -> None:
        chained = getattr(context, "chained_exception", None)  # unset until a handler returns one
        if isinstance(chained, DatabaseNotAnswering) or _is_connect_timeout(context.original_exception):
            silence.started()

    @event.listens_for(engine, "do_connect")
    def _connecting(_dialect, _record, _cargs, _cparams) -> None:
        silence.check()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        silence.check()
        WATCHDOG.arm(dbapi_connection, limit)
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            fired = WATCHDOG.fired(dbapi_connection)
            WATCHDOG.disarm(dbapi_connection)
            if fired is not None:
                silence.started()
                raise not_answering(fired) from exc
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(f"stale pooled connection: {exc}") from exc  # the pool connects anew
            raise

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        if dbapi_connection is not None:
            WATCHDOG.disarm(dbapi_connection)

    @event.listens_for(engine, "close")
    def _closed(dbapi_connection, record) -> None:
        WATCHDOG.disarm(dbapi_connection)

    @event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_connection, record, exception) -> None:
        if dbapi_connection is not None:
            WATCHDOG.disarm(dbapi_connection)
