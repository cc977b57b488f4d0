"""Roll-API paging on replayed pages: max_pages, since, empty pages and error statuses."""

from __future__ import annotations

import re

from crawler.rollapi import roll_api_url
from extractors import rule_named
from tests.helpers import fixtures, html_headers, roll_api_body, run_scrapy, write_warc

ARTICLES = [f for f in fixtures("sina", kind="article") if rule_named("sina").classify_url(f.url) == "article"]
NEW, OLD = 1_700_000_000, 1_500_000_000  # 2023-11-14 and 2017-07-14


def _items(fixture_list, ctime):
    return [{"url": f.url, "title": "t", "ctime": ctime} for f in fixture_list]


def _crawl(tmp_path, pages: dict[int, bytes], *args: str):
    records = [(roll_api_url(153, 2516, n), 200, [("Content-Type", "application/json")], body) for n, body in pages.items()]
    records += [(f.url, 200, html_headers(f.body), f.body) for f in ARTICLES]
    warc = write_warc(tmp_path / "paging.warc.gz", records)
    return run_scrapy(
        "crawl", "sina_finance", "-a", "channels=153:2516", *args,
        "-s", f"REPLAY_WARC={warc}", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'paging.db'}",
        "-s", "LOG_LEVEL=DEBUG",
    )  # fmt: skip


def _roll_pages_requested(stderr: str) -> list[int]:
    return sorted(int(n) for n in re.findall(r"Crawled \(\d+\) <GET https://feed\.mix\.sina\.com\.cn/api/roll/get\?pageid=153&lid=2516&num=50&page=(\d+)>", stderr))


def _stat(stderr: str, key: str) -> int:
    match = re.search(rf"'{re.escape(key)}': (\d+)", stderr)
    return int(match.group(1)) if match else 0


def test_max_pages_bounds_paging(tmp_path):
    pages = {1: roll_api_body(_items(ARTICLES[:2], NEW)), 2: roll_api_body(_items(ARTICLES[2:4], NEW)),
             3: roll_api_body(_items(ARTICLES[4:6], NEW))}  # fmt: skip
    result = _crawl(tmp_path, pages, "-a", "max_pages=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _roll_pages_requested(result.stderr) == [1, 2]
    assert _stat(result.stderr, "caixun/storage/inserted") == 4


def test_since_stops_at_a_page_of_only_older_items(tmp_path):
    pages = {
        1: roll_api_body(_items(ARTICLES[:2], NEW) + _items(ARTICLES[2:3], str(OLD))),
        2: roll_api_body(_items(ARTICLES[3:5], OLD)),
        3: roll_api_body(_items(ARTICLES[5:7], NEW)),
    }
    result = _crawl(tmp_path, pages, "-a", "since=2020-01-01")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _roll_pages_requested(result.stderr) == [1, 2]
    assert _stat(result.stderr, "caixun/discover/skipped/older") == 3
    assert _stat(result.stderr, "caixun/storage/inserted") == 2
    assert "all items older than since, paging stops" in result.stderr


def test_an_empty_page_stops_paging(tmp_path):
    pages = {1: roll_api_body(_items(ARTICLES[:1], NEW)), 2: roll_api_body([]), 3: roll_api_body(_items(ARTICLES[1:2], NEW))}
    result = _crawl(tmp_path, pages, "-a", "max_pages=5")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _roll_pages_requested(result.stderr) == [1, 2]


def test_an_error_status_is_logged_and_fails_the_run(tmp_path):
    result = _crawl(tmp_path, {1: roll_api_body([], code=11)})
    assert "page 1 unusable, paging stops: status code 11" in result.stderr
    assert "no roll-API page could be read" in result.stderr
    assert result.returncode == 1


def test_bad_since_is_refused(tmp_path):
    result = _crawl(tmp_path, {}, "-a", "since=yesterday")
    assert result.returncode == 1
    assert "since must be a date as YYYY-MM-DD" in result.stderr
