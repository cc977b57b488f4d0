"""storage.health, the health report's data, on real SQLite and PostgreSQL.

Articles go in through the one writer (upsert_article, with the times they were "fetched"), runs through
storage.provenance, with stats written the way the crawler writes them. Expected counts are worked out by
hand from the rows below, China-time days included.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from extractors import Article
from storage import make_engine, session_factory
from storage.health import BY_DAY_UP_TO, health, week_start
from storage.provenance import finish_run, start_run
from storage.runs import summary_lines
from storage.write import upsert_article

CST = timezone(timedelta(hours=8))
DAY = date(2026, 11, 2)  # a Monday


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=CST) + timedelta(days=day_offset)


def _article(n: int, site: str, *, body: str | None = None, source: str | None = None, symbols=(), published=None) -> Article:
    return Article(
        url=f"https://{site}.example.com/{n}.html", site=site, title=f"标题{n}", extractor="test@1",
        body=body or f"第{n}篇的正文，各不相同，编号{n}。讲的是第{n}件事，与别篇无关，长度足够判断是否重复。" * 3, source=source, symbols=list(symbols),
        published_at=published or _at(0, 6),
    )  # fmt: skip


# (article, when it was first stored)
STORED = [
    (_article(1, "sina", source="证券时报", symbols=["sh600519"]), _at(0, 9)),
    (_article(2, "sina", source="证券时报", symbols=["sh600519", "sz000001"]), _at(0, 23, 30)),  # 15:30 UTC: still day 0
    (_article(3, "sina", source="新华社"), _at(1, 0, 10)),  # 16:10 UTC of day 0, but day 1 in China
    (_article(4, "netease", source="证券时报", symbols=["sz000001"]), _at(1, 12)),
    (_article(5, "netease", body=_article(4, "netease").body), _at(3, 12)),  # the same text: a duplicate of 4
    (_article(6, "netease", published=datetime(2019, 5, 1, tzinfo=CST)), _at(3, 13)),  # an old article stored now
]


def _stats(counts: dict[str, dict[str, int]], **extra) -> dict:
    """Stats as the crawler keeps them: per site under caixun/site/<site>/, and the totals."""
    stats: dict = {}
    for site, values in counts.items():
        for key, value in values.items():
            stats[f"caixun/site/{site}/{key}"] = value
            stats[f"caixun/{key}"] = stats.get(f"caixun/{key}", 0) + value
    return stats | extra


RUNS = [  # (spider, started, minutes, stats, coverage, exit status)
    ("news", _at(0, 8), 2, _stats({"sina": {"storage/inserted": 2, "fetch/failed": 1}, "netease": {"incremental/skipped": 7}},
                                  **{"caixun/fetch/failed/timeout": 1}),
     {"articles": 2, "title": 1.0, "body": 1.0, "published_at": 1.0, "source": 1.0,
      "sites": {"sina": {"articles": 2, "title": 1.0, "body": 1.0, "published_at": 1.0, "source": 1.0}}}, 0),
    ("sina_finance", _at(1, 8), 1, _stats({"sina": {"storage/inserted": 1, "storage/not_modified": 3}}),
     {"articles": 1, "title": 1.0, "body": 1.0, "published_at": 0.0, "source": 1.0,
      "missing_samples": {"published_at": ["https://sina.example.com/3.html"]}}, 4),  # a record of one site, as before
    ("news", _at(3, 8), 5, _stats({"netease": {"storage/inserted": 2}, "sina": {}},
                                  **{"caixun/ban/detected": 1, "caixun/ban/sites": ["sina"], "caixun/ban/sina/reason": "HTTP 456"}),
     None, 3),
]  # fmt: skip


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    for article, stored_at in STORED:
        with sessions.begin() as session:
            upsert_article(session, article, stored_at.astimezone(timezone.utc))
    with sessions.begin() as session:
        for spider, started, minutes, stats, coverage, code in RUNS:
            run_id = start_run(session, spider, {}, started)
            finish_run(session, run_id, finished_at=started + timedelta(minutes=minutes), finish_reason="finished",
                       stats=stats | {"caixun/crawl_run_id": run_id}, exit_status=code, coverage=coverage)  # fmt: skip
    yield engine
    engine.dispose()


def test_articles_are_counted_on_the_china_day_they_were_first_stored(engine):
    data = health(engine, since=DAY, until=DAY + timedelta(days=4))
    assert data["period"] == {"first": "2026-11-02", "last": "2026-11-06", "by": "day", "site": None}
    assert data["stored"] == [
        {"start": "2026-11-02", "sites": {"sina": 2}},
        {"start": "2026-11-03", "sites": {"netease": 1, "sina": 1}},
        {"start": "2026-11-04", "sites": {}},  # a gap stays a gap
        {"start": "2026-11-05", "sites": {"netease": 2}},
        {"start": "2026-11-06", "sites": {}},
    ]
    assert data["articles"] == 6 and data["sites"] == ["netease", "sina"]
    assert data["last_stored"] == {"netease": "2026-11-05", "sina": "2026-11-03"}


def test_duplicates_are_counted_per_site_and_week(engine):
    data = health(engine, since=DAY, until=DAY + timedelta(days=7))
    assert data["duplicates"] == [
        {"week": "2026-11-02", "sites": {"netease": {"articles": 3, "duplicates": 1}, "sina": {"articles": 3, "duplicates": 0}}},
        {"week": "2026-11-09", "sites": {}},
    ]


def test_runs_carry_their_outcomes_bans_coverage_and_summary(engine):
    runs = health(engine, since=DAY, until=DAY + timedelta(days=4))["runs"]
    assert [(r["spider"], r["started_at"], r["seconds"], r["exit_status"]) for r in runs] == [
        ("news", "2026-11-02T08:00:00+08:00", 120.0, 0),
        ("sina_finance", "2026-11-03T08:00:00+08:00", 60.0, 4),
        ("news", "2026-11-05T08:00:00+08:00", 300.0, 3),
    ]
    first, second, third = runs
    assert first["outcomes"]["inserted"] == 2 and first["outcomes"]["not fetched again"] == 7
    assert first["outcomes"]["failed"] == 1 and first["failed_by_reason"] == {"timeout": 1}
    assert second["outcomes"]["not modified"] == 3
    assert second["coverage"] == {"sina": {"articles": 1, "title": 1.0, "body": 1.0, "published_at": 0.0, "source": 1.0}}
    assert third["banned"] == {"sina": "HTTP 456"} and first["banned"] == {}
    assert third["coverage"] == {}
    assert third["summary"][-1].startswith(f"news run {third['id']}: new 2, ") and "banned yes (sina)" in third["summary"][-1]
    assert third["summary"][-1].endswith("; 300.0 s; exit 3")


def test_a_site_keeps_its_own_runs_counts_and_coverage(engine):
    data = health(engine, since=DAY, until=DAY + timedelta(days=4), site="netease")
    assert data["sites"] == ["netease"]
    assert [run["spider"] for run in data["runs"]] == ["news", "news"]  # sina_finance never crawled netease
    assert [run["outcomes"]["inserted"] for run in data["runs"]] == [0, 2]
    assert data["runs"][1]["banned"] == {}  # sina was banned, not netease
    assert [bucket["sites"] for bucket in data["stored"]] == [{}, {"netease": 1}, {}, {"netease": 2}, {}]


def test_top_sources_and_symbols(engine):
    data = health(engine, since=DAY, until=DAY + timedelta(days=4))
    assert data["top_sources"] == [{"source": "证券时报", "articles": 3}, {"source": "新华社", "articles": 1}]
    # articles 1, 2 and 4 were published on DAY: equal counts come in symbol order
    assert data["top_symbols"] == [{"symbol": "sh600519", "articles": 2}, {"symbol": "sz000001", "articles": 2}]
    assert health(engine, since=DAY, until=DAY, site="netease")["top_sources"] == []  # netease stored nothing that day


def test_newest_articles_per_site_by_publication(engine):
    newest = health(engine, since=DAY, until=DAY + timedelta(days=4))["newest"]
    assert [r["url"] for r in newest["netease"]] == [f"https://netease.example.com/{n}.html" for n in (5, 4, 6)]
    assert [r["title"] for r in newest["sina"]] == ["标题3", "标题2", "标题1"]


def test_a_long_period_is_counted_per_week(engine):
    until = DAY + timedelta(days=BY_DAY_UP_TO)  # BY_DAY_UP_TO + 1 days
    data = health(engine, since=DAY, until=until)
    assert data["period"]["by"] == "week"
    assert data["stored"][0] == {"start": "2026-11-02", "sites": {"netease": 3, "sina": 3}}
    assert [b["start"] for b in data["stored"]][-1] == week_start(until).isoformat()
    assert health(engine, since=DAY, until=until - timedelta(days=1))["period"]["by"] == "day"


def test_the_default_period_starts_at_the_store_s_first_day(engine):
    data = health(engine, until=DAY + timedelta(days=4))
    assert data["period"]["first"] == "2026-11-02"  # the first run; not a year of nothing before it


def test_an_empty_store_reports_today_alone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    data = health(engine, until=DAY)
    assert data["period"]["first"] == data["period"]["last"] == "2026-11-02"
    assert data["stored"] == [{"start": "2026-11-02", "sites": {}}] and data["runs"] == [] and data["newest"] == {}


@pytest.mark.parametrize(
    "since, until, message",
    [(DAY, DAY - timedelta(days=1), "after until"), (date(1800, 1, 1), DAY, "out of range"),
     (date(2000, 1, 1), DAY, "at most 3660")],
)  # fmt: skip
def test_a_bad_period_is_refused_by_name(tmp_path, since, until, message):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ValueError, match=message):
        health(engine, since=since, until=until)


def test_summary_lines_of_a_stored_run_read_like_the_crawl_s():
    stats = _stats({"a": {"storage/inserted": 3, "incremental/skipped": 2, "fetch/article_pages": 3, "list/pages": 1},
                    "b": {"storage/not_modified": 1}}, **{"caixun/crawl_run_id": 7})  # fmt: skip
    lines = summary_lines("news", stats, 0, 12.34)
    assert lines == [
        "news run 7 site a: new 3, updated 0, unchanged 2 (2 not fetched again, 0 not modified), removed 0, "
        "not articles 0, failed 0, spooled 0, banned no; 3 article pages fetched, 1 list pages read",
        "news run 7 site b: new 0, updated 0, unchanged 1 (0 not fetched again, 1 not modified), removed 0, "
        "not articles 0, failed 0, spooled 0, banned no; 0 article pages fetched, 0 list pages read",
        "news run 7: new 3, updated 0, unchanged 3 (2 not fetched again, 1 not modified), removed 0, not articles 0, "
        "failed 0, spooled 0, banned no; 3 article pages fetched, 1 list pages read; 12.3 s; exit 0",
    ]
    assert summary_lines("news", {}, None, None)[-1].endswith("; ? s; exit unknown")
