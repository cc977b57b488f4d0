"""Command line: ``python -m benchmarks.storage [--articles N] [--databases sqlite,postgresql] [--postgres-url URL] [--json PATH]``.

Fills a store with N synthetic articles through the real writer, then times the readers' queries on it, on SQLite (a
temporary file) and on PostgreSQL (a fresh database, created and dropped). Exits 0 unless the harness fails; with
--check, exits 1 when a query misses its target.

The articles are the fixtures' texts recombined (benchmarks.synthetic), drawn from a fixed seed, so two runs store the
same articles and ask the same queries. With --writer-articles K only the first K articles go through upsert_article
(the ingest rate is measured on them); the rest are bulk-filled (benchmarks.bulk_fill): the same rows and search index
the writer stores, loaded in one go; --prepared-cache keeps the per-article work on disk for the next run.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, func, select, text

from benchmarks.bulk_fill import bulk_fill, cache_key
from benchmarks.synthetic import (
    SEED, SITES, SPAN_DAYS, START, Sources, Synthesizer, draw_symbol, fetched_at, load_sources, symbol_pool,
)  # fmt: skip
from storage import make_engine, mask_url, session_factory
from storage.models import StoredArticle
from storage.write import upsert_article

logger = logging.getLogger(__name__)

DEFAULT_POSTGRES_URL = os.environ.get("CAIXUN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = ("sqlite", "postgresql")
TARGET_MS = 50.0  # the target (issue 12) for every query kind, p95, at 1,000,000 articles
WRITER_FLOOR = {"sqlite": 59.0, "postgresql": 114.0}  # articles/s at 5,000 articles before the bigram index (issue 12)
# Search terms, all in the fixtures' texts (in 2 to 45 of the 75 sources): common and rarer words alike.
ONE_CHARACTER_TERMS = ("股", "债", "金", "涨", "跌", "税", "汇", "险", "油", "房")
TWO_CHARACTER_TERMS = (
    "央行", "降息", "银行", "基金", "股市", "债券", "利率", "汇率", "黄金", "原油", "芯片", "券商", "光伏", "美元",
)  # fmt: skip
FOUR_CHARACTER_TERMS = ("上市公司", "资本市场", "人民银行", "货币政策", "经济增长", "人工智能")


# --- databases ---------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="caixun_bench_") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


@contextmanager
def postgresql_database(admin_url: str) -> Iterator[str]:
    """A fresh database next to admin_url's, dropped afterwards even when the run fails."""
    import psycopg

    name = f"caixun_bench_{uuid.uuid4().hex[:10]}"
    plain = sqlalchemy.engine.make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield plain.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_for_queries(engine: Engine) -> str:
    """PostgreSQL: ANALYZE, as autovacuum does soon after a bulk load. SQLite: nothing, as deployed."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        return "ANALYZE"
    return "none"


def database_size(engine: Engine) -> int:
    """Bytes on disk: the SQLite file after a WAL checkpoint, or pg_database_size."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(engine.url.database)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as connection:
        return "PostgreSQL " + connection.execute(text("SHOW server_version")).scalar_one()


# --- measurements ------------------------------------------------------------------------------------------------


@dataclass
class Ingest:
    writer_articles: int = 0  # stored by upsert_article
    writer_seconds: float = 0.0  # upsert_article and commits (and stand-in ANALYZEs), not the synthesis
    rates_by_tenth: list[float] = field(default_factory=list)  # articles/s over successive tenths of the writer's run
    outcomes: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0  # articles the writer linked to an earlier one (duplicate_of)
    analyze_runs: int = 0  # stand-ins for autovacuum's ANALYZE (PostgreSQL with autovacuum off)
    bulk_articles: int = 0  # stored by bulk_fill, for the query measurements only
    bulk_seconds: float = 0.0  # wall time of the bulk fill: synthesis, preparation (workers), load, indexes
    bulk_index_seconds: float = 0.0  # of which rebuilding indexes after the load (PostgreSQL)
    bulk_cached_chunks: int = 0  # chunks whose preparation was read from --prepared-cache
    bulk_method: str = ""
    bulk_phases: dict[str, float] = field(default_factory=dict)
    synthesis_seconds: float = 0.0  # of the writer's articles

    @property
    def rate(self) -> float:
        return self.writer_articles / self.writer_seconds if self.writer_seconds else 0.0



class AutovacuumStandIn:
    """ANALYZE where autovacuum would, on a PostgreSQL server whose autovacuum is off.

    A fresh table has no statistics, and the writer's queries plan differently without them; a server with
    autovacuum on (the default) analyzes a table once 50 rows + 10% of it have changed (its analyze threshold and
    scale factor, read from the server). SQLite has no such thing and gets nothing, as deployed.
    """

    def __init__(self, engine: Engine) -> None:
        self.enabled = False
        self.analyzed_at_rows, self.runs = 0, 0
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                settings = {
                    name: connection.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("autovacuum", "autovacuum_analyze_threshold", "autovacuum_analyze_scale_factor")
                }
            self.enabled = settings["autovacuum"] == "off"
            self.threshold = int(settings["autovacuum_analyze_threshold"])
            self.scale_factor = float(settings["autovacuum_analyze_scale_factor"])

    def after_commit(self, engine: Engine, rows: int) -> None:
        if self.enabled and rows - self.analyzed_at_rows > self.threshold + self.scale_factor * self.analyzed_at_rows:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE articles, article_symbols"))
            self.analyzed_at_rows, self.runs = rows, self.runs + 1


def ingest(
    engine: Engine,
    synthesizer: Synthesizer,
    total: int,
    writer_articles: int,
    batch_size: int,
    *,
    workers: int = 1,
    cache: Path | None = None,
    key: str = "",
) -> Ingest:
    """Articles 0..writer_articles-1 through upsert_article, one transaction per batch; the rest by bulk_fill."""
    sessions = session_factory(engine)
    autovacuum = AutovacuumStandIn(engine)
    result = Ingest()
    tenth, tenth_seconds, tenth_articles = 1, 0.0, 0
    position = 0
    while position < writer_articles:
        clock = time.perf_counter()
        batch = synthesizer.batch(position, min(position + batch_size, writer_articles))
        position += len(batch)
        started = time.perf_counter()
        result.synthesis_seconds += started - clock
        with sessions.begin() as session:
            for article in batch:
                outcome = upsert_article(session, article, fetched_at(article))
                result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        autovacuum.after_commit(engine, position)
        seconds = time.perf_counter() - started
        result.writer_articles += len(batch)
        result.writer_seconds += seconds
        tenth_seconds, tenth_articles = tenth_seconds + seconds, tenth_articles + len(batch)
        if position >= writer_articles * tenth / 10:
            result.rates_by_tenth.append(round(tenth_articles / tenth_seconds, 1))
            tenth_seconds, tenth_articles = 0.0, 0
            while tenth <= 10 and position >= writer_articles * tenth / 10:
                tenth += 1
            logger.info("  writer: %d/%d articles, %.0f/s", position, writer_articles, result.rate)
    result.analyze_runs = autovacuum.runs
    with engine.connect() as connection:
        result.duplicates = connection.execute(
            select(func.count()).select_from(StoredArticle).where(StoredArticle.duplicate_of.is_not(None))
        ).scalar_one()
    if total > writer_articles:
        logger.info("  bulk fill: %d articles, %d worker processes", total - writer_articles, workers)
        filled = bulk_fill(engine, synthesizer, total, workers=workers, cache=cache, key=key)
        result.bulk_articles, result.bulk_seconds = filled.articles, filled.seconds
        result.bulk_index_seconds, result.bulk_cached_chunks = filled.index_seconds, filled.cached_chunks
        result.bulk_method = filled.method
        result.bulk_phases = {name: round(seconds, 1) for name, seconds in filled.phases.items()}
    return result


@dataclass(frozen=True)
class QuerySpec:
    name: str
    description: str
    arguments: Callable[[random.Random, list[str]], dict[str, Any]]
    target_ms: float | None


def _site_days(days: int) -> Callable[[random.Random, list[str]], dict[str, Any]]:
    def arguments(rng: random.Random, _symbols: list[str]) -> dict[str, Any]:
        since = START + timedelta(days=rng.randrange(SPAN_DAYS - days))
        return {"site": rng.choice(list(SITES)), "since": since, "until": since + timedelta(days=days)}

    return arguments


def _search(terms: tuple[str, ...], count: int = 1) -> Callable[[random.Random, list[str]], dict[str, Any]]:
    def arguments(rng: random.Random, _symbols: list[str]) -> dict[str, Any]:
        return {"search": " ".join(rng.sample(terms, count))}

    return arguments


QUERIES = (
    QuerySpec("site_7_days", "one site, a 7-day range", _site_days(7), TARGET_MS),
    QuerySpec("site_90_days", "one site, a 90-day range", _site_days(90), TARGET_MS),
    QuerySpec("symbol", "one symbol, drawn as the articles draw theirs", lambda rng, pool: {"symbol": draw_symbol(rng, pool)}, TARGET_MS),
    QuerySpec("search_1_char", "search, a 1-character term", _search(ONE_CHARACTER_TERMS), TARGET_MS),
    QuerySpec("search_2_chars", "search, a 2-character term", _search(TWO_CHARACTER_TERMS), TARGET_MS),
    QuerySpec("search_4_chars", "search, a 4-character term", _search(FOUR_CHARACTER_TERMS), TARGET_MS),
    QuerySpec("search_2_terms", "search, two 2-character terms (both must be found)", _search(TWO_CHARACTER_TERMS, 2), TARGET_MS),
)  # fmt: skip


@dataclass
class Latency:
    name: str
    description: str
    runs: int
    median_ms: float
    p95_ms: float
    max_ms: float
    mean_rows: float
    target_ms: float | None
    slowest: dict[str, Any] = field(default_factory=dict)  # the arguments of the slowest call (search, symbol, site)
    slowest_ms: float = 0.0
    plan: list[str] = field(default_factory=list)  # of the slowest call, when the target is missed

    @property
    def verdict(self) -> str:
        if self.target_ms is None:
            return "-"
        return "PASS" if self.p95_ms < self.target_ms else "FAIL"


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _readers_query() -> Callable[..., Any]:
    """storage.query.query, looked up at call time (the module's name is also the function's)."""
    from storage.query import query

    return query


def time_query(engine: Engine, spec: QuerySpec, runs: int, limit: int, symbols: list[str], seed: int) -> Latency:
    """One untimed warm-up, then `runs` calls with arguments drawn from a fixed seed; rows are fetched in full."""
    rng = random.Random(f"{seed}/{spec.name}")
    calls = [spec.arguments(rng, symbols) for _ in range(runs + 1)]
    query = _readers_query()
    list(query(engine, limit=limit, **calls[0]))
    times, rows = [], []
    for arguments in calls[1:]:
        started = time.perf_counter()
        result = list(query(engine, limit=limit, **arguments))
        times.append((time.perf_counter() - started) * 1000)
        rows.append(len(result))
    slowest = calls[1 + times.index(max(times))]
    return Latency(
        name=spec.name,
        description=spec.description,
        runs=runs,
        median_ms=round(statistics.median(times), 2),
        p95_ms=round(percentile(times, 0.95), 2),
        max_ms=round(max(times), 2),
        mean_rows=round(statistics.mean(rows), 1),
        target_ms=spec.target_ms,
        slowest={k: v.isoformat() if isinstance(v, datetime) else v for k, v in slowest.items()},
        slowest_ms=round(max(times), 2),
    )


def explain(engine: Engine, arguments: dict[str, Any], limit: int) -> list[str]:
    """The plan of the statement(s) storage.query.query runs for these arguments: EXPLAIN QUERY PLAN on SQLite,
    EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (the statement runs again)."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):  # noqa: ANN001
        if "ORDER BY" in statement and "articles" in statement:
            statements.append((statement, parameters))

    arguments = {k: datetime.fromisoformat(v) if k in ("since", "until") else v for k, v in arguments.items()}
    sqlalchemy.event.listen(engine, "before_cursor_execute", capture)
    try:
        _readers_query()(engine, limit=limit, **arguments)
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    lines: list[str] = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            if engine.dialect.name == "postgresql":
                lines += [row[0] for row in rows]
            else:  # (id, parent, notused, detail): indent by depth
                depth: dict[int, int] = {}
                for node, parent, _, detail in rows:
                    depth[node] = depth.get(parent, -1) + 1
                    lines.append("  " * depth[node] + detail)
            lines.append("--")
    return lines[:-1]


def run_database(kind: str, url: str, args: argparse.Namespace, sources: Sources) -> dict[str, Any]:
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        symbols = symbol_pool(seed=args.seed)
        print(f"\n== {kind}: {args.articles} articles, {server_version(engine)}, {mask_url(url)}", flush=True)
        writer_articles = min(args.writer_articles or args.articles, args.articles)
        key = cache_key(sources, args.seed)
        done = ingest(
            engine, Synthesizer(sources, args.seed, symbols), args.articles, writer_articles, args.batch_size,
            workers=args.bulk_workers, cache=args.prepared_cache, key=key,
        )  # fmt: skip
        tenths = f"{done.rates_by_tenth[0]:,.0f} in the first tenth, {done.rates_by_tenth[-1]:,.0f} in the last"
        floor = WRITER_FLOOR[kind]
        verdict = "PASS" if done.rate >= floor else "FAIL"
        print(
            f"ingest (upsert_article, search index on, {args.batch_size} per transaction): {done.rate:,.1f} articles/s "
            f"({done.writer_articles} articles in {done.writer_seconds:.1f} s; {tenths}; "
            f"{done.duplicates} marked duplicate_of); floor {floor:.0f}/s at 5,000 articles: {verdict}"
        )
        if done.analyze_runs:
            print(f"  autovacuum is off on this server: {done.analyze_runs} ANALYZE runs stood in for it (timed as ingest)")
        if done.bulk_articles:
            cached = f", preparation read from cache for {done.bulk_cached_chunks} chunks" if done.bulk_cached_chunks else ""
            print(
                f"bulk fill (not the writer: the writer's rows and search index): {done.bulk_articles:,} more articles in "
                f"{done.bulk_seconds:.1f} s, {done.bulk_articles / done.bulk_seconds:,.0f}/s "
                f"(index rebuild {done.bulk_index_seconds:.1f} s of it; {args.bulk_workers} worker processes{cached})"
            )
            print(f"  {done.bulk_method}")
            print("  seconds in the loading process: " + ", ".join(f"{k} {v:,.1f}" for k, v in done.bulk_phases.items()))
        preparation = prepare_for_queries(engine)
        latencies = [time_query(engine, spec, args.runs, args.limit, symbols, args.seed) for spec in QUERIES]
        for latency in latencies:
            if latency.verdict == "FAIL":
                latency.plan = explain(engine, latency.slowest, args.limit)
        print(f"queries: limit={args.limit}, {args.runs} runs each after a warm-up, statistics: {preparation}")
        print(f"  {'query':<15} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'rows':>6}  target")
        for latency in latencies:
            target = f"p95 < {latency.target_ms:.0f} ms {latency.verdict}" if latency.target_ms else "-"
            print(
                f"  {latency.name:<15} {latency.median_ms:>10.2f} {latency.p95_ms:>8.2f} {latency.max_ms:>8.2f} "
                f"{latency.mean_rows:>6.1f}  {target}"
            )
        for latency in latencies:
            if latency.plan:
                print(f"plan of the slowest {latency.name} call ({latency.slowest_ms:,.0f} ms: {latency.slowest}):")
                print("\n".join(f"    {line}" for line in latency.plan))
        size = database_size(engine)
        seconds = time.perf_counter() - started
        print(f"size on disk: {size / 2**20:,.1f} MiB ({size / args.articles / 1024:.1f} KiB per article)")
        print(f"time: {seconds:.1f} s", flush=True)
        return {
            "server": server_version(engine),
            "ingest": {**asdict(done), "rate": round(done.rate, 1), "writer_floor": floor, "writer_verdict": verdict},
            "articles": args.articles,
            "statistics": preparation,
            "queries": {lat.name: {**asdict(lat), "verdict": lat.verdict} for lat in latencies},
            "size_bytes": size,
            "seconds": round(seconds, 1),
        }
    finally:
        engine.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storage", description=__doc__.split("\n\n")[1])
    parser.add_argument("--articles", type=int, default=200_000, help="articles in the store (default: 200000; 2000 is a quick run)")
    parser.add_argument("--databases", default=",".join(DATABASES), help="comma-separated, of: sqlite, postgresql (default: both)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help=f"server to create the benchmark database on (default: {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--writer-articles",
        type=int,
        help="store only the first N articles through upsert_article and the rest by a bulk insert of the same rows "
        "(for query latencies on a large store when the writer is slow; default: all through the writer)",
    )
    parser.add_argument("--batch-size", type=int, default=500, help="articles per writer transaction (default: 500)")
    parser.add_argument(
        "--bulk-workers", type=int, default=os.cpu_count() or 1,
        help="processes preparing the bulk fill's dedup values and search tokens (default: one per CPU)",
    )  # fmt: skip
    parser.add_argument(
        "--prepared-cache", type=Path,
        help="keep the bulk fill's prepared values (dedup values, tokens) in this directory and reuse them in later "
        "runs with the same seed and code (a million articles take about 5 GB)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=30, help="timed calls per query (default: 30)")
    parser.add_argument("--limit", type=int, default=50, help="limit= of each query (default: 50)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default: {SEED})")
    parser.add_argument("--check", action="store_true", help="exit 1 when a query misses its target")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(args.databases) - set(DATABASES):
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}; choose from {', '.join(DATABASES)}")
    if min(args.articles, args.batch_size, args.runs, args.writer_articles or 1, args.bulk_workers) < 1:
        parser.error("--articles, --writer-articles, --batch-size, --bulk-workers and --runs must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    started = time.perf_counter()
    sources = load_sources()
    command = " ".join(["python -m benchmarks.storage", *(argv if argv is not None else sys.argv[1:])])
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load = os.getloadavg()
    print(f"# {command}\n# {created}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start", flush=True)
    output: dict[str, Any] = {
        "created": created,
        "command": command,
        "environment": {"python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__, "machine": platform.machine(), "cpus": os.cpu_count(), "load_average_at_start": load},
        "articles": args.articles,
        "sources": len(sources.documents),
        "seed": args.seed,
        "target": f"p95 < {TARGET_MS:.0f} ms for {', '.join(q.name for q in QUERIES if q.target_ms)}",
        "databases": {},
    }  # fmt: skip
    for kind in args.databases:
        database = sqlite_database() if kind == "sqlite" else postgresql_database(args.postgres_url)
        with database as url:
            output["databases"][kind] = run_database(kind, url, args, sources)
    verdicts = [q["verdict"] for db in output["databases"].values() for q in db["queries"].values()]
    output["targets_met"] = "FAIL" not in verdicts
    output["seconds"] = round(time.perf_counter() - started, 1)
    output["environment"]["load_average_at_end"] = load = os.getloadavg()
    print(f"\ntargets ({output['target']}): {'all met' if output['targets_met'] else 'MISSED'}")
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min; {os.cpu_count()} CPUs)")
    print(f"total time: {output['seconds']} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"results: {args.json}")
    return 1 if args.check and not output["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
