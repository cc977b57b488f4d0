"""The readers' API and export on real SQLite and PostgreSQL (issue 23, items 5 and 6): site names checked against
the rules and the store, bare A-share symbols, since/until as dates, datetimes or ISO strings, limit=None,
id/duplicate_of/first_seen_at in every output, export --since/--until/--bom, and JSON columns holding characters
(revision 0012 rewrites older rows, and back).

Articles go in through the one writer (storage.write.upsert_article); expected values come from the articles
written here and from the database read with its own driver, not from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from extractors import Article
from storage import make_engine, session_factory
from storage.db import resolve_database_url
from storage.migrate import downgrade, upgrade
from storage.query import BadSymbol, UnknownSite, frame, iter_articles, query
from storage.write import upsert_article
from tests.helpers import PROJECT_DIR, insert_old_schema_article, run_storage

CST = timezone(timedelta(hours=8))
FETCHED = datetime(2025, 6, 4, 8, 0, tzinfo=timezone.utc)
LATER = datetime(2025, 6, 5, 9, 30, tzinfo=timezone.utc)
SHARED_BODY = "贵州茅台今日发布公告称，公司二〇二四年度实现营业收入同比增长百分之十五点七，白酒行业龙头地位稳固，多家机构上调目标价。"
KNOWN_RULES = ("eastmoney", "netease", "qq", "sina", "yicai")  # some of extractors/sites/, written out by hand


def _article(key: str, **values) -> Article:
    return Article(url=f"https://example.com/{key}.html", extractor="test@1", **values)


# Newest published first: C, A, D, B; E undated. D repeats A's body: a duplicate of A.
ARTICLES = {
    "A": _article("a", site="sina", title="贵州茅台年报", body=SHARED_BODY, authors=["栾某"], symbols=["sh600519"],
                  published_at=datetime(2025, 6, 2, 10, 0, tzinfo=CST)),
    "B": _article("b", site="sina", title="深市快讯", body="深证成指收涨。", symbols=["sz600519"],
                  published_at=datetime(2019, 1, 1, 9, 0, tzinfo=CST)),
    "C": _article("c", site="netease", title="两市同名代码", body="沪深两市均有提及。", symbols=["sh600519", "sz600519"],
                  published_at=datetime(2025, 6, 3, 8, 0, tzinfo=CST)),
    "D": _article("d", site="oldsite", title="转载：贵州茅台年报", body=SHARED_BODY, authors=["张三"],
                  published_at=datetime(2019, 1, 2, 23, 59, tzinfo=CST)),
    "E": _article("e", site="generic", title="无日期快讯", body="恒生指数午间收跌。"),
}  # fmt: skip
TITLES = {article.title: key for key, article in ARTICLES.items()}


def keys(records) -> list[str]:
    return [TITLES[record["title"]] for record in records]


@pytest.fixture
def stored(database_url):
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        for key, article in ARTICLES.items():
            upsert_article(session, article, LATER if key == "D" else FETCHED)
    yield engine
    engine.dispose()


def _raw(database_url: str, sql: str, parameters: dict | None = None) -> list[tuple]:
    """Rows read past storage: sqlite3 on the file, or a plain SQLAlchemy engine (no serializer) on PostgreSQL."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            return connection.execute(sql.replace("::text", ""), parameters or {}).fetchall()
    engine = create_engine(resolve_database_url(database_url))
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql), parameters or {})]
    engine.dispose()
    return rows


def _ids(database_url: str) -> dict[str, int]:
    by_url = {article.url: key for key, article in ARTICLES.items()}
    return {by_url[url]: id_ for url, id_ in _raw(database_url, "SELECT url, id FROM articles")}


def _run(*args: str, cwd=PROJECT_DIR) -> subprocess.CompletedProcess:
    """python -m storage, its output as bytes (a BOM is a byte matter)."""
    return subprocess.run([sys.executable, "-m", "storage", *args], cwd=cwd, capture_output=True, timeout=120)


# --- since / until / limit -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (date(2025, 6, 2), None, ["C", "A"]),
        ("2025-06-02", None, ["C", "A"]),
        (None, "2019-01-02", ["D", "B"]),  # the whole China-time day: 23:59 included
        ("2019-01-01", date(2019, 1, 1), ["B"]),
        (datetime(2025, 6, 2, 2, 0, tzinfo=timezone.utc), None, ["C", "A"]),  # A at 02:00 UTC: inclusive
        ("2025-06-02T10:00:01+08:00", None, ["C"]),
        (None, "2025-06-02T10:00:00+08:00", ["A", "D", "B"]),
        ("2000-01-01", None, ["C", "A", "D", "B"]),  # a bound leaves the undated E out
    ],
)
def test_since_and_until_take_dates_datetimes_and_iso_strings(stored, since, until, expected):
    assert keys(query(stored, since=since, until=until)) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2019-02-30", "since='2019-02-30' is not a date or a time"),
        ("yesterday", "since='yesterday' is not a date or a time"),
        (20190101, "since=20190101 (of type int) is not a date or a time"),
        (1.5, "(of type float) is not a date or a time"),
        ("2019-01-01T08:00", "is a naive datetime: give it a time zone"),
        ("1800-01-01", "out of range"),
    ],
)
def test_a_bound_that_is_not_a_date_is_a_clear_value_error(stored, value, message):
    with pytest.raises(ValueError) as raised:
        query(stored, since=value)
    assert type(raised.value) is not TypeError and message in str(raised.value)
    if "not a date" in message:
        assert "'2019-01-01'" in str(raised.value)  # says how to write one


def test_limit_none_gives_every_article_and_the_default_is_100(database_url):
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        for n in range(130):
            upsert_article(session, _article(f"n{n}", site="sina", title=f"第{n}篇", body=f"正文{n}",
                                             published_at=datetime(2024, 1, 1, tzinfo=CST) + timedelta(hours=n)))
    assert len(query(engine)) == 100
    every = query(engine, limit=None)
    assert len(every) == 130 and every[0]["title"] == "第129篇" and every[-1]["title"] == "第0篇"
    assert len(query(engine, search="正文", limit=None)) == 130
    for bad in (0, "10", 2.0, True):
        with pytest.raises(ValueError, match="or None for every article"):
            query(engine, limit=bad)
    engine.dispose()


def test_storage_query_frame_from_another_folder(stored, database_url, tmp_path):
    """The done-when of issue 23: storage.query.frame(engine, since="2000-01-01", limit=None) from any folder;
    importing storage.query does not import pandas, asking for frame does."""
    code = (
        "import sys\nimport storage.query\nfrom storage import make_engine\n"
        "assert 'pandas' not in sys.modules\n"
        f"df = storage.query.frame(make_engine({database_url!r}), since='2000-01-01', limit=None)\n"
        "print(len(df), 'pandas' in sys.modules, list(df['title']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    count, pandas_loaded, titles = result.stdout.split(" ", 2)
    assert (count, pandas_loaded) == ("4", "True")
    assert keys({"title": t} for t in eval(titles)) == ["C", "A", "D", "B"]


# --- id, duplicate_of, first_seen_at ------------------------------------------------------------------------------


def test_export_query_and_frame_carry_id_duplicate_of_and_first_seen_at(stored, database_url):
    ids = _ids(database_url)
    result = run_storage("export", "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    exported = {TITLES[r["title"]]: r for r in map(json.loads, result.stdout.splitlines())}
    assert {key: r["id"] for key, r in exported.items()} == ids
    assert exported["D"]["duplicate_of"] == ids["A"]  # the same body, stored later
    assert all(exported[key]["duplicate_of"] is None for key in "ABCE")
    assert exported["D"]["first_seen_at"] == "2025-06-05T09:30:00+00:00"
    assert exported["A"]["first_seen_at"] == "2025-06-04T08:00:00+00:00"

    assert {TITLES[r["title"]]: (r["id"], r["duplicate_of"]) for r in query(stored, limit=None)} == {
        key: (ids[key], ids["A"] if key == "D" else None) for key in ARTICLES
    }
    df = frame(stored, limit=None)
    df.index = keys(df.to_dict("records"))
    assert df.loc["D", "duplicate_of"] == ids["A"] and df.loc["A", "duplicate_of"] is pd.NA
    assert df.loc["B", "id"] == ids["B"] and str(df["id"].dtype) == "Int64"
    assert df.loc["D", "first_seen_at"] == LATER and str(df["first_seen_at"].dtype.tz) == "UTC"


def test_parquet_and_csv_exports_carry_them_too(stored, database_url, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = _ids(database_url)
    out = tmp_path / "articles.parquet"
    assert _run("export", "--database-url", database_url, "--format", "parquet", "--out", str(out)).returncode == 0
    table = pq.read_table(out)
    assert table.schema.field("id").type == pa.int64() and not table.schema.field("id").nullable
    assert table.schema.field("first_seen_at").type == pa.timestamp("us", tz="UTC")
    rows = {TITLES[row["title"]]: row for row in table.to_pylist()}
    assert {key: row["id"] for key, row in rows.items()} == ids
    assert rows["D"]["duplicate_of"] == ids["A"] and rows["C"]["duplicate_of"] is None
    assert rows["D"]["first_seen_at"] == LATER

    result = _run("export", "--database-url", database_url, "--format", "csv")
    rows = {TITLES[row["title"]]: row for row in csv.DictReader(io.StringIO(result.stdout.decode("utf-8")))}
    assert rows["D"]["duplicate_of"] == str(ids["A"]) and rows["A"]["duplicate_of"] == ""
    assert rows["E"]["id"] == str(ids["E"]) and rows["E"]["first_seen_at"] == "2025-06-04T08:00:00+00:00"


# --- export --since / --until / --bom -----------------------------------------------------------------------------


def test_export_since_and_until(stored, database_url):
    def exported(*args: str) -> list[str]:
        result = run_storage("export", "--database-url", database_url, *args)
        assert result.returncode == 0, result.stderr
        return keys(json.loads(line) for line in result.stdout.splitlines())

    assert exported("--since", "2025-06-01") == ["A", "C"]  # oldest published first
    assert exported("--until", "2019-01-02") == ["B", "D"]
    assert exported("--since", "2019-01-02", "--until", "2025-06-02") == ["D", "A"]
    assert exported("--since", "2019-01-01", "--site", "sina") == ["B", "A"]
    assert sorted(exported()) == sorted(ARTICLES)  # no bound: every article, the undated one too
    result = run_storage("export", "--database-url", database_url, "--since", "2025-06-03", "--until", "2025-06-01")
    assert result.returncode == 2 and "is after --until" in result.stderr


def test_iter_articles_takes_the_bounds_in_batches(stored):
    assert keys(iter_articles(stored, since="2019-01-01", batch_size=1)) == ["B", "D", "A", "C"]
    assert keys(iter_articles(stored, until=date(2025, 6, 2), batch_size=2)) == ["B", "D", "A"]
    with pytest.raises(ValueError, match="not a date"):
        list(iter_articles(stored, since="soon"))


def test_csv_bom(stored, database_url, tmp_path):
    plain = _run("export", "--database-url", database_url, "--format", "csv")
    marked = _run("export", "--database-url", database_url, "--format", "csv", "--bom")
    assert plain.returncode == marked.returncode == 0
    assert marked.stdout[:3] == b"\xef\xbb\xbf" and plain.stdout[:3] != b"\xef\xbb\xbf"
    assert marked.stdout[3:] == plain.stdout
    rows = list(csv.DictReader(io.StringIO(marked.stdout.decode("utf-8-sig"))))
    assert sorted(keys(rows)) == sorted(ARTICLES) and rows[0]["url"].startswith("https://example.com/")
    out = tmp_path / "articles.csv"
    assert _run("export", "--database-url", database_url, "--format", "csv", "--bom", "--out", str(out)).returncode == 0
    assert out.read_bytes() == marked.stdout
    for format_ in ("jsonl", "parquet"):
        refused = _run("export", "--database-url", database_url, "--format", format_, "--bom", "--out", str(out) + ".x")
        assert refused.returncode == 2 and b"--bom is for --format csv" in refused.stderr
        assert not (tmp_path / "articles.csv.x").exists()


# --- sites and symbols --------------------------------------------------------------------------------------------


def test_an_unknown_site_is_a_value_error_listing_the_known_ones(stored):
    with pytest.raises(UnknownSite) as raised:
        query(stored, site="sinaa")
    message = str(raised.value)
    assert isinstance(raised.value, ValueError) and "unknown site 'sinaa' (did you mean sina?)" in message
    known = message.split("known sites: ")[1].split(", ")
    assert set(KNOWN_RULES) | {"generic", "oldsite"} <= set(known) and known == sorted(known)
    assert keys(query(stored, site="oldsite")) == ["D"]  # no rule names it, the store has it: fine
    assert keys(query(stored, site="generic")) == ["E"]
    assert query(stored, site="yicai") == []  # a rule's site with nothing stored yet
    with pytest.raises(UnknownSite):
        list(iter_articles(stored, site="nosuch"))


@pytest.mark.parametrize(
    "command", [["query"], ["export"], ["export", "--format", "csv", "--out", "OUT"], ["report", "--out", "OUT"]]
)
def test_cli_unknown_site_exits_2_naming_the_known_sites(stored, database_url, command, tmp_path):
    out = tmp_path / "out.file"
    command = [str(out) if part == "OUT" else part for part in command]
    result = run_storage(*command, "--database-url", database_url, "--site", "sinaa")
    assert result.returncode == 2, result.stderr
    assert "argument --site: unknown site 'sinaa' (did you mean sina?); known sites:" in result.stderr
    assert all(name in result.stderr for name in ("sina", "generic", "netease", "oldsite"))
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert not out.exists() and not any(p.name.endswith(".part") for p in tmp_path.iterdir())


@pytest.mark.parametrize("command", [["query"], ["export"]])
def test_cli_unknown_site_without_a_store_is_a_usage_error_too(command, tmp_path):
    missing = f"sqlite:///{tmp_path / 'never-crawled.db'}"
    result = run_storage(*command, "--database-url", missing, "--site", "sinaa")
    assert result.returncode == 2, result.stderr
    assert "argument --site: unknown site 'sinaa' (did you mean sina?); known sites:" in result.stderr
    assert all(name in result.stderr for name in ("sina", "generic", "netease", "thepaper"))
    assert not (tmp_path / "never-crawled.db").exists()
    # a known site on a missing store is still "no database" (exit 1), not a usage error
    known = run_storage(*command, "--database-url", missing, "--site", "sina")
    assert known.returncode == 1 and "no database at" in known.stderr


def test_a_bare_code_finds_every_exchanges_articles(stored):
    assert keys(query(stored, symbol="600519")) == ["C", "A", "B"]  # C has both: once
    assert keys(query(stored, symbol="600519", limit=2)) == ["C", "A"]
    assert keys(query(stored, symbol="600519", since="2019-01-01", until="2019-12-31")) == ["B"]
    assert keys(query(stored, symbol="SH600519")) == ["C", "A"]
    assert keys(query(stored, symbol="600519.SZ")) == ["C", "B"]
    assert keys(query(stored, symbol="600519", search="贵州茅台")) == ["A"]
    assert keys(query(stored, symbol="600519", search="快讯 -两市")) == ["B"]
    assert query(stored, symbol="000001") == []
    with pytest.raises(BadSymbol, match="e.g. sh600519") as raised:
        query(stored, symbol="Moutai")
    assert isinstance(raised.value, ValueError)


def test_cli_symbol(stored, database_url):
    result = run_storage("query", "--database-url", database_url, "--symbol", "600519", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert keys(found) == ["C", "A", "B"] and "sh600519" in found[1]["symbols"]
    refused = run_storage("query", "--database-url", database_url, "--symbol", "茅台")
    assert refused.returncode == 2 and "argument --symbol:" in refused.stderr and "sh600519" in refused.stderr


# --- JSON columns hold characters ---------------------------------------------------------------------------------


def test_json_columns_hold_characters(stored, database_url):
    url = ARTICLES["A"].url
    assert _raw(database_url, "SELECT authors::text, symbols::text FROM articles WHERE url = :url", {"url": url}) == [
        ('["栾某"]', '["sh600519"]')
    ]
    found = _raw(database_url, "SELECT url FROM articles WHERE authors::text LIKE '%栾%'")
    assert found == [(url,)]


def test_a_lone_surrogate_keeps_its_escape():
    """No database stores a lone surrogate as UTF-8: such a value is written escaped, as before, not refused."""
    from storage.jsontext import dumps

    assert dumps(["栾某", "\ud800"]) == '["\\u683e\\u67d0", "\\ud800"]'
    assert dumps({"站点": "新浪"}) == '{"站点": "新浪"}'


def _old_json(engine) -> None:
    """At revision 0011, an article and a crawl run with JSON as SQLAlchemy's json.dumps wrote it (escaped)."""
    insert_old_schema_article(engine, "https://example.com/old.html")
    a, i, s = (f"CAST(:{n} AS json)" if engine.dialect.name == "postgresql" else f":{n}" for n in "ais")
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE articles SET authors = {a}, images = {i}, symbols = {s}"),
            {"a": json.dumps(["栾某", "Li"]), "i": json.dumps([{"src": "https://img/1.jpg", "caption": "茅台酒厂"}]),
             "s": json.dumps(["sh600519"])},
        )  # fmt: skip
        connection.execute(
            text(f"INSERT INTO crawl_runs (spider, arguments, started_at, stats) VALUES ('news', {a}, :t, {s})"),
            {"a": json.dumps({"site": "新浪"}), "s": json.dumps({"站点": 2, "ascii": "x"}), "t": datetime(2026, 1, 1)},
        )  # fmt: skip


def test_0012_rewrites_escaped_json_with_characters_and_back(database_url):
    engine = create_engine(resolve_database_url(database_url))  # no json_serializer: the old code's engine
    upgrade(engine, "0011")
    _old_json(engine)
    articles = "SELECT authors::text, images::text, symbols::text FROM articles"
    runs = "SELECT arguments::text, stats::text FROM crawl_runs"
    escaped_article = [(
        '["\\u683e\\u67d0", "Li"]',
        '[{"src": "https://img/1.jpg", "caption": "\\u8305\\u53f0\\u9152\\u5382"}]',
        '["sh600519"]',
    )]  # fmt: skip
    escaped_run = [('{"site": "\\u65b0\\u6d6a"}', '{"\\u7ad9\\u70b9": 2, "ascii": "x"}')]
    assert _raw(database_url, articles) == escaped_article
    assert _raw(database_url, runs) == escaped_run
    assert _raw(database_url, "SELECT count(*) FROM articles WHERE authors::text LIKE '%栾%'") == [(0,)]

    upgrade(engine, "0012")
    assert _raw(database_url, articles) == [
        ('["栾某", "Li"]', '[{"src": "https://img/1.jpg", "caption": "茅台酒厂"}]', '["sh600519"]')
    ]
    assert _raw(database_url, runs) == [('{"site": "新浪"}', '{"站点": 2, "ascii": "x"}')]  # keys keep their order
    assert _raw(database_url, "SELECT count(*) FROM articles WHERE authors::text LIKE '%栾%'") == [(1,)]
    upgrade(engine)
    assert query(make_engine(database_url))[0]["authors"] == ["栾某", "Li"]

    downgrade(engine, "0011")
    assert _raw(database_url, articles) == escaped_article  # as json.dumps wrote it, byte for byte
    assert _raw(database_url, runs) == escaped_run
    engine.dispose()
