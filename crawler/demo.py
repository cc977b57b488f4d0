"""`python -m crawler demo`: a whole crawl, offline, from the shipped archive examples/demo.warc.gz.

The real `news` spider, with the real engine, extractors and storage, runs as `python -m crawler run news`
does (crawler.scheduled: locks, spool, summary lines, exit code), except that every request is answered
from the archive (crawler.middlewares.warc_replay; the network is never used). It sweeps the list
sources of every site whose first list answers the archive holds, and the demo feed FEED_URL (on a
reserved .invalid host) for the sites the archive has pages of but which declare no list source. What
the archive holds, and why, is in examples/build_demo_archive.py, which rebuilds it.

Where it writes: data/demo.db, started afresh each time (the earlier data/demo.db and data/demo/ are
deleted first), and data/demo/ for its spool, run locks, WARC output and the report it suggests; never
data/caixun.db, $DATABASE_URL or the default spool. With --database-url the articles go to that database
instead, which is never deleted: a second demo run into it finds nothing new. With --folder the demo's
files go to that folder, which is never deleted either.

It prints the run's summary lines, then commands to try on what it stored.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from crawler import exitcodes
from storage import mask_url
from storage.db import DATA_DIR, DEFAULT_DATABASE_URL, PROJECT_DIR, DatabaseURLError, resolve_database_url

DEFAULT_ARCHIVE = PROJECT_DIR / "examples" / "demo.warc.gz"
DEFAULT_FOLDER = DATA_DIR / "demo"
DEFAULT_DEMO_DATABASE = DATA_DIR / "demo.db"
FEED_URL = "https://demo.caixun.invalid/feed.xml"  # .invalid (RFC 2606) is never a real host
SEARCH_WORDS = "经济"  # in articles of several demo sites
# the demo's pace: the archive answers at once, so no delay is owed to anyone
DEMO_SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "WARNING"}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="SQLAlchemy URL of the demo's store (default: data/demo.db, "
                        "started afresh each run; a database given here is never emptied)")  # fmt: skip
    parser.add_argument("--folder", type=Path, help="the demo's spool, run locks, WARC output and report "
                        "(default: data/demo/, emptied each run; a folder given here is never emptied)")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="the crawl's log at INFO (default: warnings only)")


def hosts_without_rule(archive: Path) -> list[str]:
    """The hosts of the archive's pages that no site rule handles (their articles are stored as "generic")."""
    from crawler.middlewares.warc_replay import WarcIndex
    from extractors.registry import rule_for

    hosts = {urlsplit(url).hostname for url in WarcIndex([archive]).offsets if rule_for(url) is None}
    return sorted(hosts - {urlsplit(FEED_URL).hostname})


def swept_sites(archive: Path) -> list[str]:
    """The sites with sources whose every first list request the archive answers."""
    from crawler.middlewares.warc_replay import WarcIndex, replay_key
    from crawler.sites import crawlable_sites
    from crawler.sources import first_urls

    archived = WarcIndex([archive]).offsets
    return [
        rule.name for rule in crawlable_sites()
        if all(replay_key(url) in archived for source in rule.sources for url in first_urls(source))
    ]  # fmt: skip


def _refused(database_url: str) -> str | None:
    """Why the demo will not write to this database: it is the default store or $DATABASE_URL."""
    try:
        given = resolve_database_url(database_url)
        guarded = [resolve_database_url(DEFAULT_DATABASE_URL)]
        if os.environ.get("DATABASE_URL"):
            guarded.append(resolve_database_url(os.environ["DATABASE_URL"]))
    except DatabaseURLError as exc:
        return str(exc)
    if given in guarded:
        return f"{mask_url(given)} is the default store (data/caixun.db or $DATABASE_URL): the demo never writes there"
    return None


def _start_afresh(folder: Path) -> None:
    """Delete the default demo store and folder (never anything else)."""
    for end in ("", "-wal", "-shm", "-journal"):
        Path(f"{DEFAULT_DEMO_DATABASE}{end}").unlink(missing_ok=True)
    if folder == DEFAULT_FOLDER and folder.is_dir():
        shutil.rmtree(folder)


def _shown_path(path: Path) -> str:
    """A path under the current folder relative to it, any other absolute."""
    path = Path(os.path.abspath(path))
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _shown_url(database_url: str) -> str:
    """The database URL for the printed commands: a SQLite file relative to here, a password masked (so a
    command with a PostgreSQL URL needs the password put back in)."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and database_url[len(prefix):] not in ("", ":memory:"):
        return prefix + _shown_path(Path(database_url[len(prefix):]))
    return mask_url(database_url)


def next_commands(database_url: str, folder: Path, site: str) -> list[str]:
    """Commands to try on the demo's store, exactly as they run from the current folder."""
    python = _shown_path(Path(sys.executable))  # the interpreter running the demo: the venv's, if any
    if not python.startswith("/"):
        python = python if "/" in python else f"./{python}"
    db = shlex.quote(_shown_url(database_url))
    report = shlex.quote(_shown_path(folder / "report.html"))
    return [
        f"{python} -m storage query --database-url {db} --site {shlex.quote(site)} --limit 5",
        f"{python} -m storage query --database-url {db} --search {shlex.quote(SEARCH_WORDS)} --limit 5",
        f"{python} -m storage stats --database-url {db}",
        f"{python} -m storage report --database-url {db} --out {report}",
    ]


def main(args: argparse.Namespace) -> int:
    from crawler import scheduled

    archive = DEFAULT_ARCHIVE
    if not archive.is_file():
        print(f"python -m crawler demo: the demo archive {archive} is missing; rebuild it with "
              "python examples/build_demo_archive.py", file=sys.stderr)  # fmt: skip
        return exitcodes.USAGE
    database_url = args.database_url or f"sqlite:///{DEFAULT_DEMO_DATABASE}"
    if why := _refused(database_url):
        print(f"python -m crawler demo: {why}", file=sys.stderr)
        return exitcodes.USAGE
    folder = (args.folder or DEFAULT_FOLDER).resolve()
    if args.database_url is None:
        _start_afresh(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sites = swept_sites(archive)
    settings = {
        **DEMO_SETTINGS,
        "REPLAY_WARC": str(archive),
        "CAIXUN_SPOOL_DIR": str(folder / "spool"),
        "CAIXUN_LOCK_DIR": str(folder / "locks"),
        "WARC_DIR": str(folder / "warc"),
        "CAIXUN_REPORT": "",
    }
    if args.verbose:
        settings["LOG_LEVEL"] = "INFO"
    run = argparse.Namespace(
        spider="news",
        spider_args=[f"sites={','.join(sites)}", f"feeds={FEED_URL}", "max_pages=1"],
        settings=[f"{key}={value}" for key, value in settings.items()],
        database_url=database_url,
    )
    print(f"python -m crawler demo: replaying {_shown_path(archive)} (no network) into {_shown_url(database_url)}: "
          f"the list sources of {', '.join(sites)}, and the demo feed {FEED_URL}", flush=True)  # fmt: skip
    code = scheduled.main(run)
    if code != exitcodes.OK:
        return code
    if generic := hosts_without_rule(archive):
        print(f"\ngeneric: the pages of hosts no site rule handles ({', '.join(generic)}), "
              "read by the generic extractor.")  # fmt: skip
    print("\nNext, try:")
    for command in next_commands(database_url, folder, "sina" if "sina" in sites else (sites or ["generic"])[0]):
        print(f"  {command}")
    return code
