"""Folders a crawl writes to (data, database, lock, spool, WARC): checked before crawling, named when they fail.

A cron job that cannot write its spool or lock file should say which folder and
which setting moves it, once, with its own exit code (crawler.exitcodes.CANNOT_WRITE),
rather than fail later with a PermissionError traceback per page. The check makes
a file there: permission bits alone do not tell (root, ACLs, read-only mounts).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url


class FolderNotWritable(OSError):
    """A folder (or file) the crawl must write cannot be written; the message names it and the fix."""


def writable_folder(path: Path | str, what: str, setting: str | None = None) -> Path:
    """The folder, made if missing, after proving a file can be created in it; else FolderNotWritable."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise FolderNotWritable(_message(f"the {what} folder {folder}", exc, setting)) from None
    return folder


def writable_file(path: Path | str, what: str, setting: str | None = None) -> Path:
    """An existing file that must be written in place (a SQLite database), opened for writing and closed."""
    target = Path(path)
    try:
        with target.open("r+b"):
            pass
    except FileNotFoundError:
        return target  # made on first use, in a folder checked with writable_folder
    except OSError as exc:
        raise FolderNotWritable(_message(f"the {what} {target}", exc, setting)) from None
    return target


def _message(what: str, exc: OSError, setting: str | None) -> str:
    reason = exc.strerror or str(exc)
    return f"cannot write {what}: {reason}" + (f" (set {setting} to another place)" if setting else "")


def writable_database(database_url: str) -> None:
    """A SQLite database's folder (SQLite writes its -wal and -shm files there) and file; other databases pass."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database)
        writable_folder(database.parent, "database", "DATABASE_URL")
        writable_file(database, "database file", "DATABASE_URL")
