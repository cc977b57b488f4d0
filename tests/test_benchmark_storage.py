"""The storage benchmark on tiny stores: synthesis (benchmarks/synthetic.py), the bulk fill (benchmarks/bulk_fill.py:
the writer's rows and search index, on SQLite and PostgreSQL), the whole run (benchmarks/storage.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from benchmarks.bulk_fill import (
    PreparedMismatch,
    article_row,
    bulk_fill,
    cache_key,
    fast_dedup_values,
    fast_index_tokens,
    fast_row_values,
    prepare,
    prepared_chunks,
)
from benchmarks.storage import (
    FOUR_CHARACTER_TERMS,
    ONE_CHARACTER_TERMS,
    QUERIES,
    TWO_CHARACTER_TERMS,
    main,
    percentile,
    postgresql_database,
)
from benchmarks.synthetic import SITES, Synthesizer, load_sources, symbol_pool
from storage import make_engine, session_factory, upsert_article
from storage.models import ArticleSymbol, StoredArticle
from storage.cjk_tokens import index_tokens
from storage.query import query
from storage.write import dedup_values, row_values
from tests.conftest import POSTGRES_ADMIN_URL


def _articles(count: int, seed: int = 1):
    return Synthesizer(load_sources(), seed=seed).batch(0, count)


def test_synthesis_is_deterministic_and_articles_are_distinct():
    first, again = _articles(200), _articles(200)
    assert first == again
    assert len({a.canonical_url for a in first}) == len({a.body for a in first}) == len({a.title for a in first}) == 200
    assert {a.site for a in first} == set(SITES)
    assert all(a.published_at.utcoffset() == timedelta(hours=8) for a in first)
    assert all(len(a.symbols) <= 3 and set(a.symbols) <= set(symbol_pool(seed=1)) for a in first)
    assert any(a.symbols for a in first)
    assert len(symbol_pool()) == len(set(symbol_pool())) == 2000


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([3.0], 0.95) == 3.0


def _stored(engine) -> tuple[list[dict], list[tuple]]:
    sessions = session_factory(engine)
    with sessions() as session:
        articles = [
            {c.name: getattr(row, c.name) for c in StoredArticle.__table__.columns if c.name != "id"}
            for row in session.scalars(select(StoredArticle).order_by(StoredArticle.id))
        ]
        symbols = session.execute(
            select(ArticleSymbol.article_id, ArticleSymbol.symbol, ArticleSymbol.order_key).order_by(ArticleSymbol.article_id, ArticleSymbol.symbol)
        ).all()
    return articles, [tuple(row) for row in symbols]


def _index(engine) -> list[tuple[int, list[str]]]:
    """The search index as stored: (article id, sorted tokens) per article."""
    statement = (
        "SELECT id, search_tokens::text FROM articles ORDER BY id"
        if engine.dialect.name == "postgresql"
        else "SELECT rowid, tokens FROM articles_bigrams ORDER BY rowid"
    )
    with engine.connect() as connection:
        rows = connection.execute(text(statement)).all()
    return [(i, sorted(t.replace("'", "").split())) for i, t in rows]


def _secondary_indexes(engine) -> list[tuple[str, str]]:
    statement = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"
        if engine.dialect.name == "postgresql"
        else "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(statement))]


SEARCHES = [*ONE_CHARACTER_TERMS, *TWO_CHARACTER_TERMS, *FOUR_CHARACTER_TERMS, "银行 利率", "市场 -基金", '"美元"']


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request, tmp_path):
    """Two empty stores of one kind: one for the writer, one for the bulk fill."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'w.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        return
    postgres_url = request.getfixturevalue("postgres_url")  # skips (or fails, with CAIXUN_REQUIRE_SERVICES=1)
    with postgresql_database(POSTGRES_ADMIN_URL) as other:
        yield postgres_url, other


def test_bulk_fill_stores_the_rows_and_search_index_the_writer_stores(two_stores):
    articles = _articles(40)
    by_writer, by_bulk = (make_engine(url) for url in two_stores)
    with session_factory(by_writer).begin() as session:
        for article in articles:
            upsert_article(session, article, article.published_at + timedelta(minutes=5))
    synthesizer = Synthesizer(load_sources(), seed=1)
    with session_factory(by_bulk).begin() as session:  # the first 15 through the writer, as a benchmark run does
        for article in synthesizer.batch(0, 15):
            upsert_article(session, article, article.published_at + timedelta(minutes=5))
    indexes_before = _secondary_indexes(by_bulk)

    filled = bulk_fill(by_bulk, synthesizer, 40, workers=2)

    assert filled.articles == 25 and filled.method
    written, bulk = _stored(by_writer), _stored(by_bulk)
    assert len(written[0]) == 40 and written[1]
    assert bulk == written
    assert _index(by_bulk) == _index(by_writer)
    assert len(_index(by_writer)) == 40 and all(tokens for _, tokens in _index(by_writer))
    assert _secondary_indexes(by_bulk) == indexes_before  # dropped and rebuilt as they were (PostgreSQL)
    found_any = 0
    for search in SEARCHES:
        expected = [r["canonical_url"] for r in query(by_writer, search=search, limit=100)]
        assert [r["canonical_url"] for r in query(by_bulk, search=search, limit=100)] == expected, search
        found_any += bool(expected)
    assert found_any > len(SEARCHES) // 2
    for term in ("银行", "股"):  # against a substring scan the code did not make
        plain = {a.canonical_url for a in articles if term in a.title or term in a.body}
        assert plain and {r["canonical_url"] for r in query(by_bulk, search=term, limit=100)} == plain
    extra = Synthesizer(load_sources(), seed=2).batch(0, 1)[0]
    with session_factory(by_bulk).begin() as session:  # the writer carries on after a bulk fill
        assert upsert_article(session, extra, extra.published_at) == "inserted"
    with by_bulk.connect() as connection:
        assert connection.execute(select(StoredArticle.id).where(StoredArticle.canonical_url == extra.canonical_url)).scalar_one() == 41
    assert [r["canonical_url"] for r in query(by_bulk, search=extra.title)] == [extra.canonical_url]


def test_fast_per_article_values_are_the_writers(monkeypatch):
    articles = _articles(1500, seed=3)
    odd = [  # short texts, blank and punctuation-only lines, a shingle across many short lines, Latin and full width
        type(articles[0])(url="https://x.cn/1", title=title, body=body, published_at=articles[0].published_at, images=[])
        for title, body in [
            ("短", "一二三"), ("", "央行\n\n降息。\n！？"), (None, "甲\n乙\n丙\n丁\n戊，己"), ("Tesla特斯拉", "Model Y ＡＢＣ１２３\n特斯拉Model"),
            ("x", "。。。\n……"), ("标题", "一二三四五六七八九十" * 3 + "\n" + "十九八七六五四三二一" * 3),
        ]
    ]  # fmt: skip
    for article in articles + odd:
        assert fast_dedup_values(article.body) == dedup_values(article.body), article.body[:40]
        assert fast_index_tokens(article.title, article.body) == index_tokens(article.title, article.body)
        assert fast_row_values(article) == row_values(article)
    rows = prepare(articles[:200], 0)
    assert [row for row, _ in rows] == [article_row(a) for a in articles[:200]]
    monkeypatch.setattr("benchmarks.bulk_fill.fast_index_tokens", lambda title, body: ["wrong"])
    with pytest.raises(PreparedMismatch):  # the fill checks itself against the writer's functions
        prepare(articles[:200], 0)


def test_prepared_chunks_are_cached_and_read_back(tmp_path):
    sources = load_sources()
    key = cache_key(sources, 1)

    def run():
        synthesizer = Synthesizer(sources, seed=1)
        synthesizer.batch(0, 5)
        return list(prepared_chunks(synthesizer, 5, 2100, workers=2, cache=tmp_path, key=key))

    first, again = run(), run()

    assert [(c.first, len(c.articles)) for c in first] == [(5, 1995), (2000, 100)]
    assert not any(c.cached for c in first) and all(c.cached for c in again)
    assert [c.prepared for c in again] == [c.prepared for c in first]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}-2000-2100.pickle", f"{key}-5-2000.pickle"]
    article, (dedup, tokens) = first[1].articles[7], first[1].prepared[7]
    chinese = [c for c in article.title if "\u4e00" <= c <= "\u9fff"]
    assert {a + b for a, b in zip(article.title, article.title[1:]) if a in chinese and b in chinese} <= set(tokens.split())
    assert len(dedup["content_hash"]) == 64


def test_main_reports_ingest_rate_latencies_and_size(tmp_path, capsys):
    results = tmp_path / "storage.json"

    assert main(["--articles", "300", "--databases", "sqlite", "--runs", "5", "--json", str(results)]) == 0

    sqlite = json.loads(results.read_text(encoding="utf-8"))["databases"]["sqlite"]
    assert sqlite["articles"] == 300
    assert sqlite["ingest"]["writer_articles"] == 300 and sqlite["ingest"]["bulk_articles"] == 0
    assert sqlite["ingest"]["outcomes"] == {"inserted": 300}
    assert sqlite["ingest"]["rate"] > 0
    assert set(sqlite["queries"]) == {spec.name for spec in QUERIES}
    for latency in sqlite["queries"].values():
        assert latency["runs"] == 5
        assert 0 < latency["median_ms"] <= latency["p95_ms"] <= latency["max_ms"]
        assert latency["verdict"] in ("PASS", "FAIL", "-")
    assert sum(latency["mean_rows"] for latency in sqlite["queries"].values()) > 0  # the queries find articles
    assert sqlite["size_bytes"] > 0
    printed = capsys.readouterr().out
    assert "articles/s" in printed and "total time" in printed
    assert all(spec.name in printed for spec in QUERIES)


def test_writer_articles_splits_the_store_between_writer_and_bulk_fill(tmp_path):
    results = tmp_path / "storage.json"

    main(["--articles", "260", "--writer-articles", "130", "--batch-size", "100", "--databases", "sqlite",
          "--runs", "2", "--json", str(results)])  # fmt: skip

    ingest = json.loads(results.read_text(encoding="utf-8"))["databases"]["sqlite"]["ingest"]
    assert (ingest["writer_articles"], ingest["bulk_articles"]) == (130, 130)
    assert ingest["outcomes"] == {"inserted": 130}
    assert ingest["bulk_method"].startswith("one transaction")
    assert ingest["writer_floor"] == 59 and ingest["writer_verdict"] in ("PASS", "FAIL")


def test_bulk_fill_of_a_multiple_of_the_search_batch_leaves_no_empty_insert(tmp_path, monkeypatch):
    """A million articles is 20 FTS5 batches exactly: nothing is left for the last insert, which must not run."""
    monkeypatch.setattr("benchmarks.bulk_fill.FTS5_BATCH", 5)
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    filled = bulk_fill(engine, Synthesizer(load_sources(), seed=1), 10, workers=1)
    assert filled.articles == 10 and len(_index(engine)) == 10

