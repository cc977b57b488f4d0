"""`python -m crawler reextract`: run the current extractors again over the archived raw responses.

For each stored article, the latest fetch that answered 200 and was archived
(WarcWriterMiddleware; fetches.warc_file and warc_offset) is read back from its
WARC file, its Content-Encoding undone, and fed to extraction exactly as
crawler.ingest does: Page(url=final_url, body=..., headers=...) extracted in a
worker process under the extraction limits of the project's settings
(crawler.ingest.default_sandbox: CAIXUN_EXTRACT_*). The
article is then upserted with storage.write.upsert_article_with_id
(fetched_at = the fetch's, changed_at = now), so a changed title or body keeps
the old version in article_revisions. The network is never used, and no
fetches row is added or changed.

  --site S            only articles whose articles.site is S (a key of extractors' registry, or generic)
  --since YYYY-MM-DD  only articles whose latest archived fetch is on or after this day (China time)
  --database-url URL  default $DATABASE_URL, else data/caixun.db; a missing SQLite file is an error
  --warc-dir DIR      where to look for the WARC files first, by file name (archives moved, or
                      recorded before paths were absolute), then at the recorded path; repeatable;
                      default the WARC_DIR setting, data/warc (python -m crawler run's) and the current folder
  --no-progress       no progress bar (tqdm, on stderr)

Prints one summary line on stdout:
  re-extracted N: X updated, Y unchanged, Z not an article any more, W missing archive
N counts every article looked at. Articles whose page is not an article any more
are left as they are. Appended when not zero: "S skipped (stored from a newer
unarchived fetch)" (re-extracting would bring back an older version) and "F
failed" (extraction failed: over a limit, extract_timeout, extract_memory, …,
or raised; each logged with its reason, or traceback). A failed article is left as it is.

Exit status: 0 every archive was read; 1 some archive was missing or unreadable
(the first few are named in a warning), some extraction failed, or the database
could not be used; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader

from crawler.ingest import default_sandbox
from extractors import Page
from extractors.registry import site_names
from storage import mask_url, resolve_database_url, session_factory
from storage.archive import (
    ArchivedFetch,
    archived_fetches,
    count_archived_fetches,
)
from storage.db import DatabaseURLError, MissingDatabase, reader_engine
from storage.migrate import OutdatedSchema
from storage.query import DateOutOfRange, day_start
from storage.write import upsert_article_with_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

COMMIT_EVERY = 100
NAMED_MISSING = 5  # missing archives named in the warning
# the body handed to extraction is decoded, as Scrapy's HttpCompressionMiddleware leaves it
_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- arguments ---------------------------------------------------------------------------------------------------


def _site(value: str) -> str:
    known = sorted(site_names())
    if value not in known:
        raise argparse.ArgumentTypeError(f"unknown site {value!r}; known: {', '.join(known)}")
    return value


def _china_day(value: str) -> datetime:
    """YYYY-MM-DD as the start of that day in China time (like the spider's `since`)."""
    try:
        if _DATE.fullmatch(value):
            return day_start(date.fromisoformat(value))
    except DateOutOfRange as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=_site, metavar="SITE", help="only articles of this site key, e.g. sina")
    parser.add_argument(
        "--since", type=_china_day, metavar="YYYY-MM-DD", help="only articles fetched on or after this day (China time)"
    )
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL, else sqlite:///data/caixun.db)")
    parser.add_argument(
        "--warc-dir", action="append", type=Path, metavar="DIR",
        help="folder of moved WARC files (repeatable; default: the WARC_DIR setting, data/warc, the current folder)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


# --- reading the archive -----------------------------------------------------------------------------------------


class ArchiveUnreadable(Exception):
    pass


def default_warc_dirs() -> list[Path]:
    from scrapy.utils.project import get_project_settings  # the settings `scrapy crawl` would use

    from crawler.scheduled import DEFAULT_WARC_DIR

    configured = get_project_settings().get("WARC_DIR")
    return [Path(p) for p in dict.fromkeys([*([configured] if configured else []), str(DEFAULT_WARC_DIR), "."])]


def resolve_warc(name: str, warc_dirs: list[Path]) -> Path:
    """The archive file: its name in the first of warc_dirs that has it, else the recorded path."""
    path = Path(name)
    found = (d / path.name for d in warc_dirs if (d / path.name).is_file())
    return next(found, path if path.is_absolute() else warc_dirs[0] / path)


def read_response(path: Path, offset: int, url: str) -> tuple[bytes, dict[str, str]]:
    """The body (Content-Encoding undone) and headers of the `response` record for url at offset."""
    if not path.is_file():
        raise ArchiveUnreadable("no such file")
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)), None)
            if record is None or record.rec_type != "response" or record.http_headers is None:
                raise ArchiveUnreadable(f"no HTTP response record at offset {offset}")
            target = record.rec_headers.get_header("WARC-Target-URI")
            if target != url:
                raise ArchiveUnreadable(f"the record at offset {offset} is for {target}, not {url}")
            encoding = (record.http_headers.get_header("Content-Encoding") or "identity").strip().lower()
            if encoding not in ("identity", *BufferedReader.get_supported_decompressors()):
                raise ArchiveUnreadable(f"cannot decode Content-Encoding {encoding!r}")
            body = record.content_stream().read()  # warcio undoes chunking and the content encoding
            headers: dict[str, str] = {}
            for name, value in record.http_headers.headers:
                if name.lower() not in _DROPPED_HEADERS:  # repeated headers joined as the spider joins them
                    key = name.title()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
    except ArchiveUnreadable:
        raise
    except Exception as exc:  # a truncated file, a bad gzip member, a broken record: all unreadable
        raise ArchiveUnreadable(f"{type(exc).__name__}: {exc}") from None
    return body, headers


# --- re-extraction -----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)  # updated, unchanged, not_article, missing, skipped, failed
    missing: list[str] = field(default_factory=list)  # "URL: path (reason)", the first few
    kept_keys: int = 0  # extraction found another canonical URL; the stored one was kept

    def summary(self) -> str:
        c = self.counts
        line = (
            f"re-extracted {sum(c.values())}: {c['updated']} updated, {c['unchanged']} unchanged, "
            f"{c['not_article']} not an article any more, {c['missing']} missing archive"
        )
        if c["skipped"]:
            line += f", {c['skipped']} skipped (stored from a newer unarchived fetch)"
        if c["failed"]:
            line += f", {c['failed']} failed"
        return line


def reextract_one(session: Session, row: ArchivedFetch, warc_dirs: list[Path], now: datetime, tally: Tally) -> str:
    """Re-extract one article from its archived response; returns the outcome counted."""
    if row.newer_unarchived:
        return "skipped"
    path = resolve_warc(row.warc_file, warc_dirs)
    try:
        body, headers = read_response(path, row.warc_offset, row.final_url)
    except ArchiveUnreadable as exc:
        logger.debug("%s: %s: %s", row.final_url, path, exc)
        if len(tally.missing) < NAMED_MISSING:
            tally.missing.append(f"{row.final_url}: {path.absolute()} ({exc})")
        return "missing"
    extraction = default_sandbox().extract(Page(url=row.final_url, body=body, headers=headers))
    if extraction.outcome == "not_article":
        return "not_article"
    if extraction.article is None:
        logger.error("%s: extraction failed: %s%s", row.final_url, extraction.error,
                     f"\n{extraction.detail}" if extraction.detail else "")  # fmt: skip
        return "failed"
    article = extraction.article
    if (article.canonical_url or article.url) != row.canonical_url:
        # the article keeps its row: a new key would store it a second time
        tally.kept_keys += 1
        article = replace(article, canonical_url=row.canonical_url)
    outcome, _ = upsert_article_with_id(session, article, fetched_at=row.fetched_at, changed_at=now, refetch=False)
    return "unchanged" if outcome == "unchanged" else "updated"


def reextract(
    sessions: sessionmaker[Session],
    *,
    site: str | None = None,
    since: datetime | None = None,
    warc_dirs: list[Path],
    progress: bool = True,
) -> Tally:
    """Re-extract every selected article, committing every COMMIT_EVERY articles."""
    tally = Tally()
    now = datetime.now(timezone.utc)
    with sessions() as session:
        total = count_archived_fetches(session, site=site, since=since)
        with tqdm(total=total, unit="article", file=sys.stderr, disable=not progress) as bar:
            for done, row in enumerate(archived_fetches(session, site=site, since=since), 1):
                tally.counts[reextract_one(session, row, warc_dirs, now, tally)] += 1
                bar.update()
                if done % COMMIT_EVERY == 0:
                    session.commit()
                    bar.set_postfix(updated=tally.counts["updated"], missing=tally.counts["missing"], refresh=False)
        session.commit()
    return tally


# --- command -----------------------------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        url = resolve_database_url(args.database_url)
    except DatabaseURLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warc_dirs = args.warc_dir or default_warc_dirs()
    try:
        engine = reader_engine(url)
        try:
            with logging_redirect_tqdm():
                tally = reextract(
                    session_factory(engine), site=args.site, since=args.since, warc_dirs=warc_dirs,
                    progress=not args.no_progress,
                )  # fmt: skip
        finally:
            engine.dispose()
    except (MissingDatabase, OutdatedSchema) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"error: cannot use the database {mask_url(url)}: {str(exc.orig).strip()}", file=sys.stderr)
        return 1
    if tally.kept_keys:
        logger.warning("%d article(s) now extract with another canonical URL; each kept its stored one", tally.kept_keys)
    missing = tally.counts["missing"]
    if missing:
        more = f" (and {missing - len(tally.missing)} more)" if missing > len(tally.missing) else ""
        logger.warning(
            "%d archive(s) missing or unreadable: %s%s; relative WARC names are looked up in %s (--warc-dir)",
            missing, "; ".join(tally.missing), more, ", ".join(str(d.absolute()) for d in warc_dirs),
        )  # fmt: skip
    print(tally.summary())
    return 1 if missing or tally.counts["failed"] else 0
