"""`python -m crawler run SPIDER`: one scheduled crawl, safe to start from cron every few minutes.

In order: take the run locks of the sites this run crawls, on this database (or exit 75 at
once: runs on the same sites exclude each other, runs on disjoint sites may overlap);
check the database (exit 5 if unreachable); ingest pages spooled by earlier
runs while the database was down; crawl incrementally (see
crawler.middlewares.incremental), archiving responses as WARC under
data/warc unless WARC_DIR is set; print one summary line per site (when there
are several) and one for the run; with CAIXUN_REPORT=FILE, write the crawl health
report (storage.report) there, atomically, so a web server can serve it while cron
updates it; exit with the code from crawler.exitcodes (73 when the crawl went well
but the report could not be written).

Without max_pages or since, a run reads up to RUN_MAX_PAGES list pages per
source; after the first finished run it stops at the watermark, well before.

Example crontab lines (every 5 minutes; output appended to a log):
  */5 * * * * cd /srv/caixun && .venv/bin/python -m crawler run news >> data/cron.log 2>&1
  */5 * * * * cd /srv/caixun && .venv/bin/python -m crawler run news -a sites=sina >> data/sina.log 2>&1
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import datetime, timezone
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings

from crawler import exitcodes
from crawler.folders import FolderNotWritable, writable_database, writable_folder
from crawler.ingest import extract_page, sandbox_from_settings, store_page
from crawler.logmasking import install_log_masking
from crawler.runlock import RunLock
from crawler.spool import DEFAULT_SPOOL_DIR, Spool, SpooledRunEnd
from crawler.startup import StartupWatch
from crawler.store import DEFAULT_DATABASE_TIMEOUT, DEFAULT_RETRY_SECONDS, UNREACHABLE, CrawlStore, DatabaseMissing
from storage import mask_url, resolve_database_url
from storage.db import DATA_DIR, DatabaseURLError, make_engine, missing_database
from storage.export import ExportError
from storage.extras import MissingExtra, require
from storage.migrate import OutdatedSchema
from storage.provenance import finish_abandoned_runs, finish_run, recorded_fetch
from storage.runs import summary_lines

if TYPE_CHECKING:
    from extractors.sandbox import Sandbox

logger = logging.getLogger("crawler.run")

RUN_MAX_PAGES = 10
QUIET_LOG_LEVEL = "WARNING"  # python -m crawler run's default; -s LOG_LEVEL=INFO brings the rest back
REPORT_TIMEOUT = 120.0  # seconds a statement of the health report may take (a year of runs takes a few)
DEFAULT_WARC_DIR = DATA_DIR / "warc"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_crawl_arguments(parser, "run")


def add_crawl_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The arguments crawl_settings reads: the spider, its -a arguments, -s settings and --database-url;
    the help's epilog lists the spiders' arguments, the sites and the exit codes (crawl_epilog)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = crawl_epilog(command)
    parser.add_argument("spider", help="spider name: news (every site), or sina_finance")
    parser.add_argument("-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE",
                        help="spider argument (repeatable), as for scrapy crawl")  # fmt: skip
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="Scrapy setting (repeatable), as for scrapy crawl")  # fmt: skip
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL, else data/caixun.db)")


def _spiders() -> dict[str, type]:
    """The project's spiders by name (SPIDER_MODULES)."""
    loader = get_spider_loader(get_project_settings())
    return {name: loader.load(name) for name in sorted(loader.list())}


def crawl_epilog(command: str) -> str:
    """What --help shows after the options, built from the spiders' ARGUMENTS, the site registry and
    crawler.exitcodes, so that it cannot drift from them."""
    from crawler.sites import crawlable_sites

    lines = [f"spider arguments (-a NAME=VALUE; any other name is refused: exit {exitcodes.USAGE}):"]
    for name, spider in _spiders().items():
        lines.append(f"  {name}")
        for argument, text in getattr(spider, "ARGUMENTS", {}).items():
            lines += textwrap.wrap(text, 100, initial_indent=f"    {argument + '=':<12}", subsequent_indent=" " * 16)
    if command == "run":
        lines += [f"  without max_pages, since, urls or url_file, a run reads up to {RUN_MAX_PAGES} list pages per",
                  "  source (it stops at the watermark of the last run well before)"]
    lines += ["", "sites (-a sites=NAME,…; python -m crawler sites shows their sources and recorded pages):"]
    lines += textwrap.wrap(", ".join(rule.name for rule in crawlable_sites()), 100, initial_indent="  ",
                           subsequent_indent="  ")  # fmt: skip
    if command == "run":
        lines += ["", "logging: WARNING and above, and the summary lines on stdout; -s LOG_LEVEL=INFO shows the rest"]
    lines += ["", "exit codes:", exitcodes.described()]
    return "\n".join(lines)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, content = value.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{what} {value!r} is not NAME=VALUE")
        pairs[name.strip()] = content
    return pairs


@dataclass
class Ingested:
    """What ingesting the spool did."""

    pages: int = 0  # stored now
    already: int = 0  # stored by an earlier ingestion that was stopped before it deleted its file
    runs_closed: int = 0  # crawl runs whose end is recorded from the spool


def ingest_spool(store: CrawlStore, spool: Spool, sandbox: Sandbox | None = None) -> Ingested:
    """Store every spooled record, deleting each file once all of it is committed.

    Pages are extracted in `sandbox` (default: crawler.ingest's, under the project's settings). Idempotent:
    a page whose fetch an earlier ingestion already stored (it was killed before deleting the file) is not
    stored or recorded again.
    """
    done = Ingested()
    for path in spool.files():
        with Spool.claimed(path) as ours:
            if ours:
                _ingest_file(store, path, sandbox, done)
            else:
                logger.info("spool file %s is being written by a running crawl: left for later", path)
    return done


def _ingest_file(store: CrawlStore, path: Path, sandbox: Sandbox | None, done: Ingested) -> None:
    for record in Spool.read(path):
        if isinstance(record, SpooledRunEnd):
            with store.sessions.begin() as session:
                finish_run(session, record.crawl_run_id, **record.fields)
            done.runs_closed += 1
            continue
        page = record.page
        with store.sessions.begin() as session:
            page.fetch_id, stored = recorded_fetch(
                session, fetch_id=page.fetch_id, requested_url=page.request_url, final_url=page.url,
                fetched_at=page.fetched_at,
            )  # fmt: skip
        if stored:
            done.already += 1
            continue
        extracted = extract_page(page, sandbox) if page.status == 200 else None  # outside the transaction
        with store.sessions.begin() as session:
            store_page(session, page, extracted, record.crawl_run_id)
        done.pages += 1
    path.unlink()
    logger.info("ingested spool file %s", path)


def ingest_spool_of(settings, store: CrawlStore) -> Ingested:
    """Ingest the spool folder of these settings (pages extracted under their limits), saying what it did."""
    with sandbox_from_settings(settings, workers=1) as sandbox:
        ingested = ingest_spool(store, Spool(settings.get("CAIXUN_SPOOL_DIR") or None), sandbox)
    if ingested.pages or ingested.already or ingested.runs_closed:
        logger.info(
            "ingested the spool: %d page(s) stored, %d stored before, %d run end(s) recorded",
            ingested.pages, ingested.already, ingested.runs_closed,
        )  # fmt: skip
    return ingested


def check_folders(settings, database_url: str, lock: RunLock | None = None) -> None:
    """Every folder the run writes, before it takes the lock or crawls: FolderNotWritable names the first that fails."""
    writable_database(database_url)
    if lock is not None and lock.folder is not None:
        writable_folder(lock.folder, "run lock", "CAIXUN_LOCK_DIR")
    writable_folder(settings.get("CAIXUN_SPOOL_DIR") or DEFAULT_SPOOL_DIR, "spool", "CAIXUN_SPOOL_DIR")
    writable_folder(settings.get("WARC_DIR"), "WARC", "WARC_DIR")
    if report := settings.get("CAIXUN_REPORT"):
        if Path(report).is_dir():
            raise FolderNotWritable(f"cannot write the health report {report}: it is a folder (set CAIXUN_REPORT to a file)")
        writable_folder(Path(report).parent, "health report", "CAIXUN_REPORT")


def write_health_report(database_url: str, path: str, timeout: float) -> bool:
    """The crawl health report of the last year (storage.report) written to `path`; False, logged, if it cannot be."""
    from storage.report import write_report  # matplotlib: loaded only when a report is asked for

    try:
        limit = max(timeout, REPORT_TIMEOUT) if timeout else None  # CAIXUN_DATABASE_TIMEOUT=0: no limit
        engine = make_engine(database_url, create=False, statement_timeout=limit)
        try:
            data = write_report(engine, Path(path), store=mask_url(database_url))
        finally:
            engine.dispose()
    except (ExportError, *UNREACHABLE) as exc:  # UNREACHABLE includes a statement past its timeout
        logger.error("cannot write the health report %s: %s", path, getattr(exc, "orig", None) or exc)
        return False
    logger.info("wrote the health report %s (%d runs, %d articles stored from %s to %s)", path, len(data["runs"]),
                data["articles"], data["period"]["first"], data["period"]["last"])  # fmt: skip
    return True


def crawl_settings(args: argparse.Namespace, command: str) -> tuple[Settings, dict[str, str]] | None:
    """The project's settings under the command line's -s, --database-url and defaults, and the spider
    arguments (max_pages defaults to RUN_MAX_PAGES); None, said on stderr, for a bad -a or -s."""
    try:
        spider_args = _pairs(args.spider_args, "spider argument")
        overrides = _pairs(args.settings, "setting")
    except ValueError as exc:
        print(f"python -m crawler {command}: {exc}", file=sys.stderr)
        return None
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    if command == "run":  # cron mails or appends what a run says: its summary, and what went wrong
        settings.set("LOG_LEVEL", QUIET_LOG_LEVEL, priority="project")  # -s LOG_LEVEL=… (cmdline) wins
    if args.database_url:
        settings.set("DATABASE_URL", args.database_url, priority="cmdline")
    if not settings.get("WARC_DIR"):
        settings.set("WARC_DIR", str(DEFAULT_WARC_DIR), priority="cmdline")  # re-extraction needs the archive
    if not {"max_pages", "since", "urls", "url_file"} & spider_args.keys():
        spider_args["max_pages"] = str(RUN_MAX_PAGES)
    return settings, spider_args


# settings that need an optional extra: setting → (extra, the modules it brings)
EXTRA_SETTINGS = {"CAIXUN_REPORT": ("report", ("matplotlib",)), "CAIXUN_FRONTIER": ("distributed", ("scrapy_redis", "redis"))}


def missing_extra(settings: Settings) -> str | None:
    """Why these settings cannot work in this installation (a setting whose extra is not installed), or None.
    Checked before anything starts: a crawl must not run for an hour and then fail to write its report."""
    for name, (extra, modules) in EXTRA_SETTINGS.items():
        if settings.get(name):
            try:
                for module in modules:
                    require(module, extra)
            except MissingExtra as exc:
                return f"{name} is set, but {exc}"
    return None


def database_failed(exc: BaseException, database_url: str) -> int:
    """The exit code of a database error before crawling, said in one line: 2 (usage) with what to create for a
    PostgreSQL database or role that does not exist (a configuration error, not an outage), else 5."""
    missing = str(exc) if isinstance(exc, DatabaseMissing) else missing_database(exc, database_url)
    if missing:
        logger.error("%s: nothing crawled", missing)
        return exitcodes.USAGE
    logger.error("the database %s is unreachable, nothing crawled: %s", mask_url(database_url),
                 getattr(exc, "orig", None) or exc)  # fmt: skip
    return exitcodes.DATABASE


def crawler_process(settings: Settings, spider: str, spider_args: dict[str, str]) -> tuple[CrawlerProcess, str] | int:
    """The CrawlerProcess (it sets up logging as scrapy crawl does) and the database URL; or exit code 2, said
    in one line, for an unknown spider, an -a name the spider does not take, or a bad database URL."""
    process = CrawlerProcess(settings)
    if spider not in process.spider_loader.list():
        logger.error("no spider %r; there are: %s", spider, ", ".join(process.spider_loader.list()))
        return exitcodes.USAGE
    check = getattr(process.spider_loader.load(spider), "check_arguments", None)
    try:
        if check is not None:
            check(spider_args)
    except ValueError as exc:
        logger.error("%s", exc)
        return exitcodes.USAGE
    try:
        return process, resolve_database_url(settings.get("DATABASE_URL") or None)
    except DatabaseURLError as exc:
        logger.error("%s", exc)
        return exitcodes.USAGE


def crawl(process: CrawlerProcess, spider: str, spider_args: dict[str, str], started: float,
          stopped_is_ok: bool = False) -> int:  # fmt: skip
    """Run the spider to its end, print its summary lines, and give its exit code. With stopped_is_ok a
    crawl stopped by SIGTERM or Ctrl-C (how a daemon worker is stopped) exits 0 unless something failed."""
    crawler = process.create_crawler(spider)
    startup = StartupWatch()
    startup.watch(process.crawl(crawler, **spider_args))
    process.start()
    if process.bootstrap_failed or crawler.stats is None or startup.error is not None:
        return startup.exit_code
    stats = crawler.stats.get_stats()
    reason = stats.get("finish_reason")
    code = exitcodes.exit_code_for("finished" if stopped_is_ok and reason == "shutdown" else reason, stats)
    print("\n".join(summary_lines(spider, stats, code, time.monotonic() - started)), flush=True)
    return code


def main(args: argparse.Namespace) -> int:
    install_log_masking()
    started = time.monotonic()
    if (loaded := crawl_settings(args, "run")) is None:
        return exitcodes.USAGE
    settings, spider_args = loaded
    if missing := missing_extra(settings):
        print(f"python -m crawler run: {missing}", file=sys.stderr)
        return exitcodes.FAILED
    if isinstance(opened := crawler_process(settings, args.spider, spider_args), int):
        return opened
    process, database_url = opened
    try:  # the run's locks: the sites it crawls (crawler.spiders.news), else the spider's name
        planned = getattr(process.spider_loader.load(args.spider), "planned_sites", None)
        lock_names = planned(**spider_args) if planned else [args.spider]
    except (TypeError, ValueError) as exc:
        logger.error("%s: %s", args.spider, exc)
        return exitcodes.USAGE
    shown = mask_url(database_url)
    timeout = settings.getfloat("CAIXUN_DATABASE_TIMEOUT", DEFAULT_DATABASE_TIMEOUT)
    lock = RunLock(lock_names, database_url, settings.get("CAIXUN_LOCK_DIR") or None, timeout=timeout)
    try:
        check_folders(settings, database_url, lock)
        if not lock.acquire():
            holder = lock.holder()
            print(
                f"{args.spider}: a run on {lock.blocked} is already running on {shown} ({lock.where}"
                + (f", held by pid {holder}" if holder else "") + "): this run exits without crawling",
                file=sys.stderr,
            )
            return exitcodes.ALREADY_RUNNING
    except FolderNotWritable as exc:
        logger.error("%s: nothing crawled", exc)
        return exitcodes.CANNOT_WRITE
    except UNREACHABLE as exc:
        return database_failed(exc, database_url)
    with lock:
        try:
            store = CrawlStore(
                database_url, timeout, settings.getfloat("CAIXUN_DATABASE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS)
            )
            ingest_spool_of(settings, store)
            with store.sessions.begin() as session:
                abandoned = finish_abandoned_runs(session, args.spider, datetime.now(timezone.utc), sites=lock.names)
            store.close()
        except OutdatedSchema as exc:  # a decision for the operator, not an outage
            logger.error("%s", exc)
            return exitcodes.FAILED
        except (RuntimeError, *UNREACHABLE) as exc:  # DatabaseMissing is a RuntimeError
            return database_failed(exc, database_url)
        if abandoned:
            logger.warning("closed %d earlier run(s) that never recorded their end as abandoned: %s",
                           len(abandoned), ", ".join(map(str, abandoned)))  # fmt: skip
        code = crawl(process, args.spider, spider_args, started)
        if (report := settings.get("CAIXUN_REPORT")) and not write_health_report(database_url, report, timeout):
            return code or exitcodes.CANNOT_WRITE
        return code
