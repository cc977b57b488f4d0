"""The spool: fetched pages kept on local disk while the database is unreachable.

Settings read:
  CAIXUN_SPOOL_DIR   folder for spool files (default data/spool in the project)

One file per crawl process, spool-<UTC time>-<pid>.jsonl, one FetchedPage per
line, flushed and fsynced line by line so a crash loses at most the line being
written. `python -m crawler run` ingests and deletes spool files before it
crawls; ingestion is an upsert, so a file ingested twice stores nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from crawler.items import FetchedPage
from storage.db import DATA_DIR

logger = logging.getLogger(__name__)

DEFAULT_SPOOL_DIR = DATA_DIR / "spool"


class Spool:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else DEFAULT_SPOOL_DIR
        self._stream = None
        self.path: Path | None = None

    def add(self, page: FetchedPage, crawl_run_id: int | None = None) -> Path:
        if self._stream is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.path = self.directory / f"spool-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{os.getpid()}.jsonl"
            self._stream = self.path.open("a", encoding="utf-8")
        record = {"crawl_run_id": crawl_run_id, "page": page.to_json()}
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
    def read(path: Path) -> Iterator[tuple[int | None, FetchedPage]]:
        """The records of one file; a torn last line (a crash mid-write) is skipped with a warning."""
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    yield record.get("crawl_run_id"), FetchedPage.from_json(record["page"])
                except (ValueError, KeyError, TypeError) as exc:
                    logger.warning("%s line %d is unreadable, skipped: %s", path, number, exc)
