"""A roll API that lists garbage: bad items cost themselves only, and no listed time can poison a watermark.

Each crawl is the real `python -m crawler run` against a local HTTP server acting
as Sina (tests.test_scheduled_run.SinaSite), into real SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.rollapi import roll_api_url
from storage import make_engine
from storage.crawlstate import set_watermark
from storage.db import session_factory
from storage.models import CrawlRun, PageState, Watermark
from tests.helpers import PROXIED_ROLL_API
from tests.test_scheduled_run import FIRST_CTIME, LISTED, SinaSite, _run_args, _summary, run_crawler

YEAR_2100 = datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp()
LONE_SURROGATE_URL = "http://finance.sina.com.cn/roll/2026-11-30/doc-i\ud800aaaaa1234567.shtml"


def _database(tmp_path: Path, backend: str, postgres_url: str | None) -> str:
    return postgres_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'caixun.db'}"


def _rows(database_url: str, statement) -> list:
    engine = make_engine(database_url, create=False)
    try:
        with engine.connect() as connection:
            return list(connection.execute(statement))
    finally:
        engine.dispose()


def _watermark(database_url: str) -> float:
    (row,) = _rows(database_url, select(Watermark.newest_listed_at))
    return row.newest_listed_at.timestamp()


def _last_stats(database_url: str) -> dict:
    return _rows(database_url, select(CrawlRun.stats).order_by(CrawlRun.id.desc()).limit(1))[0].stats


def _poison(database_url: str, when: float) -> None:
    """A watermark as a release that trusted listed times could have left."""
    engine = make_engine(database_url)  # creates the schema
    with session_factory(engine).begin() as session:
        moment = datetime.fromtimestamp(when, tz=timezone.utc)
        set_watermark(session, "sina", "rollapi:153:2516", moment, datetime.now(timezone.utc))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


def test_hostile_items_cost_only_themselves_this_run_and_the_next(tmp_path, local_server, backend, request):
    """The issue's "done when": a 2100 ctime, an "inf" ctime and a lone-surrogate URL on the roll page."""
    database_url = _database(tmp_path, backend, request.getfixturevalue("postgres_url") if backend == "postgresql" else None)
    site = SinaSite(local_server)
    site.page_size = 4  # several roll pages, so that the watermark decides how far later runs page
    everything = site.items
    older, newer = everything[5:], everything[:5]
    hostile = [
        {**older[0], "ctime": YEAR_2100, "mtime": YEAR_2100},
        {**older[1], "ctime": "inf", "mtime": "nan"},
        {"url": LONE_SURROGATE_URL, "title": "坏", "ctime": FIRST_CTIME - 5},
    ]
    site.items = hostile + older[2:]
    first = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"new {len(older)}," in _summary(first.stdout)  # both items with bad times are still fetched
    stats = _last_stats(database_url)
    assert stats["caixun/discover/skipped/bad_item"] == 1
    assert stats["caixun/discover/bad_time"] == 4  # ctime and mtime of two items
    assert "unusable item(s) skipped (item 3: URL is not valid Unicode" in first.stderr
    # the watermark is the newest *usable* time, never 2100
    assert _watermark(database_url) == older[2]["ctime"]

    site.items = newer + hostile + older[2:]  # five new items on top; the hostile ones are still listed
    second = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"new {len(newer)}," in _summary(second.stdout)
    stats = _last_stats(database_url)
    assert stats["caixun/discover/skipped/bad_item"] == 1 and stats["caixun/discover/bad_time"] == 4
    assert _watermark(database_url) == newer[0]["ctime"]


def test_a_watermark_in_the_future_is_reset_and_the_channel_swept(tmp_path, local_server):
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    _poison(database_url, YEAR_2100)
    site = SinaSite(local_server)
    site.page_size = 3
    result = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"new {len(LISTED)}," in _summary(result.stdout)  # a trusted 2100 mark would stop at page 1: 3
    assert "the watermark 2100-01-01T00:00:00+00:00 is later than our clock" in result.stderr
    assert _last_stats(database_url)["caixun/incremental/watermark_reset"] == 1
    assert _watermark(database_url) == FIRST_CTIME  # moved down, to the feed's newest item


def test_a_watermark_above_the_feeds_newest_item_is_reset(tmp_path, local_server):
    """Past, but later than anything listed (the item it came from was withdrawn, or its time was wrong)."""
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    _poison(database_url, FIRST_CTIME + 3600)
    site = SinaSite(local_server)
    site.page_size = 3
    result = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"new {len(LISTED)}," in _summary(result.stdout)
    assert "is later than the channel's newest listed item" in result.stderr
    assert _watermark(database_url) == FIRST_CTIME
    # and the next run trusts it again: page 1 reaches it
    again = run_crawler(*_run_args(tmp_path, database_url, "-s", "LOG_LEVEL=INFO"), env=site.env())  # stats at INFO
    assert "1 roll-API pages read" in _summary(again.stdout) and "watermark_reset" not in again.stderr


def test_a_first_page_without_a_usable_item_fails_the_run_naming_the_channel(tmp_path, local_server):
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    site = SinaSite(local_server)
    site.items = [{"url": LONE_SURROGATE_URL}, {"url": None}, {"url": "http://[::1/x"}]
    result = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert result.returncode == 1, result.stderr[-3000:]
    assert "no articles from channel(s) that always list some: 153:2516: the first page has no usable item" in (
        result.stderr
    )
    assert _summary(result.stdout).endswith(")")  # exit 1 (reason) at the end


def test_a_roll_page_listing_too_many_items_is_read_up_to_the_cap(tmp_path, local_server):
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    site = SinaSite(local_server)
    site.page_size = 10_000
    site.items = site.items + [{"url": f"http://finance.sina.com.cn/roll/x/doc-iqqqqqqq{n:07d}.shtml"} for n in range(5000)]
    result = run_crawler(*_run_args(tmp_path, database_url, "-s", "CAIXUN_MAX_LIST_ITEMS=6"), env=site.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "new 6," in _summary(result.stdout)
    assert len(site.article_requests()) == 6
    assert _last_stats(database_url)["caixun/discover/capped"] == len(site.items) - 6
    assert "item(s) past CAIXUN_MAX_LIST_ITEMS (6) not read" in result.stderr


def test_a_future_mtime_stored_by_an_older_release_does_not_hide_changes(tmp_path, local_server):
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    site = SinaSite(local_server)
    first = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert first.returncode == 0, first.stderr[-3000:]
    changed = site.items[2]["url"]
    engine = make_engine(database_url, create=False)
    with session_factory(engine).begin() as session:
        session.get(PageState, changed).listed_at = datetime(2100, 1, 1, tzinfo=timezone.utc)
    engine.dispose()
    site.items[2]["mtime"] += 600  # edited: a trusted 2100 mtime would call this "not newer"
    asked = len(site.server.requests)
    second = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert second.returncode == 0, second.stderr[-3000:]
    assert site.article_requests(asked) == [changed]
    assert site.server.requests[asked:].count(roll_api_url(153, 2516, 1, PROXIED_ROLL_API)) == 1
