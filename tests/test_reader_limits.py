"""Readers' input limits, on real SQLite and PostgreSQL: search size, date range, --limit, stats --days.

Each limit answers before the database is touched: the API with a ValueError naming it, the CLI
(a real `python -m storage` process) with exit 2 and a usage message naming it.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from extractors import Article
from storage import make_engine, session_factory, stats
from storage.query import (
    FIRST_DAY,
    LAST_DAY,
    MAX_LIMIT,
    MAX_SEARCH_TERMS,
    MAX_STATS_DAYS,
    MAX_TERM_LENGTH,
    BadSearch,
    DateOutOfRange,
    day_start,
    query,
)
from storage.write import upsert_article
from tests.helpers import run_storage

CST = timezone(timedelta(hours=8))
TEN_THOUSAND_WORDS = " ".join(f"词{n}" for n in range(10_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        for n, day in enumerate((FIRST_DAY, date(2025, 6, 1), LAST_DAY)):
            article = Article(
                url=f"https://example.com/{n}.html", extractor="test@1", site="sina", title=f"宁德时代 第{n}篇",
                body="储能电池", published_at=datetime.combine(day, datetime.min.time(), CST) + timedelta(hours=12),
            )  # fmt: skip
            upsert_article(session, article)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url, create=False)
    yield engine
    engine.dispose()


def _usage_error(*arguments: str) -> str:
    started = time.monotonic()
    result = run_storage(*arguments)
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 10  # at once: the database is never asked
    assert "Traceback" not in result.stderr and "usage:" in result.stderr
    return result.stderr


# --- search -----------------------------------------------------------------------------------------------------


def test_a_ten_thousand_word_search_is_a_usage_error_at_once(database_url):
    stderr = _usage_error("query", "--database-url", database_url, "--search", TEN_THOUSAND_WORDS)
    assert f"a search has at most {MAX_SEARCH_TERMS} words, this one has 10000" in stderr


def test_a_too_long_search_word_is_a_usage_error(database_url):
    stderr = _usage_error("query", "--database-url", database_url, "--search", "电池 " + "长" * (MAX_TERM_LENGTH + 1))
    assert f"a search word has at most {MAX_TERM_LENGTH} characters" in stderr
    assert f"has {MAX_TERM_LENGTH + 1}" in stderr


def test_search_at_the_limits_answers(engine):
    words = ["宁德时代", "第1篇", "储能电池"] + [f"{n:0>{MAX_TERM_LENGTH}}"[:MAX_TERM_LENGTH] for n in range(13)]
    assert len(words) == MAX_SEARCH_TERMS
    assert query(engine, search=" ".join(words)) == []  # every word must match: the made-up ones do not
    assert [r["title"] for r in query(engine, search=" ".join(words[:3]))] == ["宁德时代 第1篇"]
    assert len(query(engine, search=" ".join(["宁德时代"] * 1000))) == 3  # repeats count once


@pytest.mark.parametrize(
    "search", [" ".join(f"w{n}" for n in range(MAX_SEARCH_TERMS + 1)), "x" * (MAX_TERM_LENGTH + 1)]
)
def test_search_limits_in_the_api(engine, search):
    with pytest.raises(BadSearch) as caught:
        query(engine, search=search)
    assert isinstance(caught.value, ValueError)


# --- dates ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [("--until", "9999-12-31"), ("--since", "0001-01-01"), ("--since", "1899-12-31"), ("--until", "3000-01-01")],
)
def test_dates_out_of_range_are_usage_errors(database_url, arguments):
    stderr = _usage_error("query", "--database-url", database_url, *arguments)
    assert f"is out of range: give a day from {FIRST_DAY} to {LAST_DAY}" in stderr
    assert "SELECT" not in stderr


def test_the_first_and_last_days_work(database_url):
    result = run_storage(
        "query", "--database-url", database_url, "--since", str(FIRST_DAY), "--until", str(LAST_DAY),
        "--format", "jsonl",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    published = [json.loads(line)["published_at"] for line in result.stdout.splitlines()]
    assert published == ["2999-12-31T12:00:00+08:00", "2025-06-01T12:00:00+08:00", "1900-01-01T12:00:00+08:00"]
    for day in (FIRST_DAY, LAST_DAY):
        only = run_storage("query", "--database-url", database_url, "--since", str(day), "--until", str(day))
        assert only.returncode == 0 and "(1 article)" in only.stdout, only.stderr


@pytest.mark.parametrize(
    "bounds",
    [
        {"since": date(1, 1, 1)},
        {"until": date(9999, 12, 31)},
        {"since": datetime(1, 1, 1, tzinfo=timezone.utc)},
        {"until": datetime.max.replace(tzinfo=timezone.utc)},
        {"until": datetime(3000, 1, 1, tzinfo=CST)},
    ],
)
def test_dates_out_of_range_in_the_api(engine, bounds):
    with pytest.raises(DateOutOfRange, match="out of range: give a day from 1900-01-01 to 2999-12-31"):
        query(engine, **bounds)


def test_day_start_refuses_days_out_of_range():
    assert day_start(LAST_DAY) == datetime(2999, 12, 31, tzinfo=CST)
    with pytest.raises(ValueError, match="out of range"):
        day_start(date.max)


# --- limit and days ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["99999999999999999999", str(MAX_LIMIT + 1)])
def test_a_limit_above_the_cap_is_a_usage_error_pointing_to_export(database_url, limit):
    stderr = _usage_error("query", "--database-url", database_url, "--limit", limit)
    assert "at most 1,000,000 articles" in stderr and "python -m storage export" in stderr


def test_the_largest_limit_works(engine, database_url):
    assert len(query(engine, limit=MAX_LIMIT)) == 3
    with pytest.raises(ValueError, match="from 1 to 1,000,000"):
        query(engine, limit=MAX_LIMIT + 1)
    result = run_storage("query", "--database-url", database_url, "--limit", str(MAX_LIMIT))
    assert result.returncode == 0 and "(3 articles)" in result.stdout, result.stderr


@pytest.mark.parametrize("days", ["800000", str(MAX_STATS_DAYS + 1)])
def test_stats_days_above_the_cap_is_a_usage_error(database_url, days):
    stderr = _usage_error("stats", "--database-url", database_url, "--days", days)
    assert f"at most {MAX_STATS_DAYS:,} days" in stderr


def test_stats_at_the_days_cap(engine, database_url):
    summary = stats(engine, days=MAX_STATS_DAYS, today=date(2025, 6, 1))
    assert len(summary["per_day"]) == MAX_STATS_DAYS and summary["per_day"]["2025-06-01"] == {"sina": 1}
    with pytest.raises(ValueError, match=f"from 1 to {MAX_STATS_DAYS}"):
        stats(engine, days=MAX_STATS_DAYS + 1)
    with pytest.raises(DateOutOfRange):  # ten years back from 1900-01-05 is before the first day
        stats(engine, days=10, today=date(1900, 1, 5))
    result = run_storage("stats", "--database-url", database_url, "--days", str(MAX_STATS_DAYS), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["per_day"]) == MAX_STATS_DAYS


@pytest.mark.parametrize("value", ["-1", "abc", "nan", "inf", "90000"])
def test_a_bad_timeout_is_a_usage_error(tmp_path, value):
    stderr = _usage_error("count", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--timeout", value)
    assert "expected seconds from 0 (no limit) to 86400" in stderr
