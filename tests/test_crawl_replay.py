"""End to end: the real `scrapy crawl sina_finance` on a WARC of recorded Sina pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.rollapi import roll_api_url
from extractors import rule_named
from tests.helpers import (
    fixtures,
    html_headers,
    roll_api_body,
    run_scrapy,
    run_storage,
    write_warc,
)

# Recorded article pages whose URLs the roll API would list (desktop, mobile, k.sina, t.cj).
# Recorded article pages whose URLs the roll API would list (desktop, mobile, k.sina, t.cj).
LISTED = [f for f in fixtures("sina", kind="article") if rule_named("sina").classify_url(f.url) == "article"]
SKIPPED_URLS = {
    "https://video.sina.com.cn/p/finance/2019-09-09/detail-iicezzrq4683000.d.html": "video",
    "http://slide.finance.sina.com.cn/cj/slide_80_13_12345.html": "slide",
    "https://finance.sina.com.cn/7x24/2019-09-09/doc-iicezzrq4689999.shtml": "live",
}


def _roll_items() -> list[dict]:
    items = []
    for n, fixture in enumerate(LISTED):
        ctime = 1568000000 + n
        items.append({
            "url": fixture.url,
            "title": fixture.expected["title"],
            "media_name": "测试",
            # the API gives times as numbers and as strings
            "ctime": ctime if n % 2 else str(ctime),
            "mtime": str(ctime),
        })  # fmt: skip
    items += [{"url": url, "title": kind, "ctime": "1568000000"} for url, kind in SKIPPED_URLS.items()]
    return items


@pytest.fixture(scope="module")
def replay_warc(tmp_path_factory) -> Path:
    records = [(roll_api_url(153, 2516, 1), 200, [("Content-Type", "application/json")], roll_api_body(_roll_items()))]
    records += [(f.url, 200, html_headers(f.body), f.body) for f in LISTED]
    return write_warc(tmp_path_factory.mktemp("warc") / "sina.warc.gz", records)


def _crawl(replay_warc: Path, database_url: str, *settings: str):
    return run_scrapy(
        "crawl", "sina_finance", "-a", "channels=153:2516", "-a", "max_pages=1",
        "-s", f"REPLAY_WARC={replay_warc}", "-s", f"DATABASE_URL={database_url}", *settings,
    )  # fmt: skip


def _export(database_url: str) -> list[dict]:
    result = run_storage("export", "--database-url", database_url, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _assert_crawl_stores_every_article(replay_warc: Path, database_url: str) -> None:
    first = _crawl(replay_warc, database_url)
    assert first.returncode == 0, first.stderr[-3000:]
    exported = _export(database_url)
    by_url = {record["url"]: record for record in exported}
    assert sorted(by_url) == sorted(f.url for f in LISTED)
    for fixture in LISTED:
        record = by_url[fixture.url]
        assert record["title"] == fixture.expected["title"], fixture.name
        assert record["published_at"][:16] == fixture.expected["published_at"][:16], fixture.name
        assert record["body"].strip(), f"{fixture.name}: empty body"
        assert record["site"] == "sina"
        assert record["extractor"].startswith("sina/")
        assert record["fetched_at"].endswith("+00:00")
    # video, slide and 7x24 items are skipped and counted, never fetched
    for kind in ("video", "slide", "live"):
        assert f"'caixun/discover/skipped/{kind}': 1" in first.stderr
    assert f"'caixun/storage/inserted': {len(LISTED)}" in first.stderr

    # the default is incremental: nothing the roll API has not changed is fetched again
    second = _crawl(replay_warc, database_url)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"'caixun/incremental/skipped': {len(LISTED)}" in second.stderr
    assert "caixun/storage/" not in second.stderr
    # fetched again on purpose, every article is found unchanged and stored once
    third = _crawl(replay_warc, database_url, "-s", "CAIXUN_INCREMENTAL=False")
    assert third.returncode == 0, third.stderr[-3000:]
    again = _export(database_url)
    assert len(again) == len(exported)
    assert f"'caixun/storage/unchanged': {len(LISTED)}" in third.stderr


def test_crawl_into_sqlite_stores_each_article_once(replay_warc, tmp_path):
    _assert_crawl_stores_every_article(replay_warc, f"sqlite:///{tmp_path / 'caixun.db'}")


def test_crawl_into_postgresql_stores_each_article_once(replay_warc, postgres_url):
    _assert_crawl_stores_every_article(replay_warc, postgres_url)


def test_direct_urls_bypass_the_roll_api(replay_warc, tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_text(f"# two recorded pages\n{LISTED[0].url}\n\n{LISTED[1].url}\n", encoding="utf-8")
    database_url = f"sqlite:///{tmp_path / 'direct.db'}"
    result = run_scrapy(
        "crawl", "sina_finance", "-a", f"url_file={url_file}",
        "-s", f"REPLAY_WARC={replay_warc}", "-s", f"DATABASE_URL={database_url}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(r["url"] for r in _export(database_url)) == sorted([LISTED[0].url, LISTED[1].url])
    assert "feed.mix.sina.com.cn" not in result.stderr


def test_bad_spider_argument_fails_with_a_clear_message(tmp_path):
    result = run_scrapy(
        "crawl", "sina_finance", "-a", "channels=finance", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}"
    )
    assert result.returncode == 1
    assert "the crawl cannot start: channel 'finance' is not pageid:lid" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_fails_the_crawl_with_a_masked_url(replay_warc):
    result = run_scrapy(
        "crawl", "sina_finance", "-a", "channels=153:2516", "-s", f"REPLAY_WARC={replay_warc}",
        "-s", "DATABASE_URL=postgresql://caixun:secret@127.0.0.1:1/none",
    )  # fmt: skip
    assert result.returncode == 5  # crawler.exitcodes.DATABASE: nothing crawled
    assert "the crawl cannot start: cannot open the database postgresql+psycopg://caixun:***@127.0.0.1:1/none" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr
