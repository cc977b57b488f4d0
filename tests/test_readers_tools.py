"""The readers' tools on real SQLite and PostgreSQL: storage.frames.frame (pandas) and the export's formats.

Articles go in through the one writer (storage.write.upsert_article) and a removal through
storage.crawlstate.mark_removed; every test that touches a database runs on both (the PostgreSQL one
skips or fails as tests/conftest.py says). Expected values come from the articles written here, not from
the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import resource
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extractors import Article, Image
from storage import make_engine, session_factory
from storage.cli import main as cli_main
from storage.crawlstate import mark_removed
from storage.export import parquet_schema, write_parquet
from storage.frames import frame
from storage.query import EXPORT_FIELDS, iter_articles, query
from storage.write import upsert_article
from tests.helpers import PROJECT_DIR, run_storage

CST = timezone(timedelta(hours=8))
FETCHED = datetime(2025, 6, 4, 8, 0, tzinfo=timezone.utc)
REMOVED = datetime(2025, 6, 5, 1, 2, 3, tzinfo=timezone.utc)


def _article(key: str, **values) -> Article:
    return Article(url=f"https://example.com/{key}.html", extractor="test@1", **values)


# Newest published first: D, C, A, B, then the undated E.
ARTICLES = {
    "A": _article(
        "a", site="sina", title="贵州茅台发布年报", body="贵州茅台公告称，白酒行业需求稳定。\n公司营收增长。",
        published_at=datetime(2025, 6, 1, 0, 30, tzinfo=CST), symbols=["sh600519"], source="证券时报",
        authors=["张三"], editor="李四", images=[Image("https://img.example.com/a.jpg", "茅台酒厂")],
    ),
    "B": _article(
        "b", site="sina", title="A股三大指数集体收涨", body="沪指上涨1.2%，宁德时代领涨创业板。",
        published_at=datetime(2025, 5, 31, 23, 50, tzinfo=CST), symbols=["sz300750"], source="新浪财经",
        images=[Image("https://img.example.com/b1.jpg"), Image("https://img.example.com/b2.jpg", "指数")],
    ),
    "C": _article(
        "c", site="netease", title="宁德时代发布新一代电池", body="宁德时代（300750）今日发布新一代储能电池。",
        published_at=datetime(2025, 6, 2, 9, 0, tzinfo=CST), symbols=["sz300750", "sh600519"], source="第一财经",
        authors=["王五", "赵六"], editor="钱七",
    ),
    "D": _article(
        "d", site="netease", title="央行开展逆回购操作", body="央行今日开展1000亿元7天期逆回购操作。",
        published_at=datetime(2025, 6, 3, 23, 59, 59, tzinfo=CST),
    ),
    "E": _article("e", site="sina", title="无日期快讯：港股午间收盘", body="恒生指数午间收跌。", authors=["张三"]),
}  # fmt: skip
TITLES = {article.title: key for key, article in ARTICLES.items()}
REMOVED_KEY, REMOVED_STATUS = "D", 410


@pytest.fixture
def stored(database_url):
    """The five articles, D marked removed (410), in a fresh database."""
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        for article in ARTICLES.values():
            upsert_article(session, article, FETCHED)
    with session_factory(engine).begin() as session:
        assert mark_removed(session, ARTICLES[REMOVED_KEY].url, status=REMOVED_STATUS, at=REMOVED) is not None
    yield engine
    engine.dispose()


def keys(titles) -> list[str]:
    return [TITLES[title] for title in titles]


def _export(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return run_storage("export", "--database-url", database_url, *args)


def _files(folder: Path) -> set[str]:
    """The names in the folder, less the SQLite store's (store.db, -wal, -shm)."""
    return {path.name for path in folder.iterdir() if not path.name.startswith("store.db")}


def _jsonl_export(database_url: str) -> list[dict]:
    result = _export(database_url, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- frame -------------------------------------------------------------------------------------------------------


def test_frame_has_the_promised_dtypes(stored):
    df = frame(stored)
    assert list(df.columns) == list(EXPORT_FIELDS)
    assert keys(df["title"]) == ["D", "C", "A", "B", "E"]
    published = df["published_at"].dtype
    assert isinstance(published, pd.DatetimeTZDtype) and published.unit == "us"
    assert df["published_at"].iloc[0].utcoffset() == timedelta(hours=8)
    for name in ("fetched_at", "removed_at"):
        assert isinstance(df[name].dtype, pd.DatetimeTZDtype) and df[name].dtype.unit == "us"
        assert str(df[name].dtype.tz) == "UTC"
    assert df["removed_status"].dtype == "Int64"
    for name in ("url", "canonical_url", "title", "body", "site", "source", "editor", "extractor", "language"):
        assert df[name].dtype == pd.StringDtype(), name
    for name in ("authors", "images", "symbols"):
        assert df[name].dtype == object and all(isinstance(value, list) for value in df[name]), name


def test_frame_values_are_the_stored_articles(stored):
    df = frame(stored)
    df.index = pd.Index(keys(df["title"]))
    for key, article in ARTICLES.items():
        row = df.loc[key]
        if article.published_at is None:
            assert row["published_at"] is pd.NaT
        else:
            assert row["published_at"] == article.published_at  # the same instant
            assert row["published_at"].to_pydatetime().replace(tzinfo=None) == article.published_at.replace(tzinfo=None)
        assert row["fetched_at"] == FETCHED and row["fetched_at"].hour == 8  # shown in UTC
        assert row["authors"] == article.authors and row["symbols"] == article.symbols
        assert row["images"] == [{"src": image.src, "caption": image.caption} for image in article.images]
        assert row["body"] == article.body and row["site"] == article.site
        if article.editor:
            assert row["editor"] == article.editor
        else:
            assert row["editor"] is pd.NA
    assert df.loc["D", "removed_at"] == REMOVED and df.loc["D", "removed_status"] == REMOVED_STATUS
    assert df.loc["A", "removed_at"] is pd.NaT and df.loc["A", "removed_status"] is pd.NA
    assert df.loc["A", "published_at"] == pd.Timestamp("2025-05-31 16:30", tz="UTC")


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ({}, ["D", "C", "A", "B", "E"]),
        ({"site": "netease"}, ["D", "C"]),
        ({"site": "sina"}, ["A", "B", "E"]),
        ({"since": date(2025, 6, 1)}, ["D", "C", "A"]),
        ({"since": date(2025, 6, 1), "until": date(2025, 6, 2)}, ["C", "A"]),
        ({"since": datetime(2025, 6, 1, 0, 30, tzinfo=CST)}, ["D", "C", "A"]),
        ({"symbol": "sz300750"}, ["C", "B"]),
        ({"symbol": "sh600519", "site": "sina"}, ["A"]),
        ({"search": "宁德时代"}, ["C", "B"]),
        ({"limit": 2}, ["D", "C"]),
    ],
)
def test_frame_filters_agree_with_query(stored, arguments, expected):
    df = frame(stored, **arguments)
    records = query(stored, **arguments)
    assert keys(df["title"]) == keys(r["title"] for r in records) == expected
    assert [value.isoformat() for value in df["published_at"] if value is not pd.NaT] == [
        r["published_at"] for r in records if r["published_at"]
    ]
    assert df["authors"].tolist() == [r["authors"] for r in records]


def test_frame_of_nothing_keeps_columns_and_dtypes(stored):
    empty, full = frame(stored, site="qq"), frame(stored)
    assert len(empty) == 0 and list(empty.columns) == list(EXPORT_FIELDS)
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()


def test_frame_refuses_what_query_refuses(stored):
    with pytest.raises(ValueError, match="limit"):
        frame(stored, limit=0)
    with pytest.raises(ValueError, match="naive"):
        frame(stored, since=datetime(2025, 6, 1))


# --- the extra stays optional ------------------------------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )


def test_the_crawler_and_storage_import_neither_pandas_nor_pyarrow():
    result = _python(
        "import sys, crawler.pipelines, storage, storage.cli, storage.query, storage.frames, storage.export\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_frame_without_pandas_names_the_requirements_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    make_engine(url).dispose()
    result = _python(  # an interpreter where `import pandas` fails, as where it is not installed
        "import sys; sys.modules['pandas'] = None\n"
        "from storage import make_engine\nfrom storage.extras import MissingExtra\nfrom storage.frames import frame\n"
        f"try:\n    frame(make_engine({url!r}))\n"
        "except MissingExtra as exc:\n    print(type(exc).__mro__[1].__name__, exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ImportError pandas is not installed")
    assert "pip install -r requirements-readers.txt" in result.stdout


def test_parquet_export_without_pyarrow_is_a_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    make_engine(url).dispose()
    out = tmp_path / "articles.parquet"
    result = _python(
        "import sys; sys.modules['pyarrow'] = None\nfrom storage.cli import main\n"
        f"sys.exit(main(['export', '--database-url', {url!r}, '--format', 'parquet', '--out', {str(out)!r}]))"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: pyarrow is not installed") and "requirements-readers.txt" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


# --- export ------------------------------------------------------------------------------------------------------


def _as_json(row: dict) -> dict:
    """A Parquet row as the jsonl export writes it: times as ISO 8601 (China time for published_at)."""
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in row.items()}


def test_parquet_export_round_trips_with_the_jsonl_rows_and_types(stored, database_url, tmp_path):
    out = tmp_path / "articles.parquet"
    result = _export(database_url, "--format", "parquet", "--out", str(out))
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert _files(tmp_path) == {"articles.parquet"}  # and no part file
    table = pq.read_table(out)
    assert table.schema == parquet_schema()
    types = dict(zip(table.schema.names, table.schema.types))
    assert types["published_at"] == pa.timestamp("us", tz="+08:00")
    assert types["fetched_at"] == types["removed_at"] == pa.timestamp("us", tz="UTC")
    assert types["authors"] == types["symbols"] == pa.list_(pa.string())
    assert types["images"] == pa.list_(pa.struct([("src", pa.string()), ("caption", pa.string())]))
    assert types["removed_status"] == pa.int32() and types["title"] == types["body"] == pa.string()

    rows = table.to_pylist()
    jsonl = _jsonl_export(database_url)
    assert [_as_json(row) for row in rows] == jsonl  # same rows, same order, same values
    assert sorted(keys(row["title"] for row in rows)) == sorted(ARTICLES)
    by_key = {TITLES[row["title"]]: row for row in rows}
    assert by_key["A"]["published_at"] == ARTICLES["A"].published_at
    assert by_key["A"]["published_at"].utcoffset() == timedelta(hours=8)
    assert by_key["A"]["images"] == [{"src": "https://img.example.com/a.jpg", "caption": "茅台酒厂"}]
    assert by_key["C"]["authors"] == ["王五", "赵六"] and by_key["E"]["symbols"] == []
    assert by_key["E"]["published_at"] is None
    assert by_key["D"]["removed_at"] == REMOVED and by_key["D"]["removed_status"] == REMOVED_STATUS

    df = pd.read_parquet(out)  # pandas reads it with the frame's kinds of dtypes
    assert isinstance(df["published_at"].dtype, pd.DatetimeTZDtype)
    assert df["published_at"].dropna().iloc[0].utcoffset() == timedelta(hours=8)
    assert df["removed_status"].isna().sum() == 4


def test_parquet_export_of_one_site(stored, database_url, tmp_path):
    out = tmp_path / "netease.parquet"
    assert _export(database_url, "--format", "parquet", "--out", str(out), "--site", "netease").returncode == 0
    assert sorted(keys(pq.read_table(out, columns=["title"]).column("title").to_pylist())) == ["C", "D"]


def test_parquet_is_written_in_batches(stored, tmp_path):
    out = tmp_path / "batches.parquet"
    assert write_parquet(iter_articles(stored, batch_size=2), out, batch_size=2) == 5
    parquet = pq.ParquetFile(out)
    assert parquet.num_row_groups == 3 and parquet.metadata.num_rows == 5
    assert [parquet.metadata.row_group(i).num_rows for i in range(3)] == [2, 2, 1]
    assert sorted(keys(parquet.read().column("title").to_pylist())) == sorted(ARTICLES)


def test_parquet_export_of_an_empty_store_is_a_valid_empty_file(database_url, tmp_path):
    make_engine(database_url).dispose()
    out = tmp_path / "empty.parquet"
    assert _export(database_url, "--format", "parquet", "--out", str(out)).returncode == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema == parquet_schema()


def test_csv_and_jsonl_exports_to_a_file(stored, database_url, tmp_path):
    jsonl = _jsonl_export(database_url)
    out = tmp_path / "articles.jsonl"
    assert _export(database_url, "--out", str(out)).returncode == 0
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == jsonl

    result = _export(database_url, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(EXPORT_FIELDS)
    lists = ("authors", "images", "symbols")
    for row, record in zip(rows, jsonl, strict=True):
        assert {k: json.loads(v) if k in lists else v for k, v in row.items()} == {
            k: "" if v is None else str(v) if k in ("removed_status", "id", "duplicate_of") else v
            for k, v in record.items()
        }
    out = tmp_path / "articles.csv"
    assert _export(database_url, "--format", "csv", "--out", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == result.stdout


def test_parquet_export_needs_out(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli_main(["export", "--database-url", f"sqlite:///{tmp_path / 'store.db'}", "--format", "parquet"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and "needs --out FILE" in err
    assert list(tmp_path.iterdir()) == []  # refused before touching the database


@pytest.mark.parametrize("where", ["no_folder", "file_as_folder", "folder_as_file", "unwritable_folder"])
@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
def test_export_to_an_unwritable_place_is_a_clear_error(stored, database_url, tmp_path, where, kind):
    (tmp_path / "plain.txt").write_text("not a folder", encoding="utf-8")
    (tmp_path / "folder.parquet").mkdir()
    out = {
        "no_folder": tmp_path / "missing" / "articles.parquet",
        "file_as_folder": tmp_path / "plain.txt" / "articles.parquet",
        "folder_as_file": tmp_path / "folder.parquet",
        # /sys takes no new files, even from root (the tests run as root here, where a chmod stops nothing)
        "unwritable_folder": Path("/sys/caixun-export-test.parquet"),
    }[where]
    before = sorted(tmp_path.rglob("*"))
    result = _export(database_url, "--format", kind, "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot write the export to {out}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == "" and sorted(tmp_path.rglob("*")) == before and not Path(out).is_file()


def _limit_file_size() -> None:
    """In the export's process: no file may grow past 2 KiB (Python ignores SIGXFSZ, so a write fails with EFBIG)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
def test_a_failed_write_leaves_the_previous_file_and_no_part(stored, database_url, tmp_path, kind):
    """The export fails after its part file was made (the disk is "full" at 2 KiB): the part is removed."""
    out = tmp_path / f"articles.{kind}"
    out.write_bytes(b"the previous export")
    result = subprocess.run(
        [sys.executable, "-m", "storage", "export", "--database-url", database_url, "--format", kind, "--out", str(out)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot write the export to {out}: File too large")
    assert out.read_bytes() == b"the previous export"
    assert _files(tmp_path) == {out.name}
