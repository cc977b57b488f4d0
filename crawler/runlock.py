"""RunLock: one lock per site and database, so scheduled runs on a shared site exclude each other while runs on
disjoint sites go on side by side.

A run names the sites it crawls ("sina", "eastmoney", "feed <url>" for a user feed, ...); acquire() takes one
lock per name, in sorted order and without waiting. If another process holds any of them it gives back those it
took and returns False, and `blocked` names the first name found held.

PostgreSQL: session advisory locks in that database (one session holds all of a run's), so runs on different
machines that share it exclude each other. SQLite (and anything else): an flock on one file per name, next to the
database file (`<db path>.crawl-<name>.lock`) or in CAIXUN_LOCK_DIR (`crawl-<name>-<database hash>.lock`); a name
with characters other than [A-Za-z0-9_-] is written as a slug plus a hash of the name. Either way the locks belong
to the process: PostgreSQL or the kernel frees them when the process ends, even by SIGKILL, so a crashed run never
blocks the next one. (flock belongs to the open file, so two RunLocks in one process exclude each other too.)

The advisory locks' connection has the writer's time limits (`timeout` seconds, default
crawler.store.DEFAULT_DATABASE_TIMEOUT): connecting gives up after storage.timeouts.CONNECT_TIMEOUT (or
`timeout`, if shorter), and taking or releasing a lock on a server that stops answering raises OperationalError
(storage.watchdog) instead of waiting. In between the connection idles unguarded for the whole crawl, as the
locks must.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from crawler.store import DEFAULT_DATABASE_TIMEOUT, UNREACHABLE
from storage import make_engine, mask_url
from storage.db import DATA_DIR
from storage.watchdog import GRACE, guarding

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key (signed 64 bits) of a site name."""
    digest = hashlib.sha256(f"caixun site {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def file_name_part(name: str) -> str:
    """`name` as it appears in a lock file's name: itself if it is 1-80 of [A-Za-z0-9_-], else a readable slug,
    a dot and 16 hex digits of its SHA-256 (the dot keeps the two forms apart, so different names never share
    a file)."""
    if _PLAIN_NAME.fullmatch(name):
        return name
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:40]
    return f"{slug}.{hashlib.sha256(name.encode()).hexdigest()[:16]}"


class RunLock:
    """Locks on the names (sites) a run crawls, for one database.

    names: the lock names (a single string is one name); duplicates count once, order does not matter.
    Attributes: `names` (sorted tuple), `postgresql`, `folder` (the lock files' folder; None on PostgreSQL),
    `paths` (name -> lock file; empty on PostgreSQL), `path` (the first name's lock file, or None),
    `blocked` (after a failed acquire(): the first name another process holds, else None), `where` (the lock's
    kind and place; the blocked name's after a failed acquire()).
    """

    def __init__(
        self, names: Sequence[str] | str, database_url: str, lock_dir: str | Path | None = None,
        timeout: float = DEFAULT_DATABASE_TIMEOUT,
    ) -> None:  # fmt: skip
        if isinstance(names, str):
            names = [names]
        self.names: tuple[str, ...] = tuple(sorted(set(names)))
        if not self.names:
            raise ValueError("RunLock needs at least one name")
        self.database_url = database_url
        self.timeout = timeout
        self.blocked: str | None = None
        url = make_url(database_url)
        self.postgresql = url.get_backend_name() == "postgresql"
        self.folder: Path | None = None  # where the lock files are, where there are some
        self.paths: dict[str, Path] = {}  # name -> its lock file
        if not self.postgresql:
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not lock_dir:
                database = Path(url.database)
                self.folder = database.parent
                self.paths = {n: Path(f"{database}.crawl-{file_name_part(n)}.lock") for n in self.names}
            else:
                database_hash = hashlib.sha256(mask_url(database_url).encode()).hexdigest()[:16]
                self.folder = Path(lock_dir or DATA_DIR / "locks")
                self.paths = {n: self.folder / f"crawl-{file_name_part(n)}-{database_hash}.lock" for n in self.names}
        self.path: Path | None = self.paths.get(self.names[0])  # the first lock file (its parent: self.folder)
        self._connection = None
        self._files: list[IO[str]] = []

    @property
    def held(self) -> bool:
        return self._connection is not None or bool(self._files)

    @property
    def where(self) -> str:
        """The lock's kind and place: the blocked name's if acquire() failed, else the first name's or all."""
        name = self.blocked or (self.names[0] if len(self.names) == 1 else None)
        if self.postgresql:
            place = mask_url(self.database_url)
            if name is None:
                return f"advisory locks for {len(self.names)} sites in {place}"
            return f"advisory lock for {name!r} in {place}"
        if name is None:
            return f"{len(self.names)} lock files in {self.folder}"
        return f"lock file {self.paths[name]}"

    def acquire(self) -> bool:
        """Take every name's lock without waiting; False (holding none, `blocked` set) if another process holds one."""
        if self.held:
            raise RuntimeError("this RunLock is held already")
        self.blocked = None
        if self.postgresql:
            return self._acquire_advisory()
        return self._acquire_files()

    def _acquire_advisory(self) -> bool:
        engine = make_engine(self.database_url, create=False, statement_timeout=self.timeout, poolclass=NullPool)
        connection = engine.connect()  # a server that never answers: connect_timeout
        try:
            for name in self.names:
                with self._guarded(connection):
                    taken = connection.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(name)}
                    ).scalar()
                if not taken:
                    self.blocked = name
                    with self._guarded(connection):
                        connection.close()  # ends the session: the locks taken so far go with it
                    return False
            with self._guarded(connection):
                connection.commit()  # the locks are session-level: they outlive this transaction
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return True

    def _acquire_files(self) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        taken: list[IO[str]] = []
        try:
            for name in self.names:
                stream = self.paths[name].open("a+")
                try:
                    fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    stream.close()
                    self.blocked = name
                    break
                except BaseException:
                    stream.close()
                    raise
                taken.append(stream)
        except BaseException:
            self._unlock(taken)
            raise
        if self.blocked is not None:
            self._unlock(taken)
            return False
        for stream in taken:  # only once all are held: a run that gives up leaves no pid of its own behind
            stream.seek(0)
            stream.truncate()
            stream.write(f"{os.getpid()}\n")  # for people looking at who holds it
            stream.flush()
        self._files = taken
        return True

    @staticmethod
    def _unlock(streams: list[IO[str]]) -> None:
        for stream in streams:
            try:
                fcntl.flock(stream, fcntl.LOCK_UN)
            except OSError:
                pass  # closing the file frees its lock anyway
            stream.close()

    def holder(self) -> str | None:
        """The pid written by the process holding the blocked (else the first) name's lock file, if readable;
        None on PostgreSQL."""
        if self.postgresql:
            return None
        try:
            return self.paths[self.blocked or self.names[0]].read_text().strip() or None
        except OSError:
            return None

    def _guarded(self, connection):
        """A server that stops answering while the locks are taken or given back: OperationalError, not a hang."""
        if not self.timeout:
            return nullcontext()
        return guarding(connection.connection.dbapi_connection, self.timeout + GRACE)

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                with self._guarded(connection):
                    connection.close()  # ends the session, which frees the advisory locks
            except UNREACHABLE:  # the server is gone: it frees the locks when it notices
                pass
        if self._files:
            files, self._files = self._files, []
            self._unlock(files)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
