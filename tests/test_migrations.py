"""Alembic migrations: create, upgrade with data kept, match the models, and refuse outdated schemas."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import String, bindparam, column, create_engine, event, inspect, text
from sqlalchemy.orm import Session

from storage import make_engine
from storage.db import resolve_database_url
from storage.migrate import (
    OutdatedSchema,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from storage.models import Base, UTCDateTime
from tests.helpers import insert_old_schema_article, run_scrapy, run_storage


def _bare_engine(url: str):
    return create_engine(resolve_database_url(url))


def test_upgrade_creates_the_schema_the_models_describe(database_url):
    engine = _bare_engine(database_url)
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    # search objects are created by raw DDL and are not part of the models (storage.search owns them)
    internal = ("fts", "trgm", "articles_bigrams", "search_tokens")
    differences = [d for d in differences if not any(name in str(d) for name in internal)]
    assert differences == []
    engine.dispose()


def _insert_first_release_row(engine) -> None:
    insert_old_schema_article(engine, "https://finance.sina.com.cn/a/doc-iabcdefg1234567.shtml")


def test_upgrade_from_the_first_release_keeps_the_data(database_url):
    engine = _bare_engine(database_url)
    upgrade(engine, "0001")
    _insert_first_release_row(engine)
    with pytest.raises(OutdatedSchema, match="python -m storage upgrade"):
        make_engine(database_url)
    result = run_storage("upgrade", "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM articles")).scalars().all() == ["标题"]
    engine.dispose()


def test_a_database_made_before_migrations_is_stamped_then_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'skeleton.db'}"
    engine = _bare_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as connection:  # what the first release's create_all left: no alembic_version
        connection.execute(text("DROP TABLE alembic_version"))
    _insert_first_release_row(engine)
    before, after = upgrade(engine)
    assert (before, after) == ("0001", head_revision())
    assert "fetches" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 1


def test_downgrade_to_the_first_release(tmp_path):
    engine = _bare_engine(f"sqlite:///{tmp_path / 'down.db'}")
    upgrade(engine)
    assert downgrade(engine, "0001") == "0001"
    assert set(inspect(engine).get_table_names()) == {"alembic_version", "articles"}


def test_the_crawler_refuses_an_outdated_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(_bare_engine(url), "0001")
    result = run_scrapy("crawl", "sina_finance", "-a", "urls=https://finance.sina.com.cn/a/doc-iabcdefg1234567.shtml",
                        "-s", f"DATABASE_URL={url}", "-s", f"REPLAY_WARC={tmp_path / 'none.warc.gz'}")  # fmt: skip
    assert result.returncode == 1
    assert "schema revision 0001" in result.stderr and "python -m storage upgrade" in result.stderr


def test_0005_adds_published_precision_and_takes_it_away(database_url):
    """Up: old rows get NULL (unknown) precision; down: the column goes, the rows stay."""
    engine = _bare_engine(database_url)
    upgrade(engine, "0004")
    _insert_first_release_row(engine)
    upgrade(engine, "0005")
    for table in ("articles", "article_revisions"):
        assert "published_precision" in {c["name"] for c in inspect(engine).get_columns(table)}
    with engine.begin() as connection:
        assert connection.execute(text("SELECT published_precision FROM articles")).scalars().all() == [None]
        connection.execute(text("UPDATE articles SET published_precision = 'day'"))
    downgrade(engine, "0004")
    for table in ("articles", "article_revisions"):
        assert "published_precision" not in {c["name"] for c in inspect(engine).get_columns(table)}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM articles")).scalars().all() == ["标题"]
    engine.dispose()


def _timed(sql: str):
    """text() whose :a and :b are times bound as the models bind them (naive UTC on SQLite)."""
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime) for name in "ab" if f":{name}" in sql))


def _read(engine, sql: str) -> list[tuple]:
    """Rows sorted; columns named *_at, *_ctime or *_mtime read back as the models read times."""
    names = [name.strip().rsplit(" ", 1)[-1] for name in sql[len("SELECT ") : sql.index(" FROM ")].split(",")]
    timed = [column(n, UTCDateTime if n.endswith(("_at", "_ctime", "_mtime")) else String) for n in names]
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(text(sql).columns(*timed)))


def test_0006_carries_roll_watermarks_and_mtimes_to_site_neutral_state_and_back(database_url):
    """Up: sina_finance's channel P:L becomes site "sina", source "rollapi:P:L", and page_states.roll_mtime
    becomes listed_at; down: the reverse. Values are kept both ways."""
    engine = _bare_engine(database_url)
    upgrade(engine, "0005")
    listed = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
    swept = datetime(2026, 11, 28, 1, 2, 3, tzinfo=timezone.utc)
    url = "https://finance.sina.com.cn/a/doc-iabcdefg1234567.shtml"
    with engine.begin() as connection:
        connection.execute(
            _timed("INSERT INTO roll_watermarks (spider, channel, newest_ctime, updated_at) VALUES "
                   "('sina_finance', '153:2516', :a, :b), ('sina_finance', '2509:2669', :b, :b)"),
            dict(a=listed, b=swept),
        )  # fmt: skip
        connection.execute(
            _timed("INSERT INTO page_states (url, roll_mtime, outcome, failures, last_fetched_at) "
                   "VALUES (:url, :a, 'inserted', 0, :b)"),
            dict(url=url, a=listed, b=swept),
        )  # fmt: skip
    upgrade(engine, "0006")
    assert "roll_watermarks" not in inspect(engine).get_table_names()
    assert "roll_mtime" not in {c["name"] for c in inspect(engine).get_columns("page_states")}
    assert "ix_page_states_outcome" in {i["name"] for i in inspect(engine).get_indexes("page_states")}
    assert _read(engine, "SELECT site, source_key, newest_listed_at, updated_at FROM watermarks") == [
        ("sina", "rollapi:153:2516", listed, swept),
        ("sina", "rollapi:2509:2669", swept, swept),
    ]
    assert _read(engine, "SELECT url, listed_at FROM page_states") == [(url, listed)]
    with engine.begin() as connection:  # another site's source has no roll channel to go back to
        connection.execute(
            _timed("INSERT INTO watermarks (site, source_key, newest_listed_at, updated_at) "
                   "VALUES ('yicai', 'jsonlist:news', :b, :b)"),
            dict(b=swept),
        )  # fmt: skip
    downgrade(engine, "0005")
    assert "watermarks" not in inspect(engine).get_table_names()
    assert _read(engine, "SELECT spider, channel, newest_ctime, updated_at FROM roll_watermarks") == [
        ("sina_finance", "153:2516", listed, swept),
        ("sina_finance", "2509:2669", swept, swept),
    ]
    assert _read(engine, "SELECT url, roll_mtime FROM page_states") == [(url, listed)]
    engine.dispose()


def test_0009_gives_existing_rows_their_order_key_and_takes_it_away(database_url):
    """Up: the database computes each row's order key as the writer does (storage.order_key), copies it to the
    symbols, moves SQLite's search rows to it and gives PostgreSQL's tokens their periods; the search still finds
    every row, newest first. Down: all of it undone, the rows kept."""
    from storage.order_key import order_key
    from storage.query import query
    from storage.search import period_tokens

    engine = _bare_engine(database_url)
    upgrade(engine, "0007")
    times = [
        datetime(2025, 12, 31, 16, 30, 5, tzinfo=timezone.utc),  # 2026-01-01 00:30:05 in China
        None,
        datetime(1899, 6, 1, tzinfo=timezone.utc),  # before what the key holds: its first second
        datetime(2026, 3, 1, 8, 0, 0, 250_000, tzinfo=timezone.utc),  # a fraction of a second, floored
    ]
    for number, published in enumerate(times, 1):
        insert_old_schema_article(engine, f"https://example.com/{number}.html", body=f"正文内容第{number}篇")
        with engine.begin() as connection:
            connection.execute(_timed("UPDATE articles SET published_at = :a WHERE id = :id"), {"a": published, "id": number})
            connection.execute(text("INSERT INTO article_symbols (article_id, symbol) VALUES (:id, 'sh600519')"), {"id": number})
    upgrade(engine, "0008")
    upgrade(engine, "0009")
    keys = {n: order_key(n, published) for n, published in enumerate(times, 1)}
    with engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, order_key FROM articles")).all()) == keys
        assert dict(connection.execute(text("SELECT article_id, order_key FROM article_symbols")).all()) == keys
        if engine.dialect.name == "sqlite":
            assert sorted(connection.execute(text("SELECT rowid FROM articles_bigrams")).scalars()) == sorted(keys.values())
        else:
            periods = connection.execute(
                text("SELECT id, ARRAY(SELECT lexeme FROM unnest(search_tokens) WHERE lexeme LIKE '@%' ORDER BY 1) FROM articles")
            ).all()
            assert dict(periods) == {n: sorted(period_tokens(published)) for n, published in enumerate(times, 1)}
    newest_first = [f"https://example.com/{n}.html" for n in sorted(keys, key=keys.get, reverse=True)]
    upgrade(engine)  # the readers' API needs the head revision
    assert [r["url"] for r in query(make_engine(database_url), search="正文")] == newest_first
    assert [r["url"] for r in query(make_engine(database_url), symbol="sh600519")] == newest_first
    downgrade(engine, "0008")
    assert "order_key" not in {c["name"] for c in inspect(engine).get_columns("articles")}
    assert "order_key" not in {c["name"] for c in inspect(engine).get_columns("article_symbols")}
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert sorted(connection.execute(text("SELECT rowid FROM articles_bigrams")).scalars()) == [1, 2, 3, 4]
        else:
            assert connection.execute(text("SELECT count(*) FROM articles WHERE search_tokens::text LIKE '%@%'")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM articles WHERE search_tokens @@ '正文'")).scalar() == 4
    engine.dispose()


def test_0010_gives_postgresql_every_character_as_a_token_and_keeps_it_down(database_url):
    """Up: on PostgreSQL the database adds each CJK character of the stored bigrams as a token, so a one-character
    search is one token; SQLite is unchanged. Either way the search finds every row that holds the character,
    after the upgrade and after the way down."""
    from storage.query import query

    engine = _bare_engine(database_url)
    upgrade(engine, "0007")
    bodies = {"https://example.com/1.html": "外汇储备增加，GM", "https://example.com/2.html": "汇率", "https://example.com/3.html": "储蓄"}
    for url, body in bodies.items():
        insert_old_schema_article(engine, url, title="新闻", body=body)
    upgrade(engine, "0009")
    postgresql = engine.dialect.name == "postgresql"
    lexemes = "SELECT ARRAY(SELECT lexeme FROM unnest(search_tokens)) FROM articles ORDER BY id"
    if postgresql:
        with engine.connect() as connection:
            assert "汇" not in connection.execute(text(lexemes)).scalars().first()  # mid-run: in bigrams only
    upgrade(engine, "0010")
    upgrade(engine)  # the readers' API needs the head; what came after 0010 adds indexes only
    holding = {url for url, body in bodies.items() if "汇" in body}
    assert {r["url"] for r in query(make_engine(database_url), search="汇")} == holding
    if postgresql:
        with engine.connect() as connection:
            first = connection.execute(text(lexemes)).scalars().first()
            assert {"外", "汇", "储", "备", "增", "加", "新", "闻"} <= set(first) and "gm" in first
            assert not {"g", "m"} & set(first)  # a Latin word's letters are not characters of Chinese text
            assert connection.execute(text("SELECT count(*) FROM articles WHERE search_tokens @@ '汇'")).scalar() == 2
            assert connection.execute(  # the GIN index was rebuilt
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search_tokens'")
            ).scalar() == "CREATE INDEX ix_articles_search_tokens ON public.articles USING gin (search_tokens)"
    downgrade(engine, "0009")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 3
        if postgresql:  # revision 0009 asks '汇':*, which the character tokens answer truly
            assert connection.execute(text("SELECT count(*) FROM articles WHERE search_tokens @@ '汇:*'")).scalar() == 2
    engine.dispose()


def test_0011_indexes_what_the_health_report_counts_and_takes_it_away(database_url):
    """The report's counts per day, site, duplicate link and source read ix_articles_first_seen_at alone (on SQLite
    the plan says so; PostgreSQL's planner takes a table this small whole, so only the index is checked there)."""
    from storage.health import _stored_per_day, _top_sources

    engine = _bare_engine(database_url)
    upgrade(engine, "0010")
    insert_old_schema_article(engine, "https://example.com/1.html")
    upgrade(engine, "0011")
    indexes = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("articles")}
    assert indexes["ix_articles_first_seen_at"] == ["first_seen_at", "site", "duplicate_of", "source"]
    if engine.dialect.name == "sqlite":
        plans = []

        def explain(connection, _cursor, statement, parameters, *_) -> None:
            if statement.lstrip().startswith("SELECT") and "FROM articles" in statement:
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
                plans.append(" ".join(str(row[-1]) for row in rows))

        event.listen(engine, "before_cursor_execute", explain)
        with Session(engine) as session:
            _stored_per_day(session, date(2026, 11, 1), date(2026, 11, 30), None)
            _top_sources(session, date(2026, 11, 1), date(2026, 11, 30), "sina")
        event.remove(engine, "before_cursor_execute", explain)
        # a statement per day of November (SQLite counts day by day), then the sources'
        assert len(plans) == 30 + 1 and all("COVERING INDEX ix_articles_first_seen_at" in plan for plan in plans), plans
    downgrade(engine, "0010")
    assert "ix_articles_first_seen_at" not in {index["name"] for index in inspect(engine).get_indexes("articles")}
    engine.dispose()


def test_workers_starting_together_on_an_empty_postgresql_database_make_one_schema(postgres_url):
    """Every worker of a frontier opens the store as it starts: on an empty database each finds no schema and
    would create it. Under the schema lock one does, the others find it made; none fails."""
    starting = threading.Barrier(6)
    errors = []

    def open_store() -> None:
        starting.wait()
        try:
            make_engine(postgres_url).dispose()
        except Exception as exc:  # noqa: BLE001 (the test reports whatever a worker would die of)
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a worker still waits for the schema"
    assert errors == []
    engine = make_engine(postgres_url, create=False)
    assert current_revision(engine) == head_revision()
    engine.dispose()
