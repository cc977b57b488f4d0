"""RunLock: one scheduled run per spider and database at a time.

PostgreSQL: a session advisory lock in that database, so runs on different
machines that share it exclude each other. SQLite (and anything else): an
flock on a file next to the database (or in CAIXUN_LOCK_DIR). Either way the
lock belongs to the process: PostgreSQL or the kernel frees it when the
process ends, even by SIGKILL, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import mask_url
from storage.db import DATA_DIR



def _advisory_key(spider: str) -> int:
    digest = hashlib.sha256(f"caixun run {spider}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RunLock:
    def __init__(self, spider: str, database_url: str, lock_dir: str | Path | None = None) -> None:
        self.spider = spider
        self.database_url = database_url
        url = make_url(database_url)
        self.postgresql = url.get_backend_name() == "postgresql"
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
            engine = create_engine(self.database_url, poolclass=NullPool)
            connection = engine.connect()
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _advisory_key(self.spider)})
            if not taken.scalar():
                connection.close()
                return False
            connection.commit()  # the lock is session-level: it outlives this transaction
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

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()  # ends the session, which frees the advisory lock
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
