"""What a crawl leaves besides articles: its run, every fetch, how each URL was found; and
two crawls at once on one PostgreSQL never store an article twice."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from sqlalchemy import select

from crawler.rollapi import roll_api_url
from storage import make_engine, session_factory
from storage.models import CrawlRun, Fetch, StoredArticle
from tests.helpers import PROJECT_DIR, run_storage
from tests.test_crawl_replay import LISTED, _crawl, replay_warc  # noqa: F401  (module fixture)

ROLL_URL = roll_api_url(153, 2516, 1)


def test_the_run_and_every_fetch_are_recorded(replay_warc, tmp_path):  # noqa: F811
    url = f"sqlite:///{tmp_path / 'provenance.db'}"
    result = _crawl(replay_warc, url)
    assert result.returncode == 0, result.stderr[-2000:]
    with session_factory(make_engine(url))() as session:
        [run] = session.scalars(select(CrawlRun)).all()
        fetches = session.scalars(select(Fetch)).all()
        articles = {a.id: a for a in session.scalars(select(StoredArticle))}
    assert run.spider == "sina_finance" and run.arguments == {"channels": "153:2516", "max_pages": "1", "crawl_sites": ["sina"]}
    assert run.finish_reason == "finished" and run.exit_status == 0 and run.finished_at >= run.started_at
    assert run.stats["caixun/storage/inserted"] == len(LISTED)
    by_url = {f.final_url: f for f in fetches}
    assert by_url[ROLL_URL].discovered_from is None and by_url[ROLL_URL].article_id is None
    for fixture in LISTED:
        fetch = by_url[fixture.url]
        assert fetch.crawl_run_id == run.id and fetch.status == 200
        assert fetch.discovered_from == ROLL_URL and fetch.discovery["url"] == fixture.url
        assert fetch.body_sha256 == hashlib.sha256(fixture.body).hexdigest()
        assert fetch.outcome == "inserted" and articles[fetch.article_id].url == fixture.url


def test_two_crawls_at_once_on_postgresql_store_each_article_once(replay_warc, postgres_url, tmp_path):  # noqa: F811
    make_engine(postgres_url).dispose()  # the schema exists before the race: upgrades are a decision
    command = [
        sys.executable, "-m", "scrapy", "crawl", "sina_finance", "-a", "channels=153:2516",
        "-s", f"REPLAY_WARC={replay_warc}", "-s", f"DATABASE_URL={postgres_url}",
    ]  # fmt: skip
    crawls = [subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [crawl.communicate(timeout=300) for crawl in crawls]
    assert [crawl.returncode for crawl in crawls] == [0, 0], [err[-2000:] for _, err in outputs]
    for _, err in outputs:  # a lost race would show as an IntegrityError logged and an item dropped
        assert "log_count/ERROR" not in err and "IntegrityError" not in err, err[-3000:]
    exported = [json.loads(line) for line in run_storage("export", "--database-url", postgres_url).stdout.splitlines()]
    assert sorted(r["url"] for r in exported) == sorted(f.url for f in LISTED)


def test_postgresql_and_sqlite_export_the_same_articles(replay_warc, postgres_url, tmp_path):  # noqa: F811
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    for url in (sqlite_url, postgres_url):
        assert _crawl(replay_warc, url).returncode == 0
    exports = []
    for url in (sqlite_url, postgres_url):
        records = [json.loads(line) for line in run_storage("export", "--database-url", url).stdout.splitlines()]
        local = ("fetched_at", "first_seen_at", "id", "duplicate_of")  # when and in which order this store wrote them
        exports.append(sorted(({k: v for k, v in r.items() if k not in local} for r in records), key=lambda r: r["url"]))
    assert exports[0] == exports[1] and len(exports[0]) == len(LISTED)
