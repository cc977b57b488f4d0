"""The readers' API and CLI on real SQLite and PostgreSQL: query, search, stats, upgrade.

Articles go in through the one writer (storage.write.upsert_article); every test
runs on both databases (the PostgreSQL one skips or fails as tests/conftest.py says).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, insert

from extractors import Article
from storage import SearchUnavailable, make_engine, session_factory, stats
from storage.cli import display_width
from storage.cli import main as cli_main
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import CrawlRun, StoredArticle
from storage.query import EXPORT_FIELDS, query
from storage.write import upsert_article
from tests.helpers import insert_old_schema_article, run_storage

CST = timezone(timedelta(hours=8))
LONG_TITLE = "贵州茅台发布2024年度报告：营收同比增长15.7%，白酒行业龙头地位稳固，机构上调目标价"


def _article(key: str, **values) -> Article:
    return Article(url=f"https://example.com/{key}.html", extractor="test@1", **values)


# Newest published first: D, C, A, B, then the undated E.
ARTICLES = {
    "A": _article(
        "a", site="sina", title=LONG_TITLE, body="贵州茅台公告称，白酒行业需求稳定。\n公司营收增长。",
        published_at=datetime(2025, 6, 1, 0, 30, tzinfo=CST), symbols=["sh600519"], source="证券时报",
        authors=["张三"], editor="李四",
    ),
    "B": _article(
        "b", site="sina", title="A股三大指数集体收涨", body="沪指上涨1.2%，宁德时代领涨创业板。",
        published_at=datetime(2025, 5, 31, 23, 50, tzinfo=CST), symbols=["sz300750"], source="新浪财经",
    ),
    "C": _article(
        "c", site="netease", title="宁德时代发布新一代电池", body="宁德时代（300750）今日发布新一代储能电池，贵州茅台股价持平。",
        published_at=datetime(2025, 6, 2, 9, 0, tzinfo=CST), symbols=["sz300750", "sh600519"], source="第一财经",
        authors=["王五", "赵六"], editor="钱七",
    ),
    "D": _article(
        "d", site="netease", title="央行开展逆回购操作", body="央行今日开展1000亿元7天期逆回购操作。",
        published_at=datetime(2025, 6, 3, 23, 59, 59, tzinfo=CST),
    ),
    "E": _article(
        "e", site="sina", title="无日期快讯：港股午间收盘", body="恒生指数午间收跌。", source="新浪财经", authors=["张三"],
    ),
}  # fmt: skip
TITLES = {article.title: key for key, article in ARTICLES.items()}


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _store(engine, *articles: Article) -> None:
    with session_factory(engine).begin() as session:
        for article in articles:
            upsert_article(session, article, datetime(2025, 6, 4, tzinfo=timezone.utc))


@pytest.fixture
def stored(engine):
    _store(engine, *ARTICLES.values())
    return engine


def keys(records: list[dict]) -> list[str]:
    return [TITLES.get(record["title"], record["title"]) for record in records]


# --- query -------------------------------------------------------------------------------------------------------


def test_query_lists_newest_published_first_undated_last(stored):
    records = query(stored)
    assert keys(records) == ["D", "C", "A", "B", "E"]
    assert list(records[0]) == list(EXPORT_FIELDS)
    assert records[2]["published_at"] == "2025-06-01T00:30:00+08:00"
    assert records[2]["symbols"] == ["sh600519"] and records[2]["authors"] == ["张三"]


def test_query_limit(stored):
    assert keys(query(stored, limit=2)) == ["D", "C"]
    assert keys(query(stored, limit=1, site="sina")) == ["A"]
    with pytest.raises(ValueError, match="limit"):
        query(stored, limit=0)


def test_query_by_site(stored):
    assert keys(query(stored, site="netease")) == ["D", "C"]
    assert keys(query(stored, site="sina")) == ["A", "B", "E"]
    assert query(stored, site="qq") == []


def test_query_by_china_time_days(stored):
    # 2025-06-01 00:30+08:00 is 2025-05-31 16:30 UTC, and belongs to 2025-06-01.
    assert keys(query(stored, since=date(2025, 6, 1), until=date(2025, 6, 1))) == ["A"]
    assert keys(query(stored, until=date(2025, 5, 31))) == ["B"]
    assert keys(query(stored, since=date(2025, 6, 3))) == ["D"]  # 23:59:59 is still that day
    assert keys(query(stored, since=date(2025, 6, 1), until=date(2025, 6, 3))) == ["D", "C", "A"]
    assert query(stored, since=date(2025, 6, 4)) == []


def test_query_by_aware_instants(stored):
    instant = datetime(2025, 5, 31, 16, 30, tzinfo=timezone.utc)  # A's publication, in UTC
    assert keys(query(stored, since=instant)) == ["D", "C", "A"]
    assert keys(query(stored, until=instant)) == ["A", "B"]
    assert keys(query(stored, since=instant, until=instant + timedelta(hours=1))) == ["A"]
    with pytest.raises(ValueError, match="naive"):
        query(stored, since=datetime(2025, 6, 1))


def test_query_by_symbol_follows_the_writer(stored):
    assert keys(query(stored, symbol="sz300750")) == ["C", "B"]
    assert keys(query(stored, symbol="sh600519")) == ["C", "A"]
    assert keys(query(stored, symbol="sz300750", site="sina")) == ["B"]
    assert query(stored, symbol="sh000001") == []
    c = ARTICLES["C"]
    _store(stored, Article(**{**c.__dict__, "symbols": ["sh600519"]}))
    assert keys(query(stored, symbol="sz300750")) == ["B"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("茅台", ["C", "A"]),  # 2 characters: LIKE on SQLite; A in title and body, C in body
        ("港股", ["E"]),  # 2 characters, title only
        ("a股", ["B"]),  # 2 characters, ASCII case folded
        ("逆回购", ["D"]),  # 3 characters: the shortest trigram
        ("宁德时代", ["C", "B"]),  # 4: C by title, B by body
        ("白酒行业", ["A"]),  # body only
        ("年度报告", ["A"]),  # title only
        ("宁德时代 电池", ["C"]),  # every word must match
        ("宁德时代\u3000电池", ["C"]),  # a full-width space separates words too
        ("茅台 储能电池", ["C"]),  # a short and a long word together
        ("储能电池 年度报告", []),  # each word matches an article, no article has both
        ("1.2%", ["B"]),
        ("%", ["A", "B"]),  # a literal percent sign, not a wildcard
        ("_", []),
        ('逆回"购', []),  # a quote inside a word is not FTS5 syntax
        ("不存在的词", []),
    ],
)
def test_query_search_chinese_terms(stored, search, expected):
    assert keys(query(stored, search=search)) == expected


def test_search_combines_with_other_filters(stored):
    assert keys(query(stored, search="宁德时代", site="sina")) == ["B"]
    assert keys(query(stored, search="贵州茅台", symbol="sh600519", until=date(2025, 6, 1))) == ["A"]
    assert keys(query(stored, search="   ")) == ["D", "C", "A", "B", "E"]  # no words, no filter


def test_search_follows_updates_and_deletes(stored):
    d = ARTICLES["D"]
    _store(stored, Article(**{**d.__dict__, "body": "央行今日开展中期借贷便利操作。"}))
    assert query(stored, search="7天期逆回购") == []  # was only in the old body
    assert keys(query(stored, search="中期借贷便利")) == ["D"]
    assert keys(query(stored, search="逆回购")) == ["D"]  # still in the title
    with session_factory(stored).begin() as session:  # the newest row: SQLite hands its id to the next insert
        session.execute(delete(StoredArticle).where(StoredArticle.url == ARTICLES["E"].url))
    _store(stored, _article("f", site="qq", title="债券市场周报", body="国债收益率小幅下行。"))
    assert query(stored, search="港股午间") == []
    assert [r["title"] for r in query(stored, search="国债收益率")] == ["债券市场周报"]


def _downgrade(engine, revision: str) -> None:
    downgrade(engine, revision)


def test_search_needs_revision_0003_and_it_downgrades_and_rebuilds(stored, database_url):
    _downgrade(stored, "0002")
    assert current_revision(stored) == "0002"
    # a row written at revision 0002 (in SQL: today's models have later columns): no search trigger left behind
    insert_old_schema_article(stored, "https://example.com/f.html", site="qq", title="债券市场周报", body="国债收益率小幅下行。")
    with pytest.raises(SearchUnavailable, match="python -m storage upgrade"):
        query(stored, search="逆回购")
    result = run_storage("query", "--database-url", database_url, "--search", "逆回购")
    assert result.returncode == 1 and "python -m storage upgrade" in result.stderr
    upgrade(stored)
    assert [r["title"] for r in query(stored, search="国债收益率")] == ["债券市场周报"]  # rows from before indexed
    assert keys(query(stored, search="宁德时代")) == ["C", "B"]


# --- PostgreSQL without pg_trgm ----------------------------------------------------------------------------------


@pytest.fixture
def unprivileged_url(postgres_url):
    """postgres_url for a new role that may create tables in it but not extensions."""
    import psycopg

    role = f"caixun_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
        try:
            yield postgres_url.replace("postgres@", f"{role}@", 1)
        finally:
            admin.execute(f'DROP OWNED BY "{role}" CASCADE')
            admin.execute(f'DROP ROLE "{role}"')


def test_postgresql_without_pg_trgm_says_what_to_ask_the_dba(unprivileged_url, postgres_url):
    import psycopg

    engine = make_engine(unprivileged_url, create=False)
    try:
        upgrade(engine, "0002")
        with pytest.raises(SearchUnavailable, match=r"ask the DBA to run\s+CREATE EXTENSION pg_trgm"):
            upgrade(engine)
        assert current_revision(engine) == "0002"  # nothing half done
        with pytest.raises(SearchUnavailable, match="CREATE EXTENSION pg_trgm"):
            query(engine, search="逆回购")
        result = run_storage("upgrade", "--database-url", unprivileged_url)
        assert result.returncode == 1 and "ask the DBA" in result.stderr and "Traceback" not in result.stderr
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # what the DBA does
            admin.execute("CREATE EXTENSION pg_trgm")
        assert upgrade(engine) == ("0002", head_revision())
        assert query(engine, search="逆回购") == []
    finally:
        engine.dispose()


# --- stats -------------------------------------------------------------------------------------------------------


def _record_runs(engine) -> None:
    older = CrawlRun(
        spider="news", arguments={}, stats={}, started_at=datetime(2025, 6, 2, tzinfo=timezone.utc),
        finished_at=datetime(2025, 6, 2, 1, tzinfo=timezone.utc), finish_reason="finished", exit_status=0,
    )  # fmt: skip
    latest = CrawlRun(
        spider="sina_finance", arguments={"site": "sina"}, stats={},
        started_at=datetime(2025, 6, 3, 22, tzinfo=timezone.utc), finish_reason="shutdown", exit_status=1,
    )  # fmt: skip
    with session_factory(engine).begin() as session:
        session.add_all([latest, older])  # inserted out of order: the latest start wins, not the latest row


def test_stats_counts_per_site_and_china_day(stored):
    summary = stats(stored, days=3, today=date(2025, 6, 3))
    assert summary["articles"] == 5
    assert summary["per_site"] == {"netease": 2, "sina": 3}
    assert summary["days"] == {"first": "2025-06-01", "last": "2025-06-03"}
    assert summary["per_day"] == {
        "2025-06-03": {"netease": 1},  # D, 23:59:59 China time
        "2025-06-02": {"netease": 1},
        "2025-06-01": {"sina": 1},  # A, 00:30 China time, still 05-31 in UTC
    }
    wider = stats(stored, days=5, today=date(2025, 6, 4))
    assert list(wider["per_day"]) == ["2025-06-04", "2025-06-03", "2025-06-02", "2025-06-01", "2025-05-31"]
    assert wider["per_day"]["2025-06-04"] == {} and wider["per_day"]["2025-05-31"] == {"sina": 1}


def test_stats_last_run_and_field_coverage(stored):
    assert stats(stored)["last_run"] is None
    _record_runs(stored)
    summary = stats(stored, today=date(2025, 6, 3))
    assert summary["last_run"] == {
        "spider": "sina_finance", "started_at": "2025-06-03T22:00:00+00:00", "finished_at": None,
        "finish_reason": "shutdown", "exit_status": 1,
    }  # fmt: skip
    assert summary["coverage"] == {
        "netease": {"articles": 2, "title": 1.0, "body": 1.0, "published_at": 1.0, "source": 0.5, "editor": 0.5,
                    "authors": 0.5},
        "sina": {"articles": 3, "title": 1.0, "body": 1.0, "published_at": 0.667, "source": 1.0, "editor": 0.333,
                 "authors": 0.667},
    }  # fmt: skip


def test_stats_of_an_empty_store(engine):
    summary = stats(engine, days=2, today=date(2025, 6, 3))
    assert summary == {
        "articles": 0, "per_site": {}, "days": {"first": "2025-06-02", "last": "2025-06-03"},
        "per_day": {"2025-06-03": {}, "2025-06-02": {}}, "last_run": None, "coverage": {},
    }  # fmt: skip


# --- the command line --------------------------------------------------------------------------------------------


def test_cli_query_table(stored, database_url, monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    result = run_storage("query", "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["published_at", "site", "title", "source"]
    assert lines[-1] == "(5 articles)"
    rows = lines[2:-1]
    assert [row[:16] for row in rows] == [
        "2025-06-03 23:59", "2025-06-02 09:00", "2025-06-01 00:30", "2025-05-31 23:50", "-".ljust(16)
    ]  # fmt: skip
    assert all(display_width(line) <= 72 for line in lines)
    title_column = lines[0].index("title")
    for row, key in zip(rows, ["D", "C", "A", "B", "E"]):
        start = row.index(ARTICLES[key].title[:4])
        assert display_width(row[:start]) == title_column, row
    a = rows[2]
    assert a.split()[2] == "sina" and a.rstrip().endswith("证券时报")
    assert "贵州茅台发布2024年度报告" in a and "…" in a and LONG_TITLE not in a
    assert "央行开展逆回购操作" in rows[0] and "…" not in rows[0]


def test_cli_query_jsonl_matches_the_api(stored, database_url):
    result = run_storage("query", "--database-url", database_url, "--site", "sina", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == query(stored, site="sina")


def test_cli_query_filters(stored, database_url):
    def run(*args: str) -> list[str]:
        result = run_storage("query", "--database-url", database_url, "--format", "jsonl", *args)
        assert result.returncode == 0, result.stderr
        return keys([json.loads(line) for line in result.stdout.splitlines()])

    assert run("--since", "2025-06-01", "--until", "2025-06-01") == ["A"]
    assert run("--until", "2025-05-31") == ["B"]
    assert run("--symbol", "sz300750") == ["C", "B"]
    assert run("--search", "宁德时代 电池") == ["C"]
    assert run("--limit", "1") == ["D"]


def test_cli_query_csv(stored, database_url):
    result = run_storage("query", "--database-url", database_url, "--search", "茅台", "--format", "csv")
    assert result.returncode == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout, newline=""))
    rows = list(reader)
    assert reader.fieldnames == list(EXPORT_FIELDS)
    assert [TITLES[row["title"]] for row in rows] == ["C", "A"]
    assert rows[1]["body"] == ARTICLES["A"].body  # the newline survives quoting
    assert json.loads(rows[0]["symbols"]) == ["sz300750", "sh600519"]
    assert json.loads(rows[0]["authors"]) == ["王五", "赵六"]
    assert rows[0]["editor"] == "钱七" and rows[0]["published_at"] == "2025-06-02T09:00:00+08:00"


def test_cli_stats(stored, database_url):
    _record_runs(stored)
    result = run_storage("stats", "--database-url", database_url, "--format", "json", "--days", "3")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["per_site"] == {"netease": 2, "sina": 3} and len(summary["per_day"]) == 3
    assert summary["last_run"]["spider"] == "sina_finance"
    assert summary["coverage"]["sina"]["editor"] == 0.333
    table = run_storage("stats", "--database-url", database_url)
    assert table.returncode == 0, table.stderr
    assert "articles: 5" in table.stdout and "last crawl run: sina_finance" in table.stdout
    [netease] = [line.split() for line in table.stdout.splitlines() if line.split()[:3] == ["netease", "2", "100%"]]
    assert netease == ["netease", "2", "100%", "100%", "100%", "50%", "50%", "50%"]


def test_cli_upgrade_creates_an_empty_database(database_url):
    head = head_revision()
    first = run_storage("upgrade", "--database-url", database_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"schema at {head} (was none)"
    again = run_storage("upgrade", "--database-url", database_url)
    assert again.stdout.strip() == f"schema at {head} (was {head})"


def test_cli_upgrade_from_0001_keeps_and_indexes_the_data(database_url):
    engine = make_engine(database_url, create=False)
    upgrade(engine, "0001")
    stamp = datetime(2025, 6, 1, tzinfo=timezone.utc)
    with engine.begin() as connection:  # a row as the first release wrote it
        connection.execute(insert(StoredArticle.__table__).values(
            canonical_url="https://example.com/old.html", url="https://example.com/old.html", site="sina",
            title="旧库里的文章", body="沪深两市成交额突破万亿元。", published_at=stamp, authors=[], images=[],
            symbols=[], warnings=[], extractor="sina/v2017@1", fetched_at=stamp, first_seen_at=stamp, updated_at=stamp,
        ))  # fmt: skip
    engine.dispose()
    result = run_storage("upgrade", "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"schema at {head_revision()} (was 0001)"
    found = run_storage("query", "--database-url", database_url, "--search", "成交额突破", "--format", "jsonl")
    assert found.returncode == 0, found.stderr
    [record] = [json.loads(line) for line in found.stdout.splitlines()]
    assert record["title"] == "旧库里的文章" and record["published_at"] == "2025-06-01T08:00:00+08:00"


@pytest.mark.parametrize(
    "arguments",
    [
        ("query", "--since", "2025-13-01"),
        ("query", "--since", "2025/06/01"),
        ("query", "--until", "yesterday"),
        ("query", "--until", "20250601"),
        ("query", "--since", "2025-06-02", "--until", "2025-06-01"),
        ("query", "--limit", "0"),
        ("query", "--format", "xml"),
        ("stats", "--format", "csv"),
        ("stats", "--days", "many"),
    ],
)
def test_cli_bad_input_exits_2(database_url, arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:  # in-process: argparse's own exit
        cli_main([*arguments, "--database-url", database_url])
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2, stderr
    assert "error:" in stderr
    if "--since" in arguments or "--until" in arguments:
        assert "YYYY-MM-DD" in stderr or "is after --until" in stderr


def test_cli_bad_date_exits_2_as_a_process(database_url):
    result = run_storage("query", "--database-url", database_url, "--since", "2025-06-31")
    assert result.returncode == 2
    assert "argument --since: expected a date as YYYY-MM-DD, got '2025-06-31'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url", ["sqlite:////proc/caixun/store.db", "postgresql://caixun:secret@127.0.0.1:1/none"]
)
@pytest.mark.parametrize("command_name", ["query", "stats", "upgrade"])
def test_cli_unreachable_database_exits_1_with_the_password_masked(url, command_name):
    result = run_storage(command_name, "--database-url", url)
    assert result.returncode == 1, result.stderr
    # readers never create a SQLite file: a missing one is named; upgrade cannot make /proc/caixun
    missing = url.startswith("sqlite") and command_name != "upgrade"
    expected = "no database at /proc/caixun/store.db" if missing else "cannot use the database"
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert "secret" not in result.stderr
