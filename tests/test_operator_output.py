"""What `python -m crawler run` tells its operator: one name per site, a quiet no-op run, one line per shared
failure, exit 2 with what to create for a PostgreSQL database or role that does not exist.

Crawls are the real `python -m crawler run` replaying a WARC of recorded pages (tests/fixtures/) listed by a
feed, or against a port nothing listens on; databases are real SQLite files and a real PostgreSQL server.
"""

from __future__ import annotations

import json
import re
import socket
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler import exitcodes
from extractors.registry import rule_for
from storage import make_engine
from storage.models import CrawlRun
from tests.conftest import POSTGRES_ADMIN_URL
from tests.helpers import fixtures, html_headers, rss_feed, run_crawler, run_scrapy, run_storage, write_warc

FEED_URL = "https://feeds.example.org/mixed.xml"
T0 = datetime(2024, 5, 10, 6, 0, tzinfo=timezone.utc)
XML = [("Content-Type", "application/xml; charset=utf-8")]
SUMMARY = re.compile(r"^news run \d+(?: site \S+)?: ")

# recorded pages of hosts no rule handles (stored as generic), and of one site with a rule
UNRULED = [f for folder in ("xinhuanet", "people") for f in fixtures(folder, kind="article")
           if f.url.startswith("http") and rule_for(f.url) is None][:4]  # fmt: skip
RULED = [f for f in fixtures("thepaper", kind="article") if rule_for(f.url).classify_url(f.url) == "article"][:1]
PAGES = list({f.url: f for f in UNRULED + RULED}.values())


@pytest.fixture(scope="module")
def feed_warc(tmp_path_factory) -> Path:
    feed = rss_feed([(f.expected["title"], f.url, T0 - timedelta(minutes=n)) for n, f in enumerate(PAGES)])
    records = [(FEED_URL, 200, XML, feed), *((f.url, 200, html_headers(f.body), f.body) for f in PAGES)]
    return write_warc(tmp_path_factory.mktemp("warc") / "mixed.warc.gz", records)


def _run_feed(tmp_path: Path, warc: Path, database_url: str, *extra: str):
    return run_crawler(
        "run", "news", "-a", f"feeds={FEED_URL}", "--database-url", database_url,
        "-s", f"REPLAY_WARC={warc}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}", "-s", f"WARC_DIR={tmp_path / 'warc'}",
        "-s", "CAIXUN_COVERAGE_THRESHOLDS={}", *extra,
    )  # fmt: skip


def _output_lines(result) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


# --- one name per site: generic ---------------------------------------------------------------------


def test_pages_without_a_rule_are_counted_stored_and_found_as_generic(tmp_path, feed_warc):
    hosts = {re.match(r"https?://([^/]+)", f.url).group(1) for f in UNRULED}
    assert len(hosts) >= 2 and len(UNRULED) >= 3 and RULED  # two hosts without a rule at least
    database_url = f"sqlite:///{tmp_path / 'generic.db'}"
    result = _run_feed(tmp_path, feed_warc, database_url)
    assert result.returncode == exitcodes.OK, result.stderr[-3000:]
    lines = dict(re.findall(r"^news run \d+ site (\S+): (.*)$", result.stdout, re.MULTILINE))
    assert sorted(lines) == ["generic", "thepaper"], result.stdout
    assert lines["generic"].startswith(f"new {len(UNRULED)}, ")
    assert lines["thepaper"].startswith("new 1, ")
    assert not any(host in result.stdout for host in hosts | {"feeds.example.org"})

    found = run_storage("query", "--database-url", database_url, "--site", "generic", "--format", "jsonl")
    assert found.returncode == 0, found.stderr
    records = [json.loads(line) for line in found.stdout.splitlines()]
    assert sorted(r["url"] for r in records) == sorted(f.url for f in UNRULED)
    titles = {f.url: f.expected["title"] for f in UNRULED}
    assert all(r["title"] == titles[r["url"]] for r in records)

    with make_engine(database_url, create=False).connect() as connection:  # the crawl_runs record
        [(stats, coverage)] = connection.execute(select(CrawlRun.stats, CrawlRun.coverage)).all()
    assert sorted(coverage["sites"]) == ["generic", "thepaper"] and coverage["sites"]["generic"]["articles"] == len(UNRULED)
    assert stats["caixun/site/generic/storage/inserted"] == len(UNRULED)
    assert not [key for key in stats if key.startswith("caixun/site/") and key.split("/")[2] not in ("generic", "thepaper")]


# --- a quiet no-op run --------------------------------------------------------------------------------


def test_a_run_that_finds_nothing_new_prints_its_summary_line_and_nothing_else(tmp_path, feed_warc):
    database_url = f"sqlite:///{tmp_path / 'quiet.db'}"
    first = _run_feed(tmp_path, feed_warc, database_url)
    assert first.returncode == exitcodes.OK, first.stderr[-3000:]
    assert f"new {len(PAGES)}, " in first.stdout

    second = _run_feed(tmp_path, feed_warc, database_url)
    assert second.returncode == exitcodes.OK, second.stderr[-3000:]
    lines = _output_lines(second)
    assert lines and all(SUMMARY.match(line) for line in lines), lines
    assert re.match(r"^news run \d+: new 0, ", lines[-1]) and lines[-1].endswith("exit 0")
    assert " INFO: " not in second.stderr and "alembic" not in second.stderr

    told = _run_feed(tmp_path, feed_warc, database_url, "-s", "LOG_LEVEL=INFO")
    assert told.returncode == exitcodes.OK, told.stderr[-3000:]
    assert " INFO: " in told.stderr and "Spider closed (finished)" in told.stderr


# --- a failure many sources share -------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed at once: connecting is refused


def test_a_failure_shared_by_every_channel_is_said_once_with_the_count(tmp_path):
    result = run_crawler(
        "run", "sina_finance", "--database-url", f"sqlite:///{tmp_path / 'down.db'}",
        "-s", f"CAIXUN_ROLL_API_URL=http://127.0.0.1:{_closed_port()}/roll", "-s", "RETRY_TIMES=0",
        "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=False", "-s", 'DOWNLOAD_SLOTS={"sina": {"delay": 0}}',
        "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}", "-s", f"WARC_DIR={tmp_path / 'warc'}",
    )  # fmt: skip
    assert result.returncode == exitcodes.FAILED, result.stderr[-3000:]
    [summary] = [line for line in result.stdout.splitlines() if line.startswith("sina_finance run ")]
    assert summary.count("Connection refused") == 1, summary
    assert "10 channels (153:2516, 153:2517, 153:2518, …): " in summary
    assert len(summary) < 600, len(summary)
    unusable = [line for line in result.stderr.splitlines() if "unusable, paging stops" in line]
    assert len(unusable) == 1 and " ERROR: " in unusable[0], unusable  # the repeats are INFO lines


# --- a PostgreSQL database or role that does not exist ------------------------------------------------------


def _postgres_up() -> None:
    import psycopg

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        from tests.helpers import unavailable

        unavailable(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")


def _missing_urls() -> dict[str, tuple[str, str]]:
    """{kind: (URL, the name that does not exist)}: a database, then a role, on the test server."""
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    database = f"caixun_missing_{uuid.uuid4().hex[:10]}"
    role = f"caixun_nobody_{uuid.uuid4().hex[:10]}"
    scheme, _, rest = base.partition("://")
    host = rest.rpartition("@")[2]
    return {"database": (f"{base}/{database}", database), "role": (f"{scheme}://{role}:pw@{host}/postgres", role)}


@pytest.mark.parametrize("kind", ["database", "role"])
@pytest.mark.parametrize("command", ["run", "scrapy", "storage"])
def test_a_missing_database_or_role_is_exit_2_saying_what_to_create(tmp_path, kind, command):
    _postgres_up()
    url, name = _missing_urls()[kind]
    if command == "run":
        result = run_crawler("run", "news", "-a", "sites=thepaper", "--database-url", url,
                             "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}", "-s", f"WARC_DIR={tmp_path / 'warc'}")  # fmt: skip
    elif command == "scrapy":
        result = run_scrapy("crawl", "news", "-a", "sites=thepaper", "-s", f"DATABASE_URL={url}",
                            "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}")  # fmt: skip
    else:  # a reader
        result = run_storage("query", "--database-url", url)
    assert result.returncode == exitcodes.USAGE, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR: " in line or line.startswith("error: ")]
    assert len(errors) == 1, errors
    assert f'the PostgreSQL {kind} "{name}" does not exist' in errors[0]
    assert ("createdb" if kind == "database" else "createuser") in errors[0] and name in errors[0]
    assert "unreachable" not in result.stderr and ":pw@" not in result.stderr
