"""The spool: what a crawl could not store while the database was unreachable, kept on local disk.

Settings read:
  CAIXUN_SPOOL_DIR   folder for spool files (default data/spool in the project)

One file per crawl process, spool-<UTC time>-<pid>.jsonl, one record per line,
flushed and fsynced line by line so a crash loses at most the line being
written. The writing process holds an flock on its file while it lives:
ingestion (crawler.scheduled.ingest_spool) takes the same lock and passes over
files it cannot have, so a worker never ingests, and deletes, the file of
another live worker on its machine. A record is a fetched page ({"crawl_run_id", "page"}) or the end of
the crawl run whose end could not be recorded ({"crawl_run_id", "run_end"}).
`python -m crawler run` ingests and deletes spool files before it crawls.

A spool folder that cannot be written raises OSError from add(): the caller
counts what was lost and says so; nothing pretends it was kept.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.items import FetchedPage
from storage.db import DATA_DIR

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_SPOOL_DIR = DATA_DIR / "spool"


@dataclass(frozen=True)
class SpooledPage:
    crawl_run_id: int | None
    page: FetchedPage


@dataclass(frozen=True)
class SpooledRunEnd:
    """How a crawl run ended (storage.provenance.finish_run's fields, times as ISO text)."""

    crawl_run_id: int
    fields: dict


class Spool:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else DEFAULT_SPOOL_DIR
        self._stream = None
        self.path: Path | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> Spool:
        """The crawler's spool, shared by the pipeline and the provenance extension: one file per process."""
        spool = getattr(crawler, "_caixun_spool", None)
        if spool is None:
            spool = crawler._caixun_spool = cls(crawler.settings.get("CAIXUN_SPOOL_DIR") or None)
        return spool

    def add(self, page: FetchedPage, crawl_run_id: int | None = None) -> Path:
        return self._append({"crawl_run_id": crawl_run_id, "page": page.to_json()})

    def add_run_end(self, crawl_run_id: int, fields: dict) -> Path:
        shown = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
        return self._append({"crawl_run_id": crawl_run_id, "run_end": shown})

    def _append(self, record: dict) -> Path:
        if self._stream is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self.path is None:
                self.path = self.directory / f"spool-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{os.getpid()}.jsonl"
            self._stream = self.path.open("a", encoding="utf-8")
            fcntl.flock(self._stream, fcntl.LOCK_EX)  # new and ours: no one else holds it; freed when we close or die
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._stream.flush()
        os.fsync(self._stream.fileno())
        return self.path

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("spool-*.jsonl")) if self.directory.is_dir() else []

    @staticmethod
    @contextmanager
    def claimed(path: Path) -> Iterator[bool]:
        """Hold `path`'s lock while the block runs; False (nothing held) when a live process is writing it."""
        try:
            stream = path.open("rb")  # flock needs no write access
        except FileNotFoundError:  # ingested and deleted by another process meanwhile
            yield False
            return
        with stream:
            try:
                fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield path.exists()

    @staticmethod
    def read(path: Path) -> Iterator[SpooledPage | SpooledRunEnd]:
        """The records of one file; a torn last line (a crash mid-write) is skipped with a warning."""
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    if "run_end" in record:
                        ended = record["run_end"]
                        ended["finished_at"] = datetime.fromisoformat(ended["finished_at"])
                        yield SpooledRunEnd(int(record["crawl_run_id"]), ended)
                    else:
                        yield SpooledPage(record.get("crawl_run_id"), FetchedPage.from_json(record["page"]))
                except (ValueError, KeyError, TypeError) as exc:
                    logger.warning("%s line %d is unreadable, skipped: %s", path, number, exc)
