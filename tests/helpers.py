"""Shared test helpers: fixture pages, WARC building, running the real `scrapy crawl`."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from email.utils import format_datetime
from html import escape
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HOLDOUT = Path(__file__).resolve().parent / "holdout"  # the test split: never read while writing rules
REQUIRE_SERVICES = os.environ.get("CAIXUN_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip a test whose service or data is missing; under CAIXUN_REQUIRE_SERVICES=1 (CI) fail it instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CAIXUN_REQUIRE_SERVICES=1: services are required here)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Fixture:
    """A recorded page (bytes as captured) and its sidecar JSON."""

    path: Path
    meta: dict

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name.removesuffix('.html.gz')}"

    @property
    def url(self) -> str:
        return self.meta["url"]

    @property
    def body(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())

    @property
    def expected(self) -> dict:
        return self.meta.get("expected", {})


def _first_difference(expected: str, actual: str) -> str:
    expected_lines, actual_lines = expected.split("\n"), actual.split("\n")
    for number, (want, got) in enumerate(zip(expected_lines, actual_lines), 1):
        if want != got:
            return f"line {number}: expected {want[:80]!r}, got {got[:80]!r}"
    if len(expected_lines) != len(actual_lines):
        extra = (actual_lines if len(actual_lines) > len(expected_lines) else expected_lines)[
            min(len(actual_lines), len(expected_lines))
        ]
        return f"{len(expected_lines)} lines expected, {len(actual_lines)} got; first extra: {extra[:80]!r}"
    return "differs"


def parse_time(text: str | None) -> datetime | date | None:
    """An expected or extracted published_at: a date for "2005-08-16", else an aware datetime (naive stays naive)."""
    if not text:
        return None
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


def time_difference(got: str | None, want: str | None) -> str | None:
    """Why an extracted published_at differs from the expected one, or None when they agree.

    Agreement: the same instant and the same UTC offset ("…08:00+00:00" is not "…08:00+08:00",
    nor is "…16:00+08:00"); a date-only expected value asks for that day, in the extracted offset.
    """
    want_time, got_time = parse_time(want), parse_time(got)
    if want_time is None or got_time is None:
        return None if want_time is got_time else "one is missing"
    if not isinstance(got_time, datetime):
        return None if got_time == want_time else "another day"
    if not isinstance(want_time, datetime):
        return None if got_time.date() == want_time else "another day"
    if got_time.tzinfo is None or want_time.tzinfo is None:
        return "no UTC offset" if got_time.tzinfo is None else "expected value has no offset"
    if got_time != want_time:
        return "another instant"
    if got_time.utcoffset() != want_time.utcoffset():
        return "another UTC offset"
    return None


def compare_article(article, expected: dict, *, skip: frozenset[str] = frozenset(), image_count_only: bool = False) -> list[str]:
    """Field-by-field differences between an Article and a fixture's expected object.

    `skip`: fields not compared here (the caller scores them its own way). With
    image_count_only, images are compared by number only (the generic path's
    URLs and captions are not held to the site rules' exactness).
    """
    actual = article.to_dict()
    differences = []
    for field, want in sorted(expected.items()):
        if field in skip:
            continue
        got = actual.get(field)
        if field == "published_at":
            if why := time_difference(got, want):
                differences.append(f"published_at: expected {want!r}, got {got!r} ({why})")
            continue
        if field == "images" and image_count_only:
            got, want = len(got or []), len(want or [])
        if got == want:
            continue
        if field == "body":
            differences.append(f"body: {_first_difference(want or '', got or '')}")
        else:
            differences.append(f"{field}: expected {want!r}, got {got!r}")
    return differences


def page_text(body: bytes) -> str:
    """The page's visible text (scripts and styles left out), white space collapsed to single spaces."""
    import lxml.html

    from extractors.decoding import decode_html

    root = lxml.html.document_fromstring(decode_html(body).text)
    for element in list(root.iter("script", "style", lxml.html.etree.Comment)):
        element.drop_tree()  # keeps the tail: the text after a script is still the page's
    return collapse_space(root.text_content())


def collapse_space(text: str) -> str:
    """Runs of white space (U+3000 and no-break space included) as one space."""
    return " ".join(text.split())


def fixtures(site_prefix: str = "", kind: str | None = None, root: Path = FIXTURES) -> list[Fixture]:
    found = []
    for path in sorted(root.glob(f"{site_prefix}*/*.html.gz")):
        sidecar = path.with_name(path.name.removesuffix(".html.gz") + ".json")
        if not sidecar.exists():  # test_fixtures checks that none is missing
            continue
        meta = json.loads(sidecar.read_text("utf-8"))
        meta.setdefault("site", path.parent.name)
        if kind is None or meta.get("kind") == kind:
            found.append(Fixture(path, meta))
    return found


def write_warc(path: Path, responses: list[tuple[str, int, list[tuple[str, str]], bytes]]) -> Path:
    """A gzip WARC of `response` records: (url, status, headers, body) each."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, status, headers, body in responses:
            http_headers = StatusAndHeaders(f"{status} OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http_headers)
            writer.write_record(record)
    return path


def rss_feed(items: list[tuple[str, str, datetime]]) -> bytes:
    """An RSS 2.0 feed (the channel "财经" of feeds.example.org) of (title, link, pubDate) items, in that order."""
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for title, link, published in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>财经</title>'
        f"<link>https://feeds.example.org/</link>{entries}</channel></rss>"
    ).encode()


def html_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]


def roll_api_body(items: list[dict], code: int = 0) -> bytes:
    return json.dumps({"result": {"status": {"code": code, "msg": ""}, "data": items}}).encode()


def run_scrapy(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The real `scrapy crawl …` in a subprocess, from the project folder."""
    return _run_module("scrapy", args, env, timeout)


def _crawl_env(env: dict | None) -> dict:
    # a developer's own DATABASE_URL or proxy must never see test traffic
    skip = {"DATABASE_URL", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"}
    full_env = {k: v for k, v in os.environ.items() if k not in skip}
    full_env.update(env or {})
    return full_env


def run_crawler(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The real `python -m crawler …` (run, reextract) in a subprocess, from the project folder."""
    return _run_module("crawler", args, env, timeout)


def _run_module(module: str, args: tuple[str, ...], env: dict | None, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_DIR,
        env=_crawl_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_crawler(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`python -m crawler …` started in the background (for overlap and kill tests)."""
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", *args],
        cwd=PROJECT_DIR,
        env=_crawl_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def proxy_env(server) -> dict:
    """Send the crawl's plain-http requests through a LocalServer acting as the proxy: it then
    sees absolute URLs (http://finance.sina.com.cn/...) and answers for every host."""
    return {"http_proxy": server.base_url}


# the roll API over plain http, so that a LocalServer proxy can answer it
PROXIED_ROLL_API = "http://feed.mix.sina.com.cn/api/roll/get"


def run_storage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "storage", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )


def insert_old_schema_article(engine, url: str, *, site: str = "sina", title: str = "标题", body: str = "正文内容") -> None:
    """An article row as the first releases wrote it (revisions 0001–0003 share these columns), in plain SQL:
    today's models have columns an old schema lacks."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    now = datetime(2026, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO articles (canonical_url, url, site, title, body, authors, images, symbols, extractor,"
                " warnings, fetched_at, first_seen_at, updated_at) VALUES (:u, :u, :site, :title, :body, '[]', '[]',"
                " '[]', 'sina/v2017@1', '[]', :t, :t, :t)"
            ),
            {"u": url, "site": site, "title": title, "body": body, "t": now},
        )
