"""Command line: ``python -m benchmarks.health [--articles N] [--runs R] [--databases sqlite,postgresql] [--store-dir DIR]``.

The crawl health report (storage.report) at scale: a store of N synthetic articles (benchmarks.synthetic, bulk-filled
as benchmarks.storage does) over two years, one in DUPLICATE_EVERY linked as a duplicate, and R crawl runs spread
evenly over its last year (hourly for R = 8,760), each with the stats and field coverage a `news` run of the ten
sites records: a ban now and then, a template change that drops one site's coverage for a week, failures by reason.
It then times `python -m storage report` on that year, and on the whole store (both years, every article), as a user runs
it (a new process: imports included), and the parts in this process (storage.health's queries, storage.report's
rendering), and prints the HTML size.

Target (issue 13): a year of hourly runs and a million articles in under 10 s and under 10 MB of HTML.

--store-dir keeps the SQLite store (and, for PostgreSQL, the name of the database it filled) for the next run, so the
half-hour fill is paid once; without it the stores are temporary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import func, select, text

from benchmarks.bulk_fill import bulk_fill, cache_key
from benchmarks.storage import DEFAULT_POSTGRES_URL, postgresql_database, prepare_for_queries, sqlite_database
from benchmarks.synthetic import CST, SEED, SITES, SPAN_DAYS, START, Synthesizer, load_sources, symbol_pool
from storage import make_engine, mask_url, session_factory
from storage.db import reader_engine
from storage.health import health
from storage.models import CrawlRun, StoredArticle
from storage.provenance import finish_run, start_run
from storage.report import render

logger = logging.getLogger(__name__)

TARGET_SECONDS = 10.0
TARGET_BYTES = 10 * 1024 * 1024
DUPLICATE_EVERY = 25  # one article in 25 is linked to the one before it
RUN_MINUTES = 3  # how long a synthetic run takes
BAN_EVERY = 400  # about one run in 400 is banned by one site
FAILURE_REASONS = ("timeout", "http_503", "connection_refused", "extract_timeout")
TEMPLATE_CHANGE_SITE, TEMPLATE_CHANGE_DAYS = "ifeng", 7  # its published_at goes missing for a week, mid-year
TIMINGS = 3  # timed calls of each kind (--timings)


def report_year() -> tuple[date, date]:
    """The last 365 days of the synthetic articles' span."""
    last = (START + timedelta(days=SPAN_DAYS - 1)).date()
    return last - timedelta(days=364), last


def _run_stats(rng: random.Random, number: int, banned: str | None) -> dict[str, Any]:
    """The stats a `news` run of the ten sites leaves: Scrapy's own, then caixun's per site and in total."""
    stats: dict[str, Any] = {
        "downloader/request_count": 0, "downloader/response_count": 0, "downloader/response_status_count/200": 0,
        "item_scraped_count": 0, "log_count/INFO": rng.randint(20, 40), "log_count/WARNING": rng.randint(0, 3),
        "memusage/max": rng.randint(150, 250) * 2**20, "scheduler/enqueued/memory": 0, "scheduler/dequeued/memory": 0,
        "start_time": "2025-01-01T00:00:00+00:00", "finish_reason": "finished", "caixun/crawl_run_id": number,
    }  # fmt: skip
    totals: dict[str, int] = {}
    for site in SITES:
        counts = {
            "storage/inserted": rng.randint(0, 40), "storage/updated": rng.randint(0, 3),
            "storage/unchanged": rng.randint(0, 5), "incremental/skipped": rng.randint(20, 200),
            "storage/not_modified": rng.randint(0, 10), "storage/not_article": rng.randint(0, 2),
            "fetch/failed": rng.choice((0, 0, 0, 0, 1, 2)), "fetch/article_pages": 0, "list/pages": rng.randint(1, 4),
        }  # fmt: skip
        counts["fetch/article_pages"] = sum(counts[k] for k in ("storage/inserted", "storage/updated", "storage/unchanged",
                                                                  "storage/not_article", "fetch/failed"))  # fmt: skip
        for key, value in counts.items():
            stats[f"caixun/site/{site}/{key}"] = value
            totals[key] = totals.get(key, 0) + value
    for key, value in totals.items():
        stats[f"caixun/{key}"] = value
    for n in range(totals["fetch/failed"]):
        reason = FAILURE_REASONS[(number + n) % len(FAILURE_REASONS)]
        stats[f"caixun/fetch/failed/{reason}"] = stats.get(f"caixun/fetch/failed/{reason}", 0) + 1
    if banned:
        stats.update({"caixun/ban/detected": 1, "caixun/ban/reason": "HTTP 456", "caixun/ban/sites": [banned],
                      f"caixun/ban/{banned}/reason": "HTTP 456"})  # fmt: skip
    return stats


def _run_coverage(rng: random.Random, stats: dict[str, Any], dropped: bool) -> dict[str, Any]:
    sites = {}
    for site in SITES:
        articles = stats[f"caixun/site/{site}/storage/inserted"] + stats[f"caixun/site/{site}/storage/updated"]
        shares = {"title": 1.0, "body": 1.0, "published_at": round(rng.uniform(0.97, 1.0), 4), "source": round(rng.uniform(0.8, 1.0), 4)}
        if dropped and site == TEMPLATE_CHANGE_SITE:
            shares["published_at"] = 0.0
        sites[site] = {"articles": articles, **shares}
    total = sum(record["articles"] for record in sites.values())
    return {"articles": total, "title": 1.0, "body": 1.0, "published_at": 0.99, "source": 0.9, "sites": sites,
            "thresholds": {"title": 0.99, "body": 0.99, "published_at": 0.95}}  # fmt: skip


def add_runs(engine: sqlalchemy.Engine, runs: int, seed: int = SEED) -> float:
    """`runs` crawl runs evenly over report_year(), through storage.provenance; returns the seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed)
    first, last = report_year()
    begin = datetime.combine(first, datetime.min.time(), CST)
    step = timedelta(days=365) / runs
    change_from = begin + timedelta(days=180)
    sessions = session_factory(engine)
    for batch in range(0, runs, 500):
        with sessions.begin() as session:
            for number in range(batch, min(batch + 500, runs)):
                at = begin + step * number
                banned = rng.choice(list(SITES)) if rng.randrange(BAN_EVERY) == 0 else None
                stats = _run_stats(rng, number + 1, banned)
                dropped = change_from <= at < change_from + timedelta(days=TEMPLATE_CHANGE_DAYS)
                code = 3 if banned else (4 if dropped else 0)
                run_id = start_run(session, "news", {"crawl_sites": list(SITES)}, at.astimezone(timezone.utc))
                finish_run(session, run_id, finished_at=(at + timedelta(minutes=RUN_MINUTES)).astimezone(timezone.utc),
                           finish_reason="finished", stats=stats, exit_status=code,
                           coverage=_run_coverage(rng, stats, dropped))  # fmt: skip
    return time.perf_counter() - started


def mark_duplicates(engine: sqlalchemy.Engine) -> int:
    """Link one article in DUPLICATE_EVERY to the one before it, as the writer links a near-duplicate."""
    with engine.begin() as connection:
        return connection.execute(
            text(f"UPDATE articles SET duplicate_of = id - 1 WHERE id % {DUPLICATE_EVERY} = 0 AND id > 1")
        ).rowcount


def fill(engine: sqlalchemy.Engine, articles: int, runs: int, cache: Path | None) -> dict[str, Any]:
    """Articles, duplicates and runs up to the counts asked, adding only what is missing."""
    done: dict[str, Any] = {}
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(StoredArticle)).scalar_one()
        recorded = connection.execute(select(func.count()).select_from(CrawlRun)).scalar_one()
    if stored < articles:
        if stored:
            raise SystemExit(f"the store holds {stored:,} articles, fewer than {articles:,}: start from an empty one")
        sources = load_sources()
        logger.info("bulk fill: %d articles", articles)
        filled = bulk_fill(engine, Synthesizer(sources, SEED, symbol_pool(seed=SEED)), articles,
                           workers=os.cpu_count() or 1, cache=cache, key=cache_key(sources, SEED))  # fmt: skip
        done["fill_seconds"] = round(filled.seconds, 1)
    with engine.connect() as connection:
        linked = connection.execute(select(func.count()).where(StoredArticle.duplicate_of.is_not(None))).scalar_one()
    if not linked:
        done["duplicates_linked"] = mark_duplicates(engine)
        prepare_for_queries(engine)
    if recorded < runs:
        if recorded:
            raise SystemExit(f"the store holds {recorded:,} crawl runs, fewer than {runs:,}: start from an empty one")
        done["runs_seconds"] = round(add_runs(engine, runs), 1)
        prepare_for_queries(engine)
    return done


def _timed(call) -> tuple[float, Any]:
    clock = time.perf_counter()
    result = call()
    return time.perf_counter() - clock, result


def periods() -> dict[str, tuple[date, date]]:
    """The periods timed: the year of the runs, and the whole span of the articles (all of them, twice the days)."""
    return {"year": report_year(), "whole store": (START.date(), report_year()[1])}


def measure(url: str, timings: int = TIMINGS) -> dict[str, Any]:
    """The report of each of periods(), timed as a command (new process) and in parts; its size."""
    with tempfile.TemporaryDirectory(prefix="caixun_health_") as folder:
        return {name: _measure(url, Path(folder) / "report.html", *days, timings) for name, days in periods().items()}


def _measure(url: str, out: Path, first: date, last: date, timings: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "storage", "report", "--database-url", url, "--since", first.isoformat(),
               "--until", last.isoformat(), "--out", str(out)]  # fmt: skip
    commands = []
    for _ in range(timings):
        seconds, result = _timed(lambda: subprocess.run(command, capture_output=True, text=True))
        if result.returncode != 0:
            raise SystemExit(f"python -m storage report failed: {result.stderr[-2000:]}")
        commands.append(seconds)
    engine = reader_engine(url)  # as the command's: the default statement timeout
    queries, renders = [], []
    for _ in range(timings):
        seconds, data = _timed(lambda: health(engine, since=first, until=last))
        queries.append(seconds)
        seconds, page = _timed(lambda: render(data))
        renders.append(seconds)
    engine.dispose()
    size = out.stat().st_size
    return {
        "period": f"{first} to {last}",
        "runs_in_period": len(data["runs"]),
        "articles_in_period": data["articles"],
        "command_seconds": {"median": round(statistics.median(commands), 2), "max": round(max(commands), 2)},
        "health_seconds": {"median": round(statistics.median(queries), 2), "max": round(max(queries), 2)},
        "render_seconds": {"median": round(statistics.median(renders), 2), "max": round(max(renders), 2)},
        "html_bytes": size,
        "verdict": "PASS" if max(commands) < TARGET_SECONDS and size < TARGET_BYTES else "FAIL",
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.health", description=__doc__.split("\n\n")[1])
    parser.add_argument("--articles", type=int, default=1_000_000, help="articles in the store (default 1000000)")
    parser.add_argument("--runs", type=int, default=9000, help="crawl runs over the report's year (default 9000)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help=f"server for the PostgreSQL store (default {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--store-dir", type=Path, help="keep the stores here for the next run (SQLite file, PostgreSQL database name)")
    parser.add_argument("--prepared-cache", type=Path, help="as for benchmarks.storage: the fill's prepared values, kept for the next fill")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--timings", type=int, default=TIMINGS, help=f"timed calls of each kind (default {TIMINGS})")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(args.databases) - {"sqlite", "postgresql"}:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if min(args.articles, args.runs, args.timings) < 1:
        parser.error("--articles, --runs and --timings must be positive")
    return args


def _kept_postgresql(args: argparse.Namespace):
    """A database named in --store-dir (made on first use), or a temporary one."""
    if args.store_dir is None:
        return postgresql_database(args.postgres_url)
    import psycopg

    name = f"caixun_health_{args.articles}_{args.runs}"
    plain = sqlalchemy.engine.make_url(args.postgres_url).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    (args.store_dir / "postgresql-database").write_text(name + "\n")
    return contextlib.nullcontext(plain.set(database=name).render_as_string(hide_password=False))


def _shown(argv: list[str]) -> list[str]:
    """The arguments as the results file records them: folders of this machine as STORE_DIR and CACHE_DIR."""
    shown, names = [], {"--store-dir": "STORE_DIR", "--prepared-cache": "CACHE_DIR"}
    for argument in argv:
        name, sep, _ = argument.partition("=")
        if sep and name in names:
            argument = f"{name}={names[name]}"
        elif shown and shown[-1] in names:
            argument = names[shown[-1]]
        shown.append(argument)
    return shown


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command = " ".join(["python -m benchmarks.health", *_shown(argv if argv is not None else sys.argv[1:])])
    output: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command,
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "articles": args.articles, "runs": args.runs, "databases": {},
        "target": f"python -m storage report on a year: under {TARGET_SECONDS:.0f} s and {TARGET_BYTES // 2**20} MB",
    }  # fmt: skip
    print(f"# {command}\n# {output['created']}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.store_dir is not None:
        args.store_dir.mkdir(parents=True, exist_ok=True)
    for kind in args.databases:
        if kind == "sqlite":
            kept = f"sqlite:///{args.store_dir / f'health-{args.articles}-{args.runs}.db'}" if args.store_dir else None
            database = contextlib.nullcontext(kept) if kept else sqlite_database()
        else:
            database = _kept_postgresql(args)
        with database as url:
            engine = make_engine(url)
            print(f"\n== {kind}: {mask_url(url)}", flush=True)
            result = fill(engine, args.articles, args.runs, args.prepared_cache)
            engine.dispose()
            result["periods"] = measure(url, args.timings)
            output["databases"][kind] = result
            print(json.dumps(result, indent=2), flush=True)
    output["environment"]["load_average_at_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(output, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
