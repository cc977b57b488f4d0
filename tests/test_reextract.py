"""`python -m crawler reextract`: the current extractors over a real crawl's WARC archives, offline.

One real `scrapy crawl sina_finance` fetches over HTTP from a local server and
archives every response (WARC_DIR). Two are recorded Sina pages, reached through
the server acting as an HTTP proxy so the Sina rule applies (one served
gzip-encoded, so the archive holds it encoded); one is a generic page on
127.0.0.1. Each test works on its own copy of the database and the archives.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, true, update
from warcio.archiveiterator import ArchiveIterator

from extractors import Page, extract
from extractors.dates import CHINA_TZ
from storage import make_engine, session_factory
from storage.models import ArticleRevision, Fetch, StoredArticle
from tests.conftest import LocalServer
from tests.helpers import PROJECT_DIR, fixtures, run_scrapy, write_warc

_SINA = {f.name: f for f in fixtures("sina", kind="article")}
GZIPPED = _SINA["sina/finance_2016_forex_ifxsktkp9337164"]  # utf-8, served with Content-Encoding: gzip
PLAIN = _SINA["sina/finance_2005_chanye_244339_cleaneval"]  # gb2312, served as is
GENERIC_PATH = "/news/generic.html"
GENERIC_BODY = (
    "<html><head><title>本地测试</title></head><body><h1>本地测试标题</h1>"
    "<p>这是一篇本地测试文章的正文第一段，内容足够长，可以被抽取。</p><p>这是第二段，也有一些文字。</p></body></html>"
).encode()
ALL_UPDATED = "re-extracted 3: 3 updated, 0 unchanged, 0 not an article any more, 0 missing archive"


def _served(fixture) -> tuple[dict, bytes]:
    headers = {"Content-Type": f"text/html; charset={fixture.meta['declared_charset']}"}
    if fixture is GZIPPED:
        return {**headers, "Content-Encoding": "gzip"}, gzip.compress(fixture.body, mtime=0)
    return headers, fixture.body


def _respond(path: str) -> tuple[int, dict, bytes]:
    # through the proxy the path is the absolute URL; direct requests give the path alone
    for fixture in (GZIPPED, PLAIN):
        if path == fixture.url:
            return 200, *_served(fixture)
    if path.endswith(GENERIC_PATH):
        return 200, {"Content-Type": "text/html; charset=utf-8"}, GENERIC_BODY
    return 404, {}, b""  # robots.txt and anything else


@dataclass
class Crawl:
    server: LocalServer
    database: Path
    warc_dir: Path

    @property
    def generic_url(self) -> str:
        return self.server.base_url + GENERIC_PATH


def _crawl(server: LocalServer, database_url: str, warc_dir: Path) -> None:
    result = run_scrapy(
        "crawl", "sina_finance", "-a", f"urls={GZIPPED.url},{PLAIN.url},{server.base_url}{GENERIC_PATH}",
        "-s", f"WARC_DIR={warc_dir}", "-s", "CAIXUN_WARC_MAX_BYTES=1",  # one archive file per response
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"DATABASE_URL={database_url}",
        env={"http_proxy": server.base_url, "HTTP_PROXY": server.base_url, "no_proxy": "", "NO_PROXY": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Crawl:
    folder = tmp_path_factory.mktemp("crawl")
    with LocalServer(_respond) as server:
        _crawl(server, f"sqlite:///{folder / 'caixun.db'}", folder / "warc")
        yield Crawl(server, folder / "caixun.db", folder / "warc")


@dataclass
class Copy:
    url: str
    warc_dir: Path


@pytest.fixture
def copy(crawl, tmp_path) -> Copy:
    """The crawl's database and archives, for one test to change."""
    source, target = sqlite3.connect(crawl.database), sqlite3.connect(tmp_path / "caixun.db")
    source.backup(target)
    source.close()
    # the copy's fetches point at the copied archives, as after moving a store with its archives
    target.execute("UPDATE fetches SET warc_file = replace(warc_file, ?, ?)", (str(crawl.warc_dir), str(tmp_path / "warc")))
    target.commit()
    target.close()
    shutil.copytree(crawl.warc_dir, tmp_path / "warc")
    return Copy(f"sqlite:///{tmp_path / 'caixun.db'}", tmp_path / "warc")


def reextract(database_url: str, warc_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command = [sys.executable, "-m", "crawler", "reextract", "--no-progress", "--database-url", database_url,
               "--warc-dir", str(warc_dir), *args]  # fmt: skip
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)


def _articles(url: str) -> dict[str, StoredArticle]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return {a.url: a for a in session.scalars(select(StoredArticle))}
    finally:
        engine.dispose()


def _change(url: str, *changes) -> None:
    """Apply UPDATE statements and add Fetch rows, in one transaction."""
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            for change in changes:
                if isinstance(change, Fetch):
                    session.add(change)
                else:
                    session.execute(change)
    finally:
        engine.dispose()


def _revisions(url: str) -> list[tuple[int, str]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.execute(select(ArticleRevision.article_id, ArticleRevision.body)).all()
    finally:
        engine.dispose()


def _fetch_of(url: str, page_url: str) -> Fetch:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalars(select(Fetch).where(Fetch.final_url == page_url, Fetch.status == 200)).one()
    finally:
        engine.dispose()


def _fetch_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Fetch)).scalar_one()
    finally:
        engine.dispose()


def _old_bodies(*urls: str):
    condition = StoredArticle.url.in_(urls) if urls else true()
    return update(StoredArticle).where(condition).values(body="old body")


def test_the_crawl_archived_a_gzip_encoded_body(crawl):
    fetch = _fetch_of(f"sqlite:///{crawl.database}", GZIPPED.url)
    with (crawl.warc_dir / fetch.warc_file).open("rb") as stream:
        stream.seek(fetch.warc_offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.http_headers.get_header("Content-Encoding") == "gzip"
        assert record.raw_stream.read() == gzip.compress(GZIPPED.body, mtime=0)  # as received, still encoded


def test_reextract_restores_what_extraction_gives_and_keeps_the_old_version(crawl, copy):
    crawled = _articles(copy.url)
    pages = {GZIPPED.url: GZIPPED.body, PLAIN.url: PLAIN.body, crawl.generic_url: GENERIC_BODY}
    content_types = {GZIPPED.url: "utf-8", PLAIN.url: "gb2312", crawl.generic_url: "utf-8"}
    for page_url, body in pages.items():
        headers = {"Content-Type": f"text/html; charset={content_types[page_url]}"}
        assert crawled[page_url].body == extract(Page(url=page_url, body=body, headers=headers)).body
    _change(copy.url, _old_bodies())
    fetches, requests = _fetch_count(copy.url), len(crawl.server.requests)

    result = reextract(copy.url, copy.warc_dir)

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == ALL_UPDATED
    assert len(crawl.server.requests) == requests, "reextract must not touch the network"
    assert _fetch_count(copy.url) == fetches
    restored = _articles(copy.url)
    for page_url, article in restored.items():
        assert (article.title, article.body) == (crawled[page_url].title, crawled[page_url].body)
        assert article.last_fetched_at == crawled[page_url].last_fetched_at  # a re-extraction is not a fetch
        assert article.updated_at > crawled[page_url].updated_at
    assert sorted(_revisions(copy.url)) == [(a.id, "old body") for a in sorted(restored.values(), key=lambda a: a.id)]

    again = reextract(copy.url, copy.warc_dir)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.strip() == "re-extracted 3: 0 updated, 3 unchanged, 0 not an article any more, 0 missing archive"
    assert len(_revisions(copy.url)) == 3
    assert len(crawl.server.requests) == requests


def test_site_and_since_select_the_articles(crawl, copy):
    _change(copy.url, _old_bodies())
    sina = reextract(copy.url, copy.warc_dir, "--site", "sina")
    assert sina.returncode == 0, sina.stderr[-3000:]
    assert sina.stdout.strip() == "re-extracted 2: 2 updated, 0 unchanged, 0 not an article any more, 0 missing archive"
    assert {url: a.body == "old body" for url, a in _articles(copy.url).items()} == {
        GZIPPED.url: False, PLAIN.url: False, crawl.generic_url: True
    }

    fetched_day = _fetch_of(copy.url, crawl.generic_url).fetched_at.astimezone(CHINA_TZ).date()
    later = reextract(copy.url, copy.warc_dir, "--since", str(fetched_day + timedelta(days=1)))
    assert later.returncode == 0, later.stderr[-3000:]
    assert later.stdout.strip() == "re-extracted 0: 0 updated, 0 unchanged, 0 not an article any more, 0 missing archive"
    assert _articles(copy.url)[crawl.generic_url].body == "old body"

    that_day = reextract(copy.url, copy.warc_dir, "--since", str(fetched_day), "--site", "generic")
    assert that_day.stdout.strip() == "re-extracted 1: 1 updated, 0 unchanged, 0 not an article any more, 0 missing archive"
    assert _articles(copy.url)[crawl.generic_url].body != "old body"


def test_missing_archive_and_pages_no_longer_articles_are_counted(crawl, copy, tmp_path):
    gone = copy.warc_dir / _fetch_of(copy.url, GZIPPED.url).warc_file
    gone.unlink()
    # a later archived fetch of the generic page that today's extractor finds no article in
    empty = write_warc(copy.warc_dir / "later.warc.gz", [(crawl.generic_url, 200, [("Content-Type", "text/html")], b"")])
    generic = _articles(copy.url)[crawl.generic_url]
    later_fetch = Fetch(
        article_id=generic.id, requested_url=crawl.generic_url, final_url=crawl.generic_url, status=200,
        body_sha256="0" * 64, body_bytes=0, warc_file=empty.name, warc_offset=0, outcome="unchanged",
        fetched_at=datetime.now(timezone.utc),
    )  # fmt: skip
    removed_at = datetime(2026, 1, 2, tzinfo=timezone.utc)
    _change(
        copy.url, later_fetch, _old_bodies(),
        update(StoredArticle).where(StoredArticle.url == PLAIN.url).values(removed_at=removed_at, removed_status=404),
    )  # fmt: skip

    result = reextract(copy.url, copy.warc_dir)

    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stdout.strip() == "re-extracted 3: 1 updated, 0 unchanged, 1 not an article any more, 1 missing archive"
    assert "1 archive(s) missing or unreadable" in result.stderr and gone.name in result.stderr
    articles = _articles(copy.url)
    assert articles[PLAIN.url].body != "old body"  # the others are still re-extracted
    assert (articles[PLAIN.url].removed_at, articles[PLAIN.url].removed_status) == (removed_at, 404)
    assert articles[GZIPPED.url].body == "old body"
    assert articles[crawl.generic_url].body == "old body"  # not an article any more: left as it was


def test_a_version_from_a_newer_unarchived_fetch_is_not_replaced(crawl, copy):
    plain = _articles(copy.url)[PLAIN.url]
    newer = Fetch(
        article_id=plain.id, requested_url=PLAIN.url, final_url=PLAIN.url, status=200, body_sha256="0" * 64,
        body_bytes=0, outcome="updated", fetched_at=datetime.now(timezone.utc),
    )  # fmt: skip
    _change(copy.url, newer, _old_bodies(PLAIN.url))
    result = reextract(copy.url, copy.warc_dir, "--site", "sina")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == (
        "re-extracted 2: 0 updated, 1 unchanged, 0 not an article any more, 0 missing archive, "
        "1 skipped (stored from a newer unarchived fetch)"
    )
    assert _articles(copy.url)[PLAIN.url].body == "old body"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--site", "nosuch"], 2, "argument --site: unknown site 'nosuch'; known:"),
        (["--since", "2024-13-01"], 2, "argument --since: expected a date as YYYY-MM-DD, got '2024-13-01'"),
        (["--since", "0001-01-01"], 2, "argument --since: date 0001-01-01 is out of range: give a day from 1900-01-01"),
        ([], 1, "no database at"),
    ],
)
def test_bad_input_is_refused_clearly(tmp_path, args, code, message):
    result = reextract(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path, *args)
    assert result.returncode == code
    assert message in result.stderr
    assert not (tmp_path / "absent.db").exists()


def test_reextract_on_postgresql(crawl, postgres_url, tmp_path):
    _crawl(crawl.server, postgres_url, tmp_path / "warc")
    _change(postgres_url, _old_bodies())
    requests = len(crawl.server.requests)
    result = reextract(postgres_url, tmp_path / "warc")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == ALL_UPDATED
    assert len(crawl.server.requests) == requests
    assert all(a.body != "old body" for a in _articles(postgres_url).values())
    assert sorted(body for _, body in _revisions(postgres_url)) == ["old body"] * 3
