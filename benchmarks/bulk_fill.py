"""The bulk fill of the storage benchmarks: the rows and search index the writer would store, loaded in one go.

With --writer-articles K only the first K articles go through upsert_article; the rest come from here, so that a
million-article store takes minutes, not days (tests/test_benchmark_storage.py checks that both store the same).
PostgreSQL: the secondary indexes dropped, articles (search_tokens as a tsvector literal) and article_symbols by COPY,
the indexes rebuilt (maintenance_work_mem raised for that session). SQLite: one transaction of executemany batches
with the FTS5 rows inserted alongside, journal_mode=OFF, synchronous=OFF and a 1 GiB page cache on the loading
connection only (the queries then run on fresh connections with the store's own settings: WAL). The per-article
work (dedup values and search tokens, computed line by line with memos and checked against the writer's functions)
runs in worker processes; a prepared cache keeps it on disk for the next run with the same seed and code.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import multiprocessing
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, text

from benchmarks.synthetic import Sources, Synthesizer, draw_symbol, fetched_at, symbol_pool
from extractors import Article
from storage import cjk_tokens, fingerprint
from storage.cjk_tokens import index_tokens
from storage.models import ArticleSymbol, StoredArticle
from storage.order_key import order_key
from storage.search import BIGRAM_TABLE, TOKENS_COLUMN, postgresql_tokens
from storage.write import CONTENT_FIELDS, dedup_values, row_values  # the bulk fill stores what the writer stores

logger = logging.getLogger(__name__)

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
    """fingerprint.sampled_rows for one shingle (keep_mask 3): its 64-bit row, or "" when it is not sampled."""
    rows = fingerprint.sampled_rows([shingle], 3)
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
    """row_values(article) without Article.to_dict's deep copies: the fields, images as dicts, lists copied."""
    values = {name: getattr(article, name) for name in CONTENT_FIELDS}
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
    from the writer's helpers (row_values, dedup_values) unless their values are given."""
    fetched = fetched_at(article)
    return {
        "canonical_url": article.canonical_url or article.url,
        **(values if values is not None else row_values(article)),
        **(dedup if dedup is not None else dedup_values(article.body)),
        "fetched_at": fetched,
        "last_fetched_at": fetched,
        "first_seen_at": fetched,
        "updated_at": fetched,
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
        article_row, row_values, Article, dedup_values, fingerprint, cjk_tokens,
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
        if pending_tokens:  # none left when the count is a multiple of FTS5_BATCH (an empty executemany fails)
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


def tsvector_literal(tokens: list[str]) -> str:
    """The tsvector text form of tokens: each single-quoted (quotes doubled, backslashes escaped), no parser
    involved; PostgreSQL sorts and deduplicates them as array_to_tsvector does."""
    return " ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens if t)


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
                    stored = postgresql_tokens(tokens.split(" "), row["published_at"])
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
