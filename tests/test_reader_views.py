"""The reader views (storage.reader_schema) on real SQLite and PostgreSQL: the promised columns as the databases
report them, values written by the store read back, down to 0006 and up again, and a SQLite batch copy of a
table the views read."""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from extractors import Article
from storage import make_engine, reader_schema, session_factory
from storage.db import resolve_database_url
from storage.migrate import downgrade, head_revision, upgrade
from storage.provenance import fetch_fields, link_fetch, record_fetch, start_run
from storage.write import upsert_article_with_id
from tests.helpers import insert_old_schema_article

CST = timezone(timedelta(hours=8))
URL = "https://finance.sina.com.cn/roll/2019-09-09/doc-iicezzrq4681677.shtml"

# What revision 0007 promised (and the README shows), frozen: VIEWS may only grow at the end of a view.
PROMISED_AT_0007 = {
    "reader_articles": "id integer, url text, canonical_url text, site text, title text, original_title text,"
    " body text, published_at timestamp, published_precision text, source text, source_url text, authors json,"
    " editor text, language text, symbols json, images json, duplicate_of integer, fetched_at timestamp,"
    " first_seen_at timestamp, updated_at timestamp, last_fetched_at timestamp, removed_at timestamp,"
    " removed_status integer, extractor text",
    "reader_article_symbols": "article_id integer, symbol text",
    "reader_fetches": "id integer, crawl_run_id integer, article_id integer, requested_url text, final_url text,"
    " status integer, outcome text, error text, fetched_at timestamp, content_type text, body_bytes integer,"
    " body_sha256 text, warc_file text, warc_offset integer, discovered_from text, discovery json",
}
VIEW_NAMES = set(PROMISED_AT_0007)


def _bare_engine(url: str):
    return create_engine(resolve_database_url(url))


def _promised(spec: str) -> list[tuple[str, str]]:
    return [tuple(item.split()) for item in spec.split(",")]


def _reported(connection, view: str) -> list[tuple[str, str]]:
    """The view's columns in order, each with the portable name of the type the database reports (the reported
    type itself when it has none)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        declared = connection.exec_driver_sql(f"PRAGMA table_info({view})").all()
        rows = [(row[1], re.sub(r"\(.*\)$", "", row[2]).upper()) for row in declared]  # VARCHAR(64) → VARCHAR
    else:
        rows = connection.execute(
            text("SELECT column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = current_schema() AND table_name = :view ORDER BY ordinal_position"),
            {"view": view},
        ).all()  # fmt: skip
    return [(name, reader_schema.DATABASE_TYPES[dialect].get(type_, type_)) for name, type_ in rows]


def _views(engine) -> set[str]:
    return set(inspect(engine).get_view_names())


def test_the_contract_starts_with_what_0007_promised():
    assert {view.name for view in reader_schema.VIEWS} >= VIEW_NAMES
    for view in reader_schema.VIEWS:
        promised = _promised(PROMISED_AT_0007[view.name]) if view.name in VIEW_NAMES else []
        assert [(c.name, c.type) for c in view.columns[: len(promised)]] == promised, view.name
        since = [c.since for c in view.columns]
        assert since == sorted(since), f"{view.name}: a column added later must come after the older ones"


def test_after_upgrade_head_the_views_have_the_promised_columns_and_types(database_url):
    """The test that fails when a migration renames, drops, moves or retypes a column of a view."""
    engine = _bare_engine(database_url)
    upgrade(engine)
    assert _views(engine) == {view.name for view in reader_schema.VIEWS}
    with engine.connect() as connection:
        for view in reader_schema.VIEWS:
            assert _reported(connection, view.name) == [(c.name, c.type) for c in view.columns], view.name
            if view.name in VIEW_NAMES:
                promised = _promised(PROMISED_AT_0007[view.name])
                assert _reported(connection, view.name)[: len(promised)] == promised, view.name
    engine.dispose()


def test_an_article_and_its_fetch_written_by_the_store_read_back_through_the_views(database_url):
    engine = make_engine(database_url)
    fetched_at = datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
    body = "<html><body>第一段</body></html>".encode()
    article = Article(
        url=URL + "?from=x", canonical_url=URL, title="标题", body="第一段\n第二段",
        published_at=datetime(2019, 9, 9, 20, 52, tzinfo=CST), published_precision="minute", source="中国证券报",
        authors=["王兆洋", "李四"], editor="郭明煜", symbols=["sh600000"], site="sina", extractor="sina/v2017@1",
    )  # fmt: skip
    with session_factory(engine).begin() as session:
        run_id = start_run(session, "news", {}, fetched_at)
        _, article_id = upsert_article_with_id(session, article, fetched_at)
        fetch_id = record_fetch(session, **fetch_fields(
            crawl_run_id=run_id, requested_url=URL + "?from=x", final_url=URL, status=200, fetched_at=fetched_at,
            headers={"Content-Type": "text/html; charset=utf-8"}, body=body, warc_file="crawl-1.warc.gz",
            warc_offset=1234, discovered_from="https://finance.sina.com.cn/roll/", discovery={"via": "rollapi"},
        ))  # fmt: skip
        link_fetch(session, fetch_id, article_id=article_id, outcome="inserted")
    sqlite = engine.dialect.name == "sqlite"
    first_author = "json_extract(authors, '$[0]')" if sqlite else "authors->>0"
    with engine.connect() as connection:
        row = connection.execute(
            text(f"SELECT id, url, canonical_url, site, title, published_at, published_precision, authors, symbols,"
                 f" duplicate_of, removed_at, fetched_at, {first_author} AS first_author FROM reader_articles")
        ).one()  # fmt: skip
        symbols = connection.execute(text("SELECT article_id, symbol FROM reader_article_symbols")).all()
        by_symbol = connection.execute(
            text("SELECT a.title FROM reader_articles a JOIN reader_article_symbols s ON s.article_id = a.id"
                 " WHERE s.symbol = 'sh600000' ORDER BY a.published_at DESC")
        ).scalars().all()  # fmt: skip
        fetch = connection.execute(
            text("SELECT id, crawl_run_id, article_id, requested_url, final_url, status, outcome, error, fetched_at,"
                 " content_type, body_bytes, body_sha256, warc_file, warc_offset, discovered_from, discovery"
                 " FROM reader_fetches")
        ).one()  # fmt: skip
    assert (row.id, row.url, row.canonical_url, row.site) == (article_id, URL + "?from=x", URL, "sina")
    assert (row.title, row.published_precision, row.first_author) == ("标题", "minute", "王兆洋")
    assert (row.duplicate_of, row.removed_at) == (None, None)
    if sqlite:  # UTC as stored, without an offset: 20:52 China time is 12:52 UTC
        assert (row.published_at, row.fetched_at) == ("2019-09-09 12:52:00.000000", "2026-01-01 08:00:00.000000")
        authors, row_symbols, discovery = json.loads(row.authors), json.loads(row.symbols), json.loads(fetch.discovery)
    else:
        assert row.published_at.utcoffset() is not None and fetch.fetched_at.utcoffset() is not None
        assert row.published_at == datetime(2019, 9, 9, 12, 52, tzinfo=timezone.utc)
        authors, row_symbols, discovery = row.authors, row.symbols, fetch.discovery
    assert (authors, row_symbols, discovery) == (["王兆洋", "李四"], ["sh600000"], {"via": "rollapi"})
    assert symbols == [(article_id, "sh600000")] and by_symbol == ["标题"]
    assert tuple(fetch)[:8] == (fetch_id, run_id, article_id, URL + "?from=x", URL, 200, "inserted", None)
    assert (fetch.content_type, fetch.body_bytes, fetch.body_sha256) == (
        "text/html; charset=utf-8", len(body), hashlib.sha256(body).hexdigest())
    assert (fetch.warc_file, fetch.warc_offset, fetch.discovered_from) == (
        "crawl-1.warc.gz", 1234, "https://finance.sina.com.cn/roll/")
    engine.dispose()


def test_downgrade_to_0006_drops_the_views_and_upgrade_makes_them_again(database_url):
    engine = _bare_engine(database_url)
    upgrade(engine, "0006")
    assert _views(engine) == set()  # revisions 0001–0006 leave no view in the way
    insert_old_schema_article(engine, URL)
    upgrade(engine, "0007")
    assert _views(engine) == VIEW_NAMES
    with engine.connect() as connection:  # a view shows the rows that were there before it
        assert connection.execute(text("SELECT url, title FROM reader_articles")).all() == [(URL, "标题")]
    assert downgrade(engine, "0006") == "0006"
    assert _views(engine) == set()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM articles")).scalars().all() == ["标题"]
    upgrade(engine)
    with engine.connect() as connection:
        for view in reader_schema.VIEWS:
            assert _reported(connection, view.name) == [(c.name, c.type) for c in view.columns], view.name
        assert connection.execute(text("SELECT url FROM reader_articles")).scalars().all() == [URL]
    engine.dispose()


def _batch_copy_articles(engine, *, set_aside: bool) -> None:
    """What a later revision's op.batch_alter_table("articles") does on SQLite: copy, drop, rename the copy."""
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        with reader_schema.views_set_aside(head_revision()) if set_aside else nullcontext():
            with op.batch_alter_table("articles", recreate="always") as batch:
                batch.add_column(sa.Column("later_column", sa.Integer))


def test_on_sqlite_a_batch_copy_of_articles_keeps_the_views_when_they_are_set_aside(tmp_path):
    """No revision after 0007 copies a table yet: this is the recipe storage/reader_schema.py gives them."""
    engines = [_bare_engine(f"sqlite:///{tmp_path / name}") for name in ("naive.db", "batch.db")]
    for engine in engines:
        upgrade(engine)
        insert_old_schema_article(engine, URL)
    naive, engine = engines
    with pytest.raises(sa.exc.OperationalError, match="error in view reader_"):  # why the recipe is needed
        _batch_copy_articles(naive, set_aside=False)
    naive.dispose()
    _batch_copy_articles(engine, set_aside=True)
    assert "later_column" in {c["name"] for c in inspect(engine).get_columns("articles")}
    assert _views(engine) == {view.name for view in reader_schema.VIEWS}
    with engine.connect() as connection:
        for view in reader_schema.VIEWS:
            assert _reported(connection, view.name) == [(c.name, c.type) for c in view.columns], view.name
        assert connection.execute(text("SELECT url, title FROM reader_articles")).all() == [(URL, "标题")]
    engine.dispose()
