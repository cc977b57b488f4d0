"""Command line: ``python -m benchmarks.storage [--articles N] [--databases sqlite,postgresql] [--postgres-url URL] [--json PATH]``.

Fills a store with N synthetic articles through the real writer, then times the readers' queries on it, on SQLite (a
temporary file) and on PostgreSQL (a fresh database, created and dropped). Exits 0 unless the harness fails; with
--check, exits 1 when a query misses its target.

The articles are recombined from the fixtures' expected texts (tests/fixtures/*/*.json): paragraphs of three sources
shuffled together, a numbered title, a site out of ten, a time within two years (+08:00) and 0–3 symbols out of 2,000
(a few symbols are in many articles, most in few). Everything is drawn from a fixed seed, so two runs store the same
articles and ask the same queries.

With --writer-articles K only the first K articles go through upsert_article (the ingest rate is measured on them);
the rest are bulk-filled: the same rows and search index the writer stores (tests/test_benchmark_storage.py checks
both), loaded in one go so that a million-article store takes minutes, not days. PostgreSQL: the secondary indexes
dropped, articles (search_tokens as a tsvector literal) and article_symbols by COPY, the indexes rebuilt
(maintenance_work_mem raised for that session). SQLite: one transaction of executemany batches with the FTS5 rows
inserted alongside, journal_mode=OFF, synchronous=OFF and a 1 GiB page cache on the loading connection only (the
queries then run on fresh connections with the store's own settings: WAL). The per-article work (dedup values and
search tokens, computed line by line with memos and checked against the writer's functions) runs in worker
processes; --prepared-cache keeps it on disk for the next run with the same seed.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import logging
import math
import multiprocessing
import os
import pickle
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, func, select, text

from extractors import Article, Image
from storage import make_engine, mask_url, session_factory
from storage import cjk_tokens, fingerprint
from storage.cjk_tokens import index_tokens
from storage.models import ArticleSymbol, StoredArticle
from storage.order_key import order_key
from storage.search import BIGRAM_TABLE, TOKENS_COLUMN, postgresql_tokens
from storage.write import (  # the bulk fill stores what the writer stores
    _CONTENT_FIELDS,
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
TARGET_MS = 50.0  # the target (issue 12) for every query kind, p95, at 1,000,000 articles
WRITER_FLOOR = {"sqlite": 59.0, "postgresql": 114.0}  # articles/s at 5,000 articles before the bigram index (issue 12)
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
# Search terms, all in the fixtures' texts (in 2 to 45 of the 75 sources): common and rarer words alike.
ONE_CHARACTER_TERMS = ("股", "债", "金", "涨", "跌", "税", "汇", "险", "油", "房")
TWO_CHARACTER_TERMS = (
    "央行", "降息", "银行", "基金", "股市", "债券", "利率", "汇率", "黄金", "原油", "芯片", "券商", "光伏", "美元",
)  # fmt: skip
FOUR_CHARACTER_TERMS = ("上市公司", "资本市场", "人民银行", "货币政策", "经济增长", "人工智能")


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


def _fetched_at(article: Article) -> datetime:
    return article.published_at + timedelta(minutes=5)


# --- bulk fill: the writer's rows and search index, loaded in one go --------------------------------------------

BULK_CHUNK = 2000  # articles per worker job and per cache file
_JSON_COLUMNS = tuple(c.name for c in StoredArticle.__table__.columns if isinstance(c.type, sqlalchemy.JSON))
_ARTICLE_COLUMNS = tuple(c.name for c in StoredArticle.__table__.columns)


# The per-article work of a bulk fill, made fast for synthesized bodies: they are lines of the fixtures recombined, so
# the writer's dedup values and tokens are computed line by line with what each line gives memoized. The same values
# as storage.write.dedup_values and storage.cjk_tokens.index_tokens, not another definition: every CHECK_EVERY-th
# article is checked against those functions (a mismatch stops the fill), and tests/test_benchmark_storage.py checks
# thousands of articles.
CHECK_EVERY = 97
# FTS5 rows inserted at once, in rowid (order key) order: FTS5 flushes its in-memory index whenever a rowid is lower
# than the last, and articles come in no order of publication
FTS5_BATCH = 50_000
_MEMO_LIMIT = 200_000
_line_tokens: dict[str, list[str]] = {}
_line_text: dict[str, tuple[str, frozenset[str]]] = {}  # line -> (its normalized text, its sampled inner shingles)
_shingle_rows: dict[str, str] = {}


def _memo(cache: dict, key: Any, make: Callable[[Any], Any]) -> Any:
    value = cache.get(key)
    if value is None:
        value = make(key)
        if len(cache) < _MEMO_LIMIT:
            cache[key] = value
    return value


def _shingle_row(shingle: str) -> str:
    """fingerprint._sampled_rows for one shingle (keep_mask 3): its 64-bit row, or "" when it is not sampled."""
    rows = fingerprint._sampled_rows([shingle], 3)
    return rows[0] if rows else ""


def _inner(line: str) -> tuple[str, frozenset[str]]:
    text = fingerprint.normalized(line)
    shingles = {text[i : i + fingerprint.SHINGLE] for i in range(len(text) - fingerprint.SHINGLE + 1)}
    return text, frozenset(s for s in shingles if _memo(_shingle_rows, s, _shingle_row))


def fast_index_tokens(title: str | None, body: str) -> list[str]:
    """index_tokens(title, body): runs never cross a line break, so a body's tokens are its lines' in order."""
    tokens: dict[str, None] = dict.fromkeys(index_tokens(title))
    for line in body.split("\n"):
        tokens.update(dict.fromkeys(_memo(_line_tokens, line, index_tokens)))
    return list(tokens)


def fast_dedup_values(body: str) -> dict:
    """dedup_values(body). The normalized text is the lines' normalized texts joined (normalizing only removes
    characters); its distinct shingles are those inside a line and those across a line break; the sampled ones give
    the SimHash as fingerprint.simhash does (column-wise majority of their rows)."""
    width = fingerprint.SHINGLE
    parts = [_memo(_line_text, line, _inner) for line in body.split("\n")]
    text = "".join(part for part, _ in parts)
    sampled: set[str] = set().union(*(shingles for _, shingles in parts))
    starts, offset = set(), 0
    for part, _ in parts[:-1]:
        offset += len(part)
        starts.update(range(max(offset - width + 1, 0), min(offset, len(text) - width + 1)))
    sampled.update(s for s in (text[i : i + width] for i in starts) if _memo(_shingle_rows, s, _shingle_row))
    if len(text) < width or not sampled:  # short texts: the writer's own fallbacks
        return dedup_values(body)
    rows = "".join([_shingle_rows.get(s) or _shingle_row(s) for s in sampled])  # 64 characters each
    half = len(sampled) / 2
    value = 0
    for column in range(64):  # column j of the rows: every 64th character from j
        value = (value << 1) | (rows[column::64].count("1") > half)
    return {
        "content_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "fingerprint": fingerprint.to_signed(value),
        **dict(zip(("fp_band0", "fp_band1", "fp_band2", "fp_band3"), fingerprint.bands(value))),
    }


def fast_row_values(article: Article) -> dict:
    """_row_values(article) without Article.to_dict's deep copies: the fields, images as dicts, lists copied."""
    values = {name: getattr(article, name) for name in _CONTENT_FIELDS}
    values["images"] = [{"src": image.src, "caption": image.caption} for image in article.images]
    for name in ("authors", "symbols", "warnings"):
        values[name] = list(values[name])
    return values


class PreparedMismatch(AssertionError):
    """The fast per-article values differ from the writer's: the bulk fill would not store what the writer stores."""


def prepare(articles: list[Article], first: int = 0) -> list[tuple[dict, str]]:
    """Per article, what the writer would store: its row (article_row, without the id) and its search tokens
    (space-joined; no token has a space). Runs in worker processes; `first` is the first article's number."""
    prepared = []
    for number, article in enumerate(articles, first):
        dedup, tokens = fast_dedup_values(article.body), fast_index_tokens(article.title, article.body)
        row = article_row(article, dedup, fast_row_values(article))
        if number % CHECK_EVERY == 0 and (row, tokens) != (article_row(article), index_tokens(article.title, article.body)):
            raise PreparedMismatch(f"article {number}: the fast row values or tokens differ from the writer's")
        prepared.append((row, " ".join(tokens)))
    return prepared


def _prepare_and_cache(articles: list[Article], first: int, path: Path | None) -> list[tuple[dict, str]]:
    prepared = prepare(articles, first)
    if path is not None:
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(path)
    return prepared


def article_row(article: Article, dedup: dict | None = None, values: dict | None = None) -> dict:
    """Every column but the id that upsert_article gives a new article that duplicates nothing (duplicate_of NULL),
    from the writer's helpers (_row_values, dedup_values) unless their values are given."""
    fetched_at = _fetched_at(article)
    return {
        "canonical_url": article.canonical_url or article.url,
        **(values if values is not None else _row_values(article)),
        **(dedup if dedup is not None else dedup_values(article.body)),
        "fetched_at": fetched_at,
        "last_fetched_at": fetched_at,
        "first_seen_at": fetched_at,
        "updated_at": fetched_at,
        "duplicate_of": None,
        "removed_at": None,
        "removed_status": None,
    }


def symbol_rows(rows: list[dict]) -> list[tuple[int, str, int]]:
    """The article_symbols rows (article_id, symbol, order_key) of article rows that have their id and order_key."""
    return [(row["id"], s, row["order_key"]) for row in rows for s in dict.fromkeys(row["symbols"])]


def cache_key(sources: Sources, seed: int) -> str:
    """What prepared chunks depend on: the seed, the source texts, and the code that synthesizes and prepares."""
    digest = hashlib.sha256(f"{seed}\n{BULK_CHUNK}\n".encode())
    digest.update(json.dumps(asdict(sources), ensure_ascii=False).encode())
    for code in (
        Synthesizer, symbol_pool, draw_symbol, prepare, fast_dedup_values, fast_index_tokens, fast_row_values, _inner,
        article_row, _row_values, Article, dedup_values, fingerprint, cjk_tokens,
    ):  # fmt: skip
        digest.update(inspect.getsource(code).encode())
    return digest.hexdigest()[:16]


@dataclass
class Chunk:
    first: int  # the number of the chunk's first article
    articles: list[Article]
    prepared: list[tuple[dict, str]]
    cached: bool


def prepared_chunks(
    synthesizer: Synthesizer, start: int, stop: int, workers: int, cache: Path | None = None, key: str = ""
) -> Iterator[Chunk]:
    """Articles start..stop-1 with their prepared values, in order, in chunks aligned on BULK_CHUNK; prepared by
    `workers` processes (1: in this one) a few chunks ahead, or read from `cache` (files <key>-<first>-<stop>.pickle)
    when a previous run left them there."""
    bounds = [(a, min((a // BULK_CHUNK + 1) * BULK_CHUNK, stop)) for a in range(start, stop) if a == start or a % BULK_CHUNK == 0]
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    pending: deque[tuple[int, list[Article], Any, Path | None]] = deque()
    try:
        for number, (first, last) in enumerate(bounds):
            articles = synthesizer.batch(first, last)
            path = cache / f"{key}-{first}-{last}.pickle" if cache is not None else None
            if path is not None and path.exists():
                pending.append((first, articles, None, path))
            elif pool is not None:
                pending.append((first, articles, pool.apply_async(_prepare_and_cache, (articles, first, path)), None))
            else:
                pending.append((first, articles, _prepare_and_cache(articles, first, path), None))
            while pending and (len(pending) > 2 * workers or number == len(bounds) - 1):
                first_, articles_, job, cached = pending.popleft()
                if cached is not None:
                    yield Chunk(first_, articles_, pickle.loads(cached.read_bytes()), True)
                else:
                    yield Chunk(first_, articles_, job.get() if pool is not None else job, False)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


@dataclass
class BulkFill:
    articles: int = 0
    seconds: float = 0.0  # synthesis, preparation and load, indexes included
    index_seconds: float = 0.0  # rebuilding the indexes after the load (PostgreSQL)
    cached_chunks: int = 0
    method: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # seconds of the fill's steps, in this process

    def timed(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - started
        return now


def _timed_chunks(chunks: Iterator[Chunk], result: BulkFill) -> Iterator[Chunk]:
    """The chunks, the wait for each (synthesis here, preparation in the workers) timed as "prepare"."""
    clock = time.perf_counter()
    for chunk in chunks:
        result.timed("prepare (wait for workers, synthesis)", clock)
        yield chunk
        clock = time.perf_counter()


class _Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done, self.started, self.next_report = total, 0, time.perf_counter(), 0

    def add(self, count: int) -> None:
        self.done += count
        if self.done >= self.next_report or self.done == self.total:
            seconds = time.perf_counter() - self.started
            logger.info("  bulk fill: %d/%d articles, %.0f s, %.0f/s", self.done, self.total, seconds, self.done / max(seconds, 1e-9))
            self.next_report = self.done + max(self.total // 20, 1)


def _first_id(connection: Any) -> int:
    return connection.execute(text("SELECT coalesce(max(id), 0) + 1 FROM articles")).scalar_one()


def _fill_sqlite(engine: Engine, chunks: Iterator[Chunk], total: int, result: BulkFill) -> None:
    engine.dispose()  # no other connection while the journal mode changes
    progress = _Progress(total)
    with engine.connect() as connection:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576"):
            connection.exec_driver_sql(f"PRAGMA {pragma}")
        next_id = _first_id(connection)
        insert_articles, insert_symbols = sqlalchemy.insert(StoredArticle.__table__), sqlalchemy.insert(ArticleSymbol.__table__)
        insert_tokens = f"INSERT INTO {BIGRAM_TABLE}(rowid, tokens) VALUES (?, ?)"
        pending_tokens: list[tuple[int, str]] = []
        for chunk in _timed_chunks(chunks, result):
            clock = time.perf_counter()
            ids = range(next_id, next_id + len(chunk.articles))
            next_id += len(chunk.articles)
            rows = [{"id": i, **row, "order_key": order_key(i, row["published_at"])} for i, (row, _) in zip(ids, chunk.prepared)]
            connection.execute(insert_articles, rows)
            clock = result.timed("insert articles", clock)
            symbols = [{"article_id": i, "symbol": s, "order_key": k} for i, s, k in symbol_rows(rows)]
            if symbols:
                connection.execute(insert_symbols, symbols)
            clock = result.timed("insert article_symbols", clock)
            pending_tokens += [(row["order_key"], tokens) for row, (_, tokens) in zip(rows, chunk.prepared)]
            if len(pending_tokens) >= FTS5_BATCH:
                connection.exec_driver_sql(insert_tokens, sorted(pending_tokens))
                pending_tokens.clear()
            result.timed("insert FTS5 rows", clock)
            result.cached_chunks += chunk.cached
            progress.add(len(chunk.articles))
        clock = time.perf_counter()
        connection.exec_driver_sql(insert_tokens, sorted(pending_tokens))
        result.timed("insert FTS5 rows", clock)
        connection.commit()
        result.timed("commit", clock)
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()  # the queries get connections with the store's own settings
    result.method = "one transaction, executemany (articles, article_symbols, FTS5 rows); journal_mode=OFF, synchronous=OFF, cache_size=1 GiB while loading"


_SECONDARY_INDEXES = """
SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname IN ('articles', 'article_symbols') AND t.relnamespace = current_schema()::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY i.relname
"""


def tsvector_literal(tokens: str) -> str:
    """The tsvector text form of space-joined tokens: each single-quoted (quotes doubled, backslashes escaped), no
    parser involved; PostgreSQL sorts and deduplicates them as array_to_tsvector does."""
    return " ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens.split(" ") if t)


def _fill_postgresql(engine: Engine, chunks: Iterator[Chunk], total: int, result: BulkFill) -> None:
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    progress = _Progress(total)
    columns = [*_ARTICLE_COLUMNS, TOKENS_COLUMN]
    with psycopg.connect(url) as connection:  # one transaction
        connection.execute("SET maintenance_work_mem = '2GB'")
        indexes = connection.execute(_SECONDARY_INDEXES).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        next_id = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]
        symbols: list[tuple[int, str]] = []
        with connection.cursor() as cursor, cursor.copy(f"COPY articles ({', '.join(columns)}) FROM STDIN") as copy:
            for chunk in _timed_chunks(chunks, result):
                clock = time.perf_counter()
                for row, tokens in chunk.prepared:
                    row = {**row, "id": next_id, "order_key": order_key(next_id, row["published_at"])}
                    symbols += symbol_rows([row])
                    for name in _JSON_COLUMNS:
                        row[name] = json.dumps(row[name])  # as SQLAlchemy's JSON type stores it
                    stored = " ".join(postgresql_tokens(tokens.split(" "), row["published_at"]))
                    copy.write_row([row[name] for name in _ARTICLE_COLUMNS] + [tsvector_literal(stored)])
                    next_id += 1
                result.timed("COPY articles", clock)
                result.cached_chunks += chunk.cached
                progress.add(len(chunk.articles))
        clock = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy("COPY article_symbols (article_id, symbol, order_key) FROM STDIN") as copy:
            for row in symbols:
                copy.write_row(row)
        result.timed("COPY article_symbols", clock)
        logger.info("  bulk fill: loaded in %.0f s; rebuilding %d indexes", time.perf_counter() - progress.started, len(indexes))
        started = time.perf_counter()
        for name, definition in indexes:
            clock = time.perf_counter()
            connection.execute(definition)
            logger.info("    %s: %.1f s", name, time.perf_counter() - clock)
        connection.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), (SELECT max(id) FROM articles))")
        result.index_seconds = time.perf_counter() - started
        result.timed("rebuild indexes", started)
        clock = time.perf_counter()
    result.timed("commit", clock)
    result.method = (
        f"COPY articles (search_tokens as tsvector text) and article_symbols; {len(indexes)} secondary indexes "
        "(GIN included) dropped before and rebuilt after, maintenance_work_mem=2GB; one transaction"
    )


def bulk_fill(
    engine: Engine,
    synthesizer: Synthesizer,
    stop: int,
    *,
    workers: int = 1,
    cache: Path | None = None,
    key: str = "",
) -> BulkFill:
    """Articles synthesizer.next_number..stop-1 as the writer would store them (new, duplicating nothing), with their
    search index, loaded in one go (see the module docstring)."""
    start = synthesizer.next_number
    result = BulkFill(articles=stop - start)
    if stop <= start:
        return result
    clock = time.perf_counter()
    chunks = prepared_chunks(synthesizer, start, stop, workers, cache, key)
    fill = _fill_postgresql if engine.dialect.name == "postgresql" else _fill_sqlite
    fill(engine, chunks, stop - start, result)
    result.seconds = time.perf_counter() - clock
    return result


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
                outcome = upsert_article(session, article, _fetched_at(article))
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
