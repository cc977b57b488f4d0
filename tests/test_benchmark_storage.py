"""The storage benchmark (benchmarks/storage.py) on tiny SQLite stores: synthesis, bulk fill, the whole run."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from benchmarks.storage import (
    QUERIES,
    SITES,
    Synthesizer,
    bulk_insert,
    load_sources,
    main,
    percentile,
    symbol_pool,
)
from storage import make_engine, session_factory, upsert_article
from storage.models import ArticleSymbol, StoredArticle


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
        symbols = session.execute(select(ArticleSymbol.article_id, ArticleSymbol.symbol).order_by(ArticleSymbol.article_id, ArticleSymbol.symbol)).all()
    return articles, [tuple(row) for row in symbols]


def test_bulk_fill_stores_the_rows_the_writer_stores(tmp_path):
    articles = _articles(40)
    by_writer, by_bulk = make_engine(f"sqlite:///{tmp_path / 'w.db'}"), make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with session_factory(by_writer).begin() as session:
        for article in articles:
            upsert_article(session, article, article.published_at + timedelta(minutes=5))
    with session_factory(by_bulk).begin() as session:
        bulk_insert(session, articles)

    written, bulk = _stored(by_writer), _stored(by_bulk)
    assert len(written[0]) == 40 and written[1]
    assert bulk == written


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
