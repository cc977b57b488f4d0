"""The store on real SQLite and PostgreSQL: upserts, times, URLs, the export CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from extractors import Article, Image
from storage import (
    count_articles,
    iter_articles,
    make_engine,
    mask_url,
    resolve_database_url,
    session_factory,
)
from storage.db import DEFAULT_DATABASE_URL, DatabaseURLError
from storage.models import ArticleRevision, StoredArticle
from storage.write import upsert_article
from tests.helpers import run_storage

CST = timezone(timedelta(hours=8))


def _article(**changes) -> Article:
    values = dict(
        url="https://finance.sina.com.cn/roll/2019-09-09/doc-iicezzrq4681677.shtml?from=x",
        canonical_url="https://finance.sina.com.cn/roll/2019-09-09/doc-iicezzrq4681677.shtml",
        title="标题",
        body="第一段\n第二段",
        published_at=datetime(2019, 9, 9, 20, 52, tzinfo=CST),
        source="中国证券报",
        authors=["王兆洋"],
        editor="郭明煜",
        images=[Image("https://n.sinaimg.cn/a.jpg", "图注")],
        symbols=["sh600000"],
        site="sina",
        extractor="sina/v2017@1",
    )
    values.update(changes)
    return Article(**values)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_upsert_inserts_then_updates_then_leaves_unchanged(engine):
    sessions = session_factory(engine)
    first_fetch = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with sessions.begin() as session:
        assert upsert_article(session, _article(), first_fetch) == "inserted"
    with sessions.begin() as session:
        assert upsert_article(session, _article(), first_fetch + timedelta(hours=1)) == "unchanged"
    with sessions.begin() as session:
        assert upsert_article(session, _article(title="新标题"), first_fetch + timedelta(hours=2)) == "updated"
    assert count_articles(engine) == 1
    with sessions() as session:
        row = session.execute(select(StoredArticle)).scalar_one()
    assert row.title == "新标题"
    assert row.first_seen_at == first_fetch
    assert row.updated_at == first_fetch + timedelta(hours=2)


def test_times_round_trip_as_the_same_instant(engine):
    with session_factory(engine).begin() as session:
        upsert_article(session, _article(), datetime(2026, 1, 1, 8, tzinfo=timezone.utc))
    [record] = list(iter_articles(engine))
    assert record["published_at"] == "2019-09-09T20:52:00+08:00"
    assert record["fetched_at"] == "2026-01-01T08:00:00+00:00"
    assert record["images"] == [{"src": "https://n.sinaimg.cn/a.jpg", "caption": "图注"}]
    assert record["authors"] == ["王兆洋"] and record["symbols"] == ["sh600000"]


def test_naive_times_are_refused(engine):
    with pytest.raises(Exception, match="naive datetime"):
        with session_factory(engine).begin() as session:
            upsert_article(session, _article(published_at=datetime(2019, 9, 9, 20, 52)))


def test_articles_without_canonical_url_are_keyed_by_url(engine):
    with session_factory(engine).begin() as session:
        upsert_article(session, _article(canonical_url=None))
        upsert_article(session, _article(canonical_url=None))
    [record] = list(iter_articles(engine))
    assert record["canonical_url"] == record["url"]


def test_database_url_resolution(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert resolve_database_url() == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.endswith("/data/caixun.db")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/env.db")
    assert resolve_database_url() == "sqlite:////tmp/env.db"
    assert resolve_database_url("postgresql://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert "pw" not in mask_url("postgresql://u:pw@h/db")
    with pytest.raises(DatabaseURLError):
        resolve_database_url("not a url")


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (tmp_path / "sub" / "wal.db").exists()


def test_export_cli_prints_jsonl(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with session_factory(make_engine(url)).begin() as session:
        upsert_article(session, _article())
    result = run_storage("export", "--database-url", url, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    expected_keys = {
        "url", "canonical_url", "title", "published_at", "published_precision", "source", "source_url", "authors",
        "editor", "original_title", "body", "images", "symbols", "language", "site", "fetched_at", "extractor",
        "removed_at", "removed_status", "id", "duplicate_of", "first_seen_at",
    }  # fmt: skip
    assert set(record) == expected_keys
    assert record["title"] == "标题"
    assert record["removed_at"] is None and record["removed_status"] is None


def test_export_cli_rejects_bad_input(tmp_path):
    bad_format = run_storage("export", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--format", "xml")
    assert bad_format.returncode == 2 and "invalid choice" in bad_format.stderr
    bad_url = run_storage("export", "--database-url", "nonsense")
    assert bad_url.returncode == 2 and "not a database URL" in bad_url.stderr
    unreachable = run_storage("count", "--database-url", "postgresql://caixun:secret@127.0.0.1:1/none")
    assert unreachable.returncode == 1
    assert "cannot use the database" in unreachable.stderr and "secret" not in unreachable.stderr


def test_sqlite_readers_read_while_a_writer_commits(tmp_path):
    """WAL: a reader in the middle of a transaction neither blocks a crawl's write nor sees half of it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'wal-rw.db'}")
    sessions = session_factory(engine)
    with sessions.begin() as session:
        upsert_article(session, _article())
    with engine.connect() as reader:
        reader.exec_driver_sql("BEGIN")
        assert reader.exec_driver_sql("SELECT count(*) FROM articles").scalar() == 1
        with sessions.begin() as writer:  # would raise "database is locked" without WAL
            upsert_article(writer, _article(canonical_url="https://finance.sina.com.cn/b.shtml", url="https://finance.sina.com.cn/b.shtml"))
        assert reader.exec_driver_sql("SELECT count(*) FROM articles").scalar() == 1  # its snapshot
        reader.exec_driver_sql("COMMIT")
        assert reader.exec_driver_sql("SELECT count(*) FROM articles").scalar() == 2
    engine.dispose()


def test_a_day_only_time_keeps_its_precision(engine):
    """A page that shows only a date: 00:00 China time of that day, precision "day", in the store and the export."""
    day = _article(published_at=datetime(2005, 8, 16, tzinfo=CST), published_precision="day")
    with session_factory(engine).begin() as session:
        upsert_article(session, day)
    [record] = list(iter_articles(engine))
    assert record["published_at"] == "2005-08-16T00:00:00+08:00"
    assert record["published_precision"] == "day"
    with session_factory(engine).begin() as session:  # a new version with the minute: the old one is kept
        assert upsert_article(session, _article(title="新标题", published_precision="minute")) == "updated"
        revision = session.execute(select(ArticleRevision)).scalar_one()
    assert revision.published_precision == "day"
    [record] = list(iter_articles(engine))
    assert record["published_precision"] == "minute"
