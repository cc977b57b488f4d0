"""Command line: ``python -m benchmarks.storage [--articles N] [--databases sqlite,postgresql] [--postgres-url URL] [--json PATH]``.

Fills a store with N synthetic articles through the real writer, then times the readers' queries on it, on SQLite (a
temporary file) and on PostgreSQL (a fresh database, created and dropped). Exits 0 unless the harness fails; with
--check, exits 1 when a query misses its target.

The articles are recombined from the fixtures' expected texts (tests/fixtures/*/*.json): paragraphs of three sources
shuffled together, a numbered title, a site out of ten, a time within two years (+08:00) and 0–3 symbols out of 2,000
(a few symbols are in many articles, most in few). Everything is drawn from a fixed seed, so two runs store the same
articles and ask the same queries.

With --writer-articles K only the first K articles go through upsert_article (the ingest rate is measured on them);
the rest are stored by bulk_insert, the same rows in executemany batches, so that the queries can be timed on a
large store when the writer would take hours to fill it."""

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
from sqlalchemy.orm import Session

from extractors import Article, Image
from storage import make_engine, mask_url, session_factory
from storage.models import ArticleSymbol, StoredArticle
from storage.search import reindex
from storage.write import (  # bulk_insert stores what the writer stores
    dedup_values,
    _row_values,
    upsert_article,
)

logger = logging.getLogger(__name__)

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
DEFAULT_POSTGRES_URL = os.environ.get("CAIXUN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = ("sqlite", "postgresql")
SEED = 20261126
CST = timezone(timedelta(hours=8))
START = datetime(2024, 1, 1, tzinfo=CST)
SPAN_DAYS = 730
TARGET_MS = 50.0  # the target for the site/day-range and symbol queries, on 200,000 articles
SITES = {
    "sina": "finance.sina.com.cn",
    "sina_mobile": "finance.sina.cn",
    "netease": "money.163.com",
    "ifeng": "finance.ifeng.com",
    "sohu": "www.sohu.com",
    "qq": "new.qq.com",
    "thepaper": "www.thepaper.cn",
    "stcn": "www.stcn.com",
    "yahoo_hk": "hk.finance.yahoo.com",
    "caijing": "finance.caijing.com.cn",
}
# Words of 3+ characters can use the trigram indexes (FTS5, pg_trgm); 2-character words cannot.
SEARCH_TERMS = ("互联网", "房地产", "人民币", "投资者", "美联储", "新能源", "上市公司", "董事长")
SHORT_SEARCH_TERMS = ("央行", "银行", "基金", "股市", "债券", "市场")


# --- synthesis ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """The texts to recombine: one paragraph list per fixture, and the metadata seen in them."""

    documents: list[list[str]]
    titles: list[str]
    outlets: list[str]
    authors: list[str]
    editors: list[str]


def load_sources(fixtures_dir: Path = FIXTURES_DIR) -> Sources:
    documents, titles, outlets, authors, editors = [], [], set(), set(), set()
    for path in sorted(fixtures_dir.glob("*/*.json")):
        expected = json.loads(path.read_text(encoding="utf-8")).get("expected")
        if not isinstance(expected, dict) or not expected.get("body"):
            continue
        documents.append([line for line in expected["body"].split("\n") if line.strip()])
        if expected.get("title"):
            titles.append(expected["title"])
        outlets.update(filter(None, [expected.get("source")]))
        authors.update(expected.get("authors") or [])
        editors.update(filter(None, [expected.get("editor")]))
    if not documents or not titles:
        raise FileNotFoundError(f"no fixture with an expected title and body under {fixtures_dir}")
    return Sources(documents, titles, sorted(outlets) or ["新华社"], sorted(authors) or ["记者"], sorted(editors) or ["编辑"])


def symbol_pool(size: int = 2000, seed: int = SEED) -> list[str]:
    """Shanghai, Shenzhen (main board and ChiNext) and Hong Kong codes, in a fixed shuffled order."""
    shares = [size * 4 // 10, size * 35 // 100, size * 15 // 100]
    codes = [f"sh{600000 + 3 * k}" for k in range(shares[0])]
    codes += [f"sz{1 + 2 * k:06d}" for k in range(shares[1])]
    codes += [f"sz{300001 + k}" for k in range(shares[2])]
    codes += [f"hk{1 + 7 * k:05d}" for k in range(size - len(codes))]
    random.Random(seed).shuffle(codes)
    return codes


def draw_symbol(rng: random.Random, pool: list[str]) -> str:
    """Skewed: the first symbol of the pool is in about 2% of the draws, the median one in 0.03%."""
    return pool[int(len(pool) * rng.random() ** 2)]


class Synthesizer:
    """Distinct articles, article i always the same for a given seed and sources."""

    def __init__(self, sources: Sources, seed: int = SEED, symbols: list[str] | None = None) -> None:
        self.sources = sources
        self.rng = random.Random(seed)
        self.symbols = symbols or symbol_pool(seed=seed)
        self.next_number = 0

    def article(self, number: int) -> Article:
        rng, src = self.rng, self.sources
        site = rng.choice(list(SITES))
        published_at = START + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        paragraphs = [p for doc in rng.sample(src.documents, min(3, len(src.documents))) for p in doc]
        rng.shuffle(paragraphs)
        body_lines = paragraphs[: rng.randint(4, 14)] + [f"（稿件编号 {number:07d}）"]
        path = f"{published_at:%Y/%m%d}/{number:08x}.html"
        url = f"https://{SITES[site]}/{path}"
        return Article(
            url=url + "?from=bench",
            canonical_url=url,
            title=f"{rng.choice(src.titles)}（{number}）",
            published_at=published_at,
            source=rng.choice(src.outlets),
            authors=rng.sample(src.authors, min(rng.randint(0, 2), len(src.authors))),
            editor=rng.choice(src.editors) if rng.random() < 0.6 else None,
            body="\n".join(body_lines),
            images=[Image(f"https://img.{SITES[site]}/{number:08x}-{k}.jpg", None) for k in range(rng.randint(0, 2))],
            symbols=sorted({draw_symbol(rng, self.symbols) for _ in range(rng.randint(0, 3))}),
            site=site,
            extractor=f"{site}/v2024@1",
        )

    def batch(self, start: int, stop: int) -> list[Article]:
        """Articles start..stop-1; call with consecutive ranges from 0 (the draws are sequential)."""
        if start != self.next_number:
            raise ValueError(f"articles are drawn in order: next is {self.next_number}, not {start}")
        self.next_number = stop
        return [self.article(n) for n in range(start, stop)]


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
    bulk_articles: int = 0  # stored by bulk_insert, for the query measurements only
    bulk_seconds: float = 0.0
    synthesis_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.writer_articles / self.writer_seconds if self.writer_seconds else 0.0


def _fetched_at(article: Article) -> datetime:
    return article.published_at + timedelta(minutes=5)


def bulk_insert(session: Session, articles: list[Article]) -> None:
    """The rows upsert_article stores for new articles that duplicate nothing, in two executemany statements.

    Not the writer: only a way to reach a large store in minutes when the writer takes hours. The values come from
    the writer's own helpers, and tests/test_benchmark_storage.py checks that the rows are the writer's.
    """
    rows = []
    for article in articles:
        fetched_at = _fetched_at(article)
        rows.append(
            {
                "canonical_url": article.canonical_url or article.url,
                **_row_values(article),
                **dedup_values(article.body),
                "fetched_at": fetched_at,
                "last_fetched_at": fetched_at,
                "first_seen_at": fetched_at,
                "updated_at": fetched_at,
            }
        )
    statement = sqlalchemy.insert(StoredArticle).returning(StoredArticle.id, sort_by_parameter_order=True)
    ids = session.scalars(statement, rows).all()
    symbols = [{"article_id": i, "symbol": s} for i, a in zip(ids, articles) for s in dict.fromkeys(a.symbols)]
    if symbols:
        session.execute(sqlalchemy.insert(ArticleSymbol), symbols)
    reindex(session.connection(), ids)  # the search index, as the writer keeps it


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


def ingest(engine: Engine, synthesizer: Synthesizer, total: int, writer_articles: int, batch_size: int) -> Ingest:
    """Articles 0..writer_articles-1 through upsert_article, one transaction per batch; the rest by bulk_insert."""
    sessions = session_factory(engine)
    autovacuum = AutovacuumStandIn(engine)
    result = Ingest()
    tenth, tenth_seconds, tenth_articles = 1, 0.0, 0
    position = 0
    while position < total:
        clock = time.perf_counter()
        writer = position < writer_articles
        if not writer and result.bulk_articles == 0:
            logger.info("  bulk fill: %d articles", total - position)
        batch = synthesizer.batch(position, min(position + batch_size, writer_articles if writer else total))
        position += len(batch)
        started = time.perf_counter()
        result.synthesis_seconds += started - clock
        with sessions.begin() as session:
            if writer:
                for article in batch:
                    outcome = upsert_article(session, article, _fetched_at(article))
                    result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
            else:
                bulk_insert(session, batch)
        if writer:
            autovacuum.after_commit(engine, position)
        seconds = time.perf_counter() - started
        if not writer:
            result.bulk_articles += len(batch)
            result.bulk_seconds += seconds
            continue
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


QUERIES = (
    QuerySpec("site_7_days", "one site, a 7-day range", _site_days(7), TARGET_MS),
    QuerySpec("site_90_days", "one site, a 90-day range", _site_days(90), TARGET_MS),
    QuerySpec("symbol", "one symbol, drawn as the articles draw theirs", lambda rng, pool: {"symbol": draw_symbol(rng, pool)}, TARGET_MS),
    QuerySpec("search", "full text, a common word of 3+ characters", lambda rng, _pool: {"search": rng.choice(SEARCH_TERMS)}, None),
    QuerySpec("search_short", "full text, a common 2-character word", lambda rng, _pool: {"search": rng.choice(SHORT_SEARCH_TERMS)}, None),
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
    return Latency(
        name=spec.name,
        description=spec.description,
        runs=runs,
        median_ms=round(statistics.median(times), 2),
        p95_ms=round(percentile(times, 0.95), 2),
        max_ms=round(max(times), 2),
        mean_rows=round(statistics.mean(rows), 1),
        target_ms=spec.target_ms,
    )


def run_database(kind: str, url: str, args: argparse.Namespace, sources: Sources) -> dict[str, Any]:
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        symbols = symbol_pool(seed=args.seed)
        print(f"\n== {kind}: {args.articles} articles, {server_version(engine)}, {mask_url(url)}", flush=True)
        writer_articles = min(args.writer_articles or args.articles, args.articles)
        done = ingest(engine, Synthesizer(sources, args.seed, symbols), args.articles, writer_articles, args.batch_size)
        tenths = f"{done.rates_by_tenth[0]:,.0f} in the first tenth, {done.rates_by_tenth[-1]:,.0f} in the last"
        print(
            f"ingest (upsert_article, {args.batch_size} per transaction): {done.rate:,.0f} articles/s "
            f"({done.writer_articles} articles in {done.writer_seconds:.1f} s; {tenths}; "
            f"{done.duplicates} marked duplicate_of)"
        )
        if done.analyze_runs:
            print(f"  autovacuum is off on this server: {done.analyze_runs} ANALYZE runs stood in for it (timed as ingest)")
        if done.bulk_articles:
            print(
                f"bulk fill (not the writer: same rows, executemany): {done.bulk_articles} more articles in "
                f"{done.bulk_seconds:.1f} s, {done.bulk_articles / done.bulk_seconds:,.0f}/s"
            )
        preparation = prepare_for_queries(engine)
        latencies = [time_query(engine, spec, args.runs, args.limit, symbols, args.seed) for spec in QUERIES]
        print(f"queries: limit={args.limit}, {args.runs} runs each after a warm-up, statistics: {preparation}")
        print(f"  {'query':<14} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'rows':>6}  target")
        for latency in latencies:
            target = f"p95 < {latency.target_ms:.0f} ms {latency.verdict}" if latency.target_ms else "-"
            print(
                f"  {latency.name:<14} {latency.median_ms:>10.2f} {latency.p95_ms:>8.2f} {latency.max_ms:>8.2f} "
                f"{latency.mean_rows:>6.1f}  {target}"
            )
        size = database_size(engine)
        seconds = time.perf_counter() - started
        print(f"size on disk: {size / 2**20:,.1f} MiB ({size / args.articles / 1024:.1f} KiB per article)")
        print(f"time: {seconds:.1f} s", flush=True)
        return {
            "server": server_version(engine),
            "ingest": {**asdict(done), "rate": round(done.rate, 1)},
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
    parser.add_argument("--batch-size", type=int, default=500, help="articles per transaction (default: 500)")
    parser.add_argument("--runs", type=int, default=30, help="timed calls per query (default: 30)")
    parser.add_argument("--limit", type=int, default=50, help="limit= of each query (default: 50)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default: {SEED})")
    parser.add_argument("--check", action="store_true", help="exit 1 when a query misses its target")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(args.databases) - set(DATABASES):
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}; choose from {', '.join(DATABASES)}")
    if min(args.articles, args.batch_size, args.runs, args.writer_articles or 1) < 1:
        parser.error("--articles, --writer-articles, --batch-size and --runs must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    started = time.perf_counter()
    sources = load_sources()
    output: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.storage", *(argv if argv is not None else sys.argv[1:])]),
        "environment": {"python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__, "machine": platform.machine(), "cpus": os.cpu_count()},
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
    print(f"\ntargets ({output['target']}): {'all met' if output['targets_met'] else 'MISSED'}")
    print(f"total time: {output['seconds']} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"results: {args.json}")
    return 1 if args.check and not output["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
