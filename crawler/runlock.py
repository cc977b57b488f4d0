"""RunLock: one scheduled run per spider and database at a time.

PostgreSQL: a session advisory lock in that database, so runs on different
machines that share it exclude each other. SQLite (and anything else): an
flock on a file next to the database (or in CAIXUN_LOCK_DIR). Either way the
lock belongs to the process: PostgreSQL or the kernel frees it when the
process ends, even by SIGKILL, so a crashed run never blocks the next one.

The advisory lock's connection has the writer's time limits (`timeout`
seconds, default crawler.store.DEFAULT_DATABASE_TIMEOUT): connecting gives up
after storage.timeouts.CONNECT_TIMEOUT (or `timeout`, if shorter), and taking
or releasing the lock on a server that stops answering raises OperationalError
(storage.watchdog) instead of waiting. In between the connection idles
unguarded for the whole crawl, as the lock must.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from crawler.store import DEFAULT_DATABASE_TIMEOUT, UNREACHABLE
from storage import make_engine, mask_url
from storage.db import DATA_DIR
from storage.watchdog import GRACE, guarding



def _advisory_key(spider: str) -> int:
    digest = hashlib.sha256(f"caixun run {spider}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RunLock:
    def __init__(
        self, spider: str, database_url: str, lock_dir: str | Path | None = None,
        timeout: float = DEFAULT_DATABASE_TIMEOUT,
    ) -> None:  # fmt: skip
        self.spider = spider
        self.database_url = database_url
        self.timeout = timeout
        url = make_url(database_url)
        self.postgresql = url.get_backend_name() == "postgresql"
        self.path: Path | None = None  # the lock file, where there is one
        if self.postgresql:
            self.where = f"advisory lock in {mask_url(database_url)}"
        else:
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not lock_dir:
                path = Path(f"{url.database}.{spider}.lock")
            else:
                name = hashlib.sha256(mask_url(database_url).encode()).hexdigest()[:16]
                path = Path(lock_dir or DATA_DIR / "locks") / f"{spider}-{name}.lock"
            self.path = path
            self.where = f"lock file {path}"
        self._connection = None
        self._file = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False if another process holds it."""
        if self.postgresql:
            engine = make_engine(self.database_url, create=False, statement_timeout=self.timeout, poolclass=NullPool)
            connection = engine.connect()  # a server that never answers: connect_timeout
            try:
                with self._guarded(connection):
                    taken = connection.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": _advisory_key(self.spider)}
                    ).scalar()
                    if not taken:
                        connection.close()
                        return False
                    connection.commit()  # the lock is session-level: it outlives this transaction
            except BaseException:
                connection.close()
                raise
            self._connection = connection
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stream = self.path.open("a+")
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.close()
            return False
        stream.seek(0)
        stream.truncate()
        stream.write(f"{os.getpid()}\n")  # for people looking at who holds it
        stream.flush()
        self._file = stream
        return True

    def holder(self) -> str | None:
        """The pid written by the process holding a file lock, if readable."""
        if self.postgresql:
            return None
        try:
            return self.path.read_text().strip() or None
        except OSError:
            return None

    def _guarded(self, connection):
        """A server that stops answering while the lock is taken or given back: OperationalError, not a hang."""
        if not self.timeout:
            return nullcontext()
        return guarding(connection.connection.dbapi_connection, self.timeout + GRACE)

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                with self._guarded(connection):
                    connection.close()  # ends the session, which frees the advisory lock
            except UNREACHABLE:  # the server is gone: it frees the lock when it notices
                pass
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
