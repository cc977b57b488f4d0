"""`python -m crawler run`: the lock, incremental runs, SIGKILL and resume, the spool, the coverage alarm.

Each crawl runs the real Scrapy engine against a local HTTP server acting as
Sina (its proxy): a roll API listing the recorded Sina articles, which it serves
at their own URLs (over plain http), into real SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler import exitcodes
from crawler.rollapi import roll_api_url
from extractors import rule_named
from storage import make_engine
from storage.models import CrawlRun, PageState, StoredArticle, Watermark
from tests.helpers import (
    fixtures,
    PROXIED_ROLL_API,
    proxy_env,
    roll_api_body,
    run_crawler,
    run_storage,
    start_crawler,
)
from tests.relay import TcpRelay

LISTED = [f for f in fixtures("sina", kind="article") if rule_named("sina").classify_url(f.url) == "article"]
COMPARED_FIELDS = ("url", "canonical_url", "title", "published_at", "source", "authors", "body", "symbols", "removed_at")
FIRST_CTIME = 1_700_000_000


def _http(url: str) -> str:
    # plain http, so that the LocalServer acting as the crawl's proxy can answer for Sina's hosts
    return "http://" + url.split("://", 1)[1]


class SinaSite:
    """Sina as a LocalServer proxy: the roll API lists the recorded articles, newest first.

    Tests change `items`, `bodies` and `delay` between runs; `requests` counts what was asked.
    """

    def __init__(self, local_server, delay: float = 0.0) -> None:
        self.items = [
            {"url": _http(f.url), "title": f.expected.get("title"), "ctime": FIRST_CTIME - n, "mtime": FIRST_CTIME - n}
            for n, f in enumerate(LISTED)
        ]
        self.bodies = {_http(f.url): f.body for f in LISTED}
        self.delay = delay
        self.page_size = 50  # items per roll-API page, as Sina's
        self.server = local_server(self.respond)

    def respond(self, url: str) -> tuple[int, dict, bytes]:
        if url.endswith("/robots.txt"):
            return 404, {}, b""
        if url.startswith(PROXIED_ROLL_API):
            page = int(re.search(r"[?&]page=(\d+)", url).group(1))
            items = self.items[(page - 1) * self.page_size : page * self.page_size]
            return 200, {"Content-Type": "application/json"}, roll_api_body(items)
        if url in self.bodies:
            time.sleep(self.delay)
            return 200, {"Content-Type": "text/html"}, self.bodies[url]
        return 404, {}, b""

    def article_requests(self, since: int = 0) -> list[str]:
        return [url for url in self.server.requests[since:] if url in self.bodies]

    def env(self) -> dict:
        return proxy_env(self.server)


def _run_args(tmp_path: Path, database_url: str, *extra: str) -> list[str]:
    return [
        "run", "sina_finance", "-a", "channels=153:2516", "--database-url", database_url,
        "-s", f"CAIXUN_ROLL_API_URL={PROXIED_ROLL_API}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}", "-s", f"WARC_DIR={tmp_path / 'warc'}", *extra,
    ]  # fmt: skip


# one article at a time, each answered after the site's delay: runs last long enough to overlap or kill
ONE_AT_A_TIME = ("-s", "CONCURRENT_REQUESTS=1")


def _summary(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("sina_finance run ")]
    assert len(lines) == 1, stdout
    return lines[0]


def _export(database_url: str) -> list[dict]:
    result = run_storage("export", "--database-url", database_url, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return sorted(({k: r.get(k) for k in COMPARED_FIELDS} for r in records), key=lambda r: r["url"])


def _article_count(database_url: str) -> int:
    engine = make_engine(database_url, create=False)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(StoredArticle)).scalar_one()
    except Exception:  # the schema is not there yet
        return 0
    finally:
        engine.dispose()


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def uninterrupted(tmp_path, local_server) -> list[dict]:
    """What one uninterrupted run stores: the reference for the kill and outage tests."""
    site = SinaSite(local_server)
    database_url = f"sqlite:///{tmp_path / 'reference.db'}"
    result = run_crawler(*_run_args(tmp_path / "reference", database_url), env=site.env())
    assert result.returncode == 0, result.stderr[-3000:]
    exported = _export(database_url)
    assert len(exported) == len(LISTED)
    return exported


# --- incremental ------------------------------------------------------------------------------


def _second_run_fetches_no_article(tmp_path: Path, local_server, database_url: str) -> None:
    site = SinaSite(local_server)
    first = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert first.returncode == 0, first.stderr[-3000:]
    summary = _summary(first.stdout)
    assert f"new {len(LISTED)}," in summary and f"{len(LISTED)} article pages fetched" in summary
    assert summary.endswith("exit 0")
    assert len(site.article_requests()) == len(LISTED)

    asked = len(site.server.requests)
    second = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert second.returncode == 0, second.stderr[-3000:]
    summary = _summary(second.stdout)
    assert "new 0," in summary
    assert f"unchanged {len(LISTED)} ({len(LISTED)} not fetched again, 0 not modified)" in summary
    assert "0 article pages fetched, 1 roll-API pages read" in summary
    # only the roll API was asked (page 1 reaches the watermark, so no page 2)
    again = [url for url in site.server.requests[asked:] if not url.endswith("/robots.txt")]
    assert again == [roll_api_url(153, 2516, 1, PROXIED_ROLL_API)], again
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        runs = connection.execute(select(CrawlRun).order_by(CrawlRun.id)).all()
        watermark = connection.execute(select(Watermark.site, Watermark.source_key, Watermark.newest_listed_at)).one()
    engine.dispose()
    assert [run.exit_status for run in runs] == [0, 0]
    assert runs[0].coverage["articles"] == len(LISTED) and runs[0].coverage["title"] == 1.0
    assert runs[1].stats["caixun/incremental/skipped"] == len(LISTED)
    assert (watermark.site, watermark.source_key) == ("sina", "rollapi:153:2516")  # the spider's channel 153:2516
    assert watermark.newest_listed_at.timestamp() == FIRST_CTIME


def test_a_second_run_fetches_only_the_roll_api(tmp_path, local_server):
    _second_run_fetches_no_article(tmp_path, local_server, f"sqlite:///{tmp_path / 'caixun.db'}")


def test_a_second_run_fetches_only_the_roll_api_on_postgresql(tmp_path, local_server, postgres_url):
    _second_run_fetches_no_article(tmp_path, local_server, postgres_url)


def test_new_items_are_fetched_and_paging_stops_at_the_watermark(tmp_path, local_server):
    site = SinaSite(local_server)
    site.items = site.items[60:] if len(site.items) > 60 else site.items[3:]  # the first run sees the older items
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    first = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert first.returncode == 0, first.stderr[-3000:]
    site.items = SinaSite(local_server).items  # three newer items on top
    asked = len(site.server.requests)
    second = run_crawler(*_run_args(tmp_path, database_url, "-s", "LOG_LEVEL=INFO"), env=site.env())  # its INFO lines
    assert second.returncode == 0, second.stderr[-3000:]
    assert "new 3," in _summary(second.stdout)
    assert sorted(site.article_requests(asked)) == sorted(item["url"] for item in site.items[:3])
    assert "reaches the last finished sweep" in second.stderr


def test_paging_that_ends_above_the_watermark_warns_of_a_gap(tmp_path, local_server):
    site = SinaSite(local_server)
    site.page_size = 2
    everything = site.items
    site.items = everything[4:]
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    first = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert first.returncode == 0, first.stderr[-3000:]
    site.items = everything  # four newer items, two per page; one page allowed
    second = run_crawler(*_run_args(tmp_path, database_url, "-a", "max_pages=1", "-s", "LOG_LEVEL=INFO"), env=site.env())
    assert second.returncode == 0, second.stderr[-3000:]
    assert "new 2," in _summary(second.stdout)
    assert "roll channel 153:2516: paging ended before the last finished sweep" in second.stderr
    assert "'caixun/incremental/gap': 1" in second.stderr


def test_a_changed_mtime_fetches_that_article_again(tmp_path, local_server):
    site = SinaSite(local_server)
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    first = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert first.returncode == 0, first.stderr[-3000:]
    site.items[3]["mtime"] += 600  # edited ten minutes later
    asked = len(site.server.requests)
    second = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert second.returncode == 0, second.stderr[-3000:]
    assert "1 article pages fetched" in _summary(second.stdout)
    assert site.article_requests(asked) == [site.items[3]["url"]]
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        state = connection.execute(select(PageState).where(PageState.url == site.items[3]["url"])).one()
    engine.dispose()
    assert state.listed_at.timestamp() == site.items[3]["mtime"] and state.outcome == "unchanged"


# --- the lock ---------------------------------------------------------------------------------


def _overlapping_runs(tmp_path: Path, local_server, database_url: str) -> None:
    site = SinaSite(local_server, delay=0.5)
    first = start_crawler(*_run_args(tmp_path, database_url, *ONE_AT_A_TIME), env=site.env())
    try:
        _wait_for(lambda: _article_count(database_url) > 0, 60, "the first run to store an article")
        started = time.monotonic()
        second = run_crawler(*_run_args(tmp_path, database_url, "-s", "LOG_LEVEL=INFO"), env=site.env())
        took = time.monotonic() - started
        assert second.returncode == exitcodes.ALREADY_RUNNING, second.stderr[-3000:]
        assert "sina_finance: a run on sina is already running on" in second.stderr
        assert "Spider opened" not in second.stderr and not second.stdout
        assert took < 20, took  # at once: no waiting for the lock, no crawl
        assert first.poll() is None, "the first run should still be crawling"
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err[-3000:]
    assert f"new {len(LISTED)}," in _summary(out)
    assert len(site.article_requests()) == len(LISTED)  # the refused run fetched nothing
    # the lock is gone with its holder: the next run starts
    third = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert third.returncode == 0, third.stderr[-3000:]


def test_two_runs_started_together_on_sqlite(tmp_path, local_server):
    _overlapping_runs(tmp_path, local_server, f"sqlite:///{tmp_path / 'caixun.db'}")


def test_two_runs_started_together_on_postgresql(tmp_path, local_server, postgres_url):
    _overlapping_runs(tmp_path, local_server, postgres_url)


def test_the_lock_is_per_database(tmp_path, local_server):
    site = SinaSite(local_server, delay=0.5)
    first = start_crawler(*_run_args(tmp_path, f"sqlite:///{tmp_path / 'one.db'}", *ONE_AT_A_TIME), env=site.env())
    try:
        _wait_for(lambda: (tmp_path / "one.db.crawl-sina.lock").exists(), 60, "the first run's lock")
        site.delay = 0
        other = run_crawler(*_run_args(tmp_path / "b", f"sqlite:///{tmp_path / 'two.db'}"), env=site.env())
        assert other.returncode == 0, other.stderr[-3000:]
    finally:
        first.communicate(timeout=120)
    assert first.returncode == 0


# --- nothing lost -----------------------------------------------------------------------------


def test_sigkill_mid_run_then_a_rerun_stores_what_an_uninterrupted_run_does(tmp_path, local_server, uninterrupted):
    database_url = f"sqlite:///{tmp_path / 'killed.db'}"
    site = SinaSite(local_server, delay=0.4)
    victim = start_crawler(*_run_args(tmp_path, database_url, *ONE_AT_A_TIME), env=site.env())
    _wait_for(lambda: _article_count(database_url) >= 3, 60, "three stored articles")
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)
    stored_before = _article_count(database_url)
    assert 3 <= stored_before < len(LISTED), "the kill should land mid-run"

    site.delay = 0
    asked = len(site.server.requests)
    rerun = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = _summary(rerun.stdout)
    assert f"new {len(LISTED) - stored_before}," in summary
    # stored articles are not fetched again (the one in flight at the kill may be)
    assert len(site.article_requests(asked)) == len(LISTED) - stored_before
    assert _export(database_url) == uninterrupted


def cut_mid_run(crawl: subprocess.Popen, relay: TcpRelay, database_url: str) -> tuple[str, str]:
    """Cut the relay to the database once the crawl has stored three articles; the crawl's stdout and stderr."""
    try:
        _wait_for(lambda: _article_count(database_url) >= 3, 60, "three stored articles")
        relay.cut()
        return crawl.communicate(timeout=120)
    finally:
        if crawl.poll() is None:
            crawl.kill()


def test_database_outage_mid_run_spools_and_the_next_run_ingests(tmp_path, local_server, postgres_url, uninterrupted):
    from sqlalchemy.engine import make_url

    site = SinaSite(local_server, delay=0.4)
    direct = make_url(postgres_url)
    relay = TcpRelay((direct.host or "127.0.0.1", direct.port or 5432))
    through_relay = direct.set(port=relay.port).render_as_string(hide_password=False)
    args = _run_args(tmp_path, through_relay, *ONE_AT_A_TIME, "-s", "CAIXUN_DATABASE_RETRY_SECONDS=600")
    run = start_crawler(*args, env=site.env())
    out, err = cut_mid_run(run, relay, postgres_url)
    assert run.returncode == exitcodes.DATABASE, err[-3000:]
    assert "the database is unreachable" in err
    summary = _summary(out)
    spooled = int(re.search(r"spooled (\d+)", summary).group(1))
    assert spooled >= 1 and _article_count(postgres_url) + spooled >= len(LISTED)
    assert len(list((tmp_path / "spool").glob("spool-*.jsonl"))) == 1

    # while the database stays down, a run does nothing and says why
    site.delay = 0
    down = run_crawler(*args, env=site.env())
    assert down.returncode == exitcodes.DATABASE, down.stderr[-3000:]

    relay = TcpRelay((direct.host or "127.0.0.1", direct.port or 5432), port=relay.port)
    try:
        rerun = run_crawler(*args, "-s", "LOG_LEVEL=INFO", env=site.env())  # "ingested the spool" is INFO
    finally:
        relay.cut()
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # the cut run's end could not be recorded then: it was spooled with its pages, and is recorded now
    assert f"ingested the spool: {spooled} page(s) stored, 0 stored before, 1 run end(s) recorded" in rerun.stderr
    assert not list((tmp_path / "spool").glob("spool-*.jsonl"))
    engine = make_engine(postgres_url, create=False)
    with engine.connect() as connection:
        runs = connection.execute(select(CrawlRun).order_by(CrawlRun.id)).all()
    engine.dispose()
    assert [(run.finish_reason, run.exit_status) for run in runs] == [("finished", 5), ("finished", 0)]
    assert runs[0].finished_at is not None and runs[0].stats["caixun/storage/spooled"] == spooled
    exported = _export(postgres_url)
    assert [r["url"] for r in exported] == [r["url"] for r in uninterrupted]
    assert exported == uninterrupted


# --- coverage alarm ---------------------------------------------------------------------------


def test_coverage_below_thresholds_fails_the_run_and_names_fields_and_urls(tmp_path, local_server):
    database_url = f"sqlite:///{tmp_path / 'caixun.db'}"
    site = SinaSite(local_server)
    broken = [item["url"] for item in site.items[:2]]
    for url in broken:  # a "template change": two listed pages come back with no article in them
        site.bodies[url] = b"<html><head><title>x</title></head><body><div id='new-layout'></div></body></html>"
    result = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert result.returncode == exitcodes.COVERAGE, result.stderr[-3000:]
    message = next(line for line in result.stderr.splitlines() if "field coverage below thresholds" in line)
    assert "title" in message and "body" in message and broken[0] in message
    assert "published_at" in message  # 12/14 = 85.7% < 95%
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRun)).one()
    engine.dispose()
    assert run.exit_status == exitcodes.COVERAGE
    assert run.coverage["articles"] == len(LISTED)
    assert run.coverage["title"] == round((len(LISTED) - 2) / len(LISTED), 4)
    assert sorted(run.coverage["missing_samples"]["body"]) == sorted(broken)
    # the health report reads each site's share and the thresholds the run was judged by
    assert run.coverage["sites"]["sina"]["title"] == run.coverage["title"]
    assert run.coverage["thresholds"] == {"title": 0.99, "body": 0.99, "published_at": 0.95}


def test_bad_arguments_are_usage_errors(tmp_path):
    result = run_crawler("run", "sina_finance", "-a", "max_pages")
    assert result.returncode == exitcodes.USAGE
    assert "is not NAME=VALUE" in result.stderr
    result = run_crawler("run", "no_such_spider", "--database-url", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == exitcodes.USAGE
    assert "no spider 'no_such_spider'" in result.stderr


def test_an_outdated_schema_is_refused_with_the_upgrade_command(tmp_path):
    from storage.migrate import upgrade

    database_url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(database_url, create=False)
    upgrade(engine, "0003")
    engine.dispose()
    result = run_crawler(*_run_args(tmp_path, database_url, "-s", "LOG_LEVEL=INFO"))  # "Spider opened" is INFO
    assert result.returncode == exitcodes.FAILED, result.stderr[-3000:]
    assert "has schema revision 0003" in result.stderr and "python -m storage upgrade" in result.stderr
    assert "Spider opened" not in result.stderr

