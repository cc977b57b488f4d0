"""Faults an unattended crawl meets, each with a defined outcome, on real sockets.

Every fault is served by a LocalServer acting as the crawl's HTTP proxy, so the
crawl asks for real Sina URLs. Each test checks what is stored (fetches and
page_states rows, articles), what is counted (crawl_runs.stats), what is logged,
and that the crawl goes on (a good article of the same crawl is stored, exit code
from crawler.exitcodes). Faults are grouped into few crawls (module fixtures) to
keep the file fast; the tests then read their part of the result.
"""

from __future__ import annotations

import gzip
import json
import random
import struct
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import make_engine
from storage.models import ArticleRevision, CrawlRun, Fetch, PageState, StoredArticle
from tests.conftest import Delay, Drop, LocalServer, Truncated, redirect
from tests.helpers import (
    PROXIED_ROLL_API,
    fixtures,
    proxy_env,
    roll_api_body,
    run_crawler,
    run_scrapy,
    run_storage,
)

FIXTURES = {f.url.rsplit("/", 1)[-1]: f for f in fixtures("sina", kind="article")}
# each served page is a different fixture: pages with a rel=canonical link are stored under it
GOOD = FIXTURES["doc-ifxeuwwr9169891.shtml"]  # UTF-8, 87 KB, site rule sina/v2017
HALVED = FIXTURES["doc-iicezzrq4076655.shtml"]  # 131 KB: cut in half, under the 100 kB DOWNLOAD_MAXSIZE
REDIRECTED = FIXTURES["doc-ifxeuwwr9250746.shtml"]
GONE_LATER = {404: FIXTURES["doc-ihkmwytp6913603.shtml"], 410: FIXTURES["doc-ifxeuwwr9107579.shtml"]}
LATE_GOOD = FIXTURES["article_3057540037_b63e5bc502000bg5u.html"]  # 18 KB
GBK_UTF8_META = FIXTURES["244339.shtml"]  # gb2312 declared in a <meta>
GBK_NO_CHARSET = FIXTURES["031868306.html"]
assert b"charset=gb2312" in GBK_UTF8_META.body and b"charset=gb2312" in GBK_NO_CHARSET.body

HTML = {"Content-Type": "text/html"}
UTF8 = {"Content-Type": "text/html; charset=utf-8"}


def sina(n: int) -> str:
    """An article URL Sina's rule accepts (doc-i + 7 word characters + 7 digits)."""
    return f"http://finance.sina.com.cn/roll/2026-11-29/doc-inaaaaaa{n:07d}.shtml"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0\xff\0\0")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


_random = random.Random(20261129)
RANDOM_WITH_NULS = bytes(_random.randrange(256) for _ in range(4000))
RANDOM_NO_NULS = bytes(_random.randrange(1, 256) for _ in range(4000))
assert b"\0" in RANDOM_WITH_NULS[:1024] and b"\0" not in RANDOM_NO_NULS

MALFORMED = (
    "<html><head><title>央行开展逆回购操作_新浪财经</title><body><div class=x><p>央行今日开展"
    "<b>逆回购操作<i>一千亿元，<p>市场流动性保持合理充裕。<table><tr><td>未闭合<<<>>>&#xZZZ;"
    "</div></p></span></table>\x01\x02 <p>这是第二段正文，说明情况。"
).encode()
MALFORMED_EMPTY = b"<html><<<>>><head></body><div><table><tr><td></div></b></i></table><p></p>\x7f"


@contextmanager
def database(url: str):
    engine = make_engine(url, create=False)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def last_run(url: str) -> CrawlRun:
    with database(url) as session:
        return session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()


def fetches_for(url: str, requested: str) -> list[Fetch]:
    with database(url) as session:
        return list(session.scalars(select(Fetch).where(Fetch.requested_url == requested).order_by(Fetch.id)))


def page_state(url: str, page: str) -> PageState | None:
    with database(url) as session:
        return session.get(PageState, page)


def article_at(url: str, page: str) -> StoredArticle | None:
    """The article the page's state points to."""
    with database(url) as session:
        state = session.get(PageState, page)
        return session.get(StoredArticle, state.article_id) if state and state.article_id else None


def header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def crawl_settings(database_url: str, *extra: str) -> list[str]:
    settings = [
        f"DATABASE_URL={database_url}", "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8", "CAIXUN_COVERAGE_THRESHOLDS={}", *extra,
    ]  # fmt: skip
    return [arg for setting in settings for arg in ("-s", setting)]


def no_robots(respond):
    def answer(path: str, headers: dict):
        if path.endswith("/robots.txt"):
            return 404, {}, b""
        return respond(path, headers)

    return answer


# --- per-page faults: two `scrapy crawl -a urls=…` on one database ----------------------------------------------

# crawl 1: DOWNLOAD_MAXSIZE=100000, REDIRECT_MAX_TIMES=5, RETRY_TIMES=2 (the project's)
GOOD_URL = sina(1)
MALFORMED_URL, MALFORMED_EMPTY_URL, HALVED_URL = sina(2), sina(3), sina(4)
NOT_ARTICLES = {  # url: (body served as text/html, start of fetches.error)
    sina(10): (b"", "empty body"),
    sina(11): (png(), "binary body (NUL bytes), not a text page"),
    sina(12): (gzip.compress(GOOD.body, mtime=0), "binary body (NUL bytes), not a text page"),  # no Content-Encoding header
    sina(13): (RANDOM_WITH_NULS, "binary body (NUL bytes), not a text page"),
    sina(14): (RANDOM_NO_NULS, "not HTML"),  # decodes to text, but lxml finds no document in it
}
NOT_ARTICLE_IDS = ["empty", "png", "gzip", "random-with-nuls", "random-without-nuls"]
BIG_PAGE = b"<html><body>" + b"x" * 300_000 + b"</body></html>"
TOO_LARGE = {  # url: (the page's headers, what fetches.error says)
    sina(19): (HTML, "larger than download max size (100000)"),  # Content-Length gives it away: no body read
    sina(20): ({**HTML, "Content-Length": None}, "the body grew larger than DOWNLOAD_MAXSIZE"),  # cut at 100 kB
}
FAILURES = {  # url: (answer, reason, status stored, requests the server sees)
    **{url: ((200, headers, BIG_PAGE), "too_large", None, 1) for url, (headers, _) in TOO_LARGE.items()},
    sina(21): ((500, HTML, b"error"), "http_500", 500, 3),
    sina(22): ((503, HTML, b"busy"), "http_503", 503, 3),
    sina(23): (Drop(reset=True), "connection_lost", None, 3),
    sina(24): (Drop(reset=False), "connection_lost", None, 3),
    sina(25): (Truncated(200, UTF8, GOOD.body, send=len(GOOD.body) // 2), "data_loss", None, 3),
}
FAILURE_IDS = [
    "too-large", "too-large-streamed", "http-500", "http-503", "reset", "closed-unanswered", "half-content-length",
]  # fmt: skip
GBK_UTF8_META_URL, GBK_NO_CHARSET_URL = sina(30), sina(31)
REDIRECT_URL, REDIRECT_TARGET = sina(40), sina(41)
LOOP_A, LOOP_B = sina(42), sina(43)
NEVER_STORED_404 = sina(44)
REMOVED = {404: sina(50), 410: sina(51)}
# crawl 2: DOWNLOAD_TIMEOUT=1, RETRY_TIMES=1
SLOW_URL, LATE_GOOD_URL = sina(60), sina(61)

FIRST_CRAWL = {
    GOOD_URL: (200, UTF8, GOOD.body),
    MALFORMED_URL: (200, UTF8, MALFORMED),
    MALFORMED_EMPTY_URL: (200, UTF8, MALFORMED_EMPTY),
    HALVED_URL: (200, UTF8, HALVED.body[: len(HALVED.body) // 2]),
    **{url: (200, HTML, body) for url, (body, _) in NOT_ARTICLES.items()},
    **{url: answer for url, (answer, *_) in FAILURES.items()},
    # GBK bytes under a page and a header that both say UTF-8
    GBK_UTF8_META_URL: (200, UTF8, GBK_UTF8_META.body.replace(b"charset=gb2312", b"charset=utf-8")),
    # GBK bytes, no charset in the header or the page
    GBK_NO_CHARSET_URL: (200, HTML, GBK_NO_CHARSET.body.replace(b"; charset=gb2312", b"")),
    REDIRECT_URL: redirect(REDIRECT_TARGET),
    REDIRECT_TARGET: (200, UTF8, REDIRECTED.body),
    LOOP_A: redirect(LOOP_B, 302),
    LOOP_B: redirect(LOOP_A, 301),
    NEVER_STORED_404: (404, HTML, b"not found"),
    **{url: (200, UTF8, GONE_LATER[status].body) for status, url in REMOVED.items()},
}
FIRST_URLS = [url for url in FIRST_CRAWL if url not in (REDIRECT_TARGET, LOOP_B)]
SECOND_CRAWL = {
    **{url: (status, HTML, b"gone") for status, url in REMOVED.items()},
    SLOW_URL: Delay(3, (200, UTF8, GOOD.body)),
    LATE_GOOD_URL: (200, UTF8, LATE_GOOD.body),
}


@dataclass
class Crawl:
    database: str
    result: CompletedProcess
    hits: Counter
    stats: dict = field(default_factory=dict)


@dataclass
class PageFaults:
    first: Crawl
    second: Crawl
    export: list[dict]


def _crawl(pages: dict, urls: list[str], database_url: str, *settings: str) -> Crawl:
    with LocalServer(no_robots(lambda path, headers: pages.get(path, (404, {}, b"")))) as server:
        result = run_scrapy(
            "crawl", "sina_finance", "-a", "urls=" + ",".join(urls),
            *crawl_settings(database_url, "CAIXUN_RETRY_FAILED_RUNS=0", *settings),  # no retries of earlier failures
            env=proxy_env(server), timeout=120,
        )  # fmt: skip
    return Crawl(database_url, result, Counter(server.requests), last_run(database_url).stats)


@pytest.fixture(scope="module")
def page_faults(tmp_path_factory) -> PageFaults:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'faults.db'}"
    first = _crawl(FIRST_CRAWL, FIRST_URLS, database_url, "DOWNLOAD_MAXSIZE=100000", "REDIRECT_MAX_TIMES=5")
    assert first.result.returncode == 0, first.result.stderr[-3000:]
    second = _crawl(SECOND_CRAWL, list(SECOND_CRAWL), database_url, "DOWNLOAD_TIMEOUT=1", "RETRY_TIMES=1")
    assert second.result.returncode == 0, second.result.stderr[-3000:]
    exported = run_storage("export", "--database-url", database_url)
    assert exported.returncode == 0, exported.stderr
    return PageFaults(first, second, [json.loads(line) for line in exported.stdout.splitlines()])


def test_the_crawls_go_on_past_every_fault(page_faults):
    for crawl, good, fixture in ((page_faults.first, GOOD_URL, GOOD), (page_faults.second, LATE_GOOD_URL, LATE_GOOD)):
        assert crawl.result.returncode == 0  # failed fetches are counted, they do not fail the run
        article = article_at(crawl.database, good)
        assert article is not None and article.title == fixture.expected["title"]
        assert crawl.stats["finish_reason"] == "finished" and "Traceback" not in crawl.result.stderr
    assert last_run(page_faults.first.database).exit_status == 0


def test_malformed_html_with_a_body_is_stored(page_faults):
    # lxml repairs the tags; the text, garbage characters included, is the body
    article = article_at(page_faults.first.database, MALFORMED_URL)
    assert article is not None
    assert article.title == "央行开展逆回购操作"
    assert "市场流动性保持合理充裕" in article.body and "这是第二段正文" in article.body
    assert page_state(page_faults.first.database, MALFORMED_URL).outcome == "inserted"


def test_malformed_html_without_text_is_not_an_article(page_faults):
    [fetch] = fetches_for(page_faults.first.database, MALFORMED_EMPTY_URL)
    assert fetch.outcome == "not_article" and "no article body" in fetch.error


def test_a_page_cut_in_half_keeps_its_title_and_the_first_part_of_its_body(page_faults):
    article = article_at(page_faults.first.database, HALVED_URL)
    expected = HALVED.expected["body"]
    assert article is not None and article.title == HALVED.expected["title"]
    # what arrived is there, from the first paragraph on; what did not, is not
    assert article.body.split("\n")[0] == expected.split("\n")[0]
    assert 0.2 * len(expected) < len(article.body) < len(expected)


@pytest.mark.parametrize("url", NOT_ARTICLES, ids=NOT_ARTICLE_IDS)
def test_empty_and_binary_bodies_are_not_articles(page_faults, url):
    crawl = page_faults.first
    [fetch] = fetches_for(crawl.database, url)
    assert (fetch.status, fetch.outcome) == (200, "not_article")
    assert fetch.error.startswith(NOT_ARTICLES[url][1])
    state = page_state(crawl.database, url)
    assert (state.outcome, state.article_id, state.error) == ("not_article", None, fetch.error)
    assert f"Dropped: not_article: {url} ({fetch.error})" in crawl.result.stderr


def test_not_articles_are_counted(page_faults):
    not_articles = len(NOT_ARTICLES) + 1  # and the malformed page without text
    assert page_faults.first.stats["caixun/storage/not_article"] == not_articles


@pytest.mark.parametrize("url", FAILURES, ids=FAILURE_IDS)
def test_failed_fetches_are_stored_with_their_reason(page_faults, url):
    crawl = page_faults.first
    _, reason, status, requests = FAILURES[url]
    assert crawl.hits[url] == requests  # RETRY_TIMES=2: two more tries, except for a page too large
    [fetch] = fetches_for(crawl.database, url)
    assert (fetch.outcome, fetch.status, fetch.article_id) == ("failed", status, None)
    assert fetch.error and not fetch.error.endswith(": ")
    state = page_state(crawl.database, url)
    assert (state.outcome, state.failures, state.status, state.error) == ("failed", 1, status, fetch.error)
    assert f"fetch failed: {url}: {fetch.error}" in crawl.result.stderr


def test_failed_fetches_are_counted_by_reason(page_faults):
    stats = page_faults.first.stats
    expected = Counter(reason for _, reason, _, _ in FAILURES.values()) + Counter(too_many_redirects=1)
    prefix = "caixun/fetch/failed/"
    assert {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)} == expected
    assert stats["caixun/fetch/failed"] == sum(expected.values())


@pytest.mark.parametrize("url", TOO_LARGE, ids=["content-length", "no-content-length"])
def test_a_page_over_download_maxsize_says_so(page_faults, url):
    [fetch] = fetches_for(page_faults.first.database, url)
    assert fetch.error.startswith("DownloadCancelledError: ") and TOO_LARGE[url][1] in fetch.error


@pytest.mark.parametrize(
    ("url", "fixture"), [(GBK_UTF8_META_URL, GBK_UTF8_META), (GBK_NO_CHARSET_URL, GBK_NO_CHARSET)],
    ids=["gbk-declared-utf8", "gbk-undeclared"],
)  # fmt: skip
def test_gbk_pages_are_read_as_gbk_whatever_they_declare(page_faults, url, fixture):
    article = article_at(page_faults.first.database, url)
    assert article is not None
    assert article.title == fixture.expected["title"]
    assert article.body == fixture.expected["body"]
    assert "lossy" not in " ".join(article.warnings)


def test_a_redirected_article_is_stored_under_the_final_url(page_faults):
    database = page_faults.first.database
    [fetch] = fetches_for(database, REDIRECT_URL)
    assert (fetch.requested_url, fetch.final_url, fetch.status, fetch.outcome) == (
        REDIRECT_URL, REDIRECT_TARGET, 200, "inserted",
    )  # fmt: skip
    article = article_at(database, REDIRECT_URL)
    assert article.url == REDIRECT_TARGET and article.title == REDIRECTED.expected["title"]
    assert page_state(database, REDIRECT_TARGET) is None  # the state is kept under the URL asked for


def test_a_redirect_loop_fails_after_a_bounded_number_of_requests(page_faults):
    crawl = page_faults.first
    # REDIRECT_MAX_TIMES=5: six requests in all (one of them passes the duplicate filter again)
    assert crawl.hits[LOOP_A] + crawl.hits[LOOP_B] == 6
    [fetch] = fetches_for(crawl.database, LOOP_A)
    assert (fetch.outcome, fetch.status, fetch.error) == ("failed", None, "IgnoreRequest: max redirections reached")
    assert page_state(crawl.database, LOOP_A).outcome == "failed"
    assert page_state(crawl.database, LOOP_B) is None


def test_a_404_for_a_page_never_stored_is_gone(page_faults):
    [fetch] = fetches_for(page_faults.first.database, NEVER_STORED_404)
    assert (fetch.status, fetch.outcome, fetch.error, fetch.article_id) == (404, "gone", "HTTP 404", None)
    assert page_state(page_faults.first.database, NEVER_STORED_404).outcome == "gone"
    assert page_faults.first.stats["caixun/storage/gone"] == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_stored_article_that_later_answers_404_or_410_is_marked_removed(page_faults, status):
    database, url = page_faults.second.database, REMOVED[status]
    first, second = fetches_for(database, url)
    assert (first.outcome, second.status, second.outcome) == ("inserted", status, "removed")
    article = article_at(database, url)  # still there, marked
    assert article is not None and article.title == GONE_LATER[status].expected["title"]
    assert article.removed_status == status and article.removed_at is not None
    assert page_state(database, url).outcome == "removed"
    assert page_faults.second.stats["caixun/storage/removed"] == 2


def test_removed_articles_stay_in_the_export(page_faults):
    exported = {record["url"]: record for record in page_faults.export}
    for status, url in REMOVED.items():
        record = exported[url]
        assert record["title"] == GONE_LATER[status].expected["title"]
        assert record["removed_status"] == status and record["removed_at"]  # ISO time, UTC
    assert exported[GOOD_URL]["removed_at"] is None and exported[GOOD_URL]["removed_status"] is None


def test_a_timeout_fails_after_bounded_retries(page_faults):
    crawl = page_faults.second
    assert crawl.hits[SLOW_URL] == 2  # RETRY_TIMES=1
    [fetch] = fetches_for(crawl.database, SLOW_URL)
    assert (fetch.outcome, fetch.status) == ("failed", None)
    assert fetch.error.startswith("DownloadTimeoutError: ") and "longer than 1.0 seconds" in fetch.error
    assert page_state(crawl.database, SLOW_URL).failures == 1
    assert crawl.stats["caixun/fetch/failed/timeout"] == crawl.stats["caixun/fetch/failed"] == 1


# --- `python -m crawler run` through the roll API ----------------------------------------------------------------

T1 = 1764403200  # 2025-11-29 08:00 UTC, as the roll API gives ctime and mtime
T2 = T1 + 600


def roll_item(url: str, ctime: int, mtime: int) -> dict:
    return {"url": url, "title": "t", "media_name": "新浪财经", "ctime": str(ctime), "mtime": str(mtime)}


def roll_query(path: str) -> tuple[str, int] | None:
    """('pageid:lid', page) for a roll-API request, None for anything else."""
    parts = urlsplit(path)
    if f"{parts.scheme}://{parts.netloc}{parts.path}" != PROXIED_ROLL_API:
        return None
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return f"{query['pageid']}:{query['lid']}", int(query["page"])


def run(server: LocalServer, folder: Path, channels: str, *settings: str) -> CompletedProcess:
    return run_crawler(
        "run", "sina_finance", "-a", f"channels={channels}", "--database-url", f"sqlite:///{folder / 'run.db'}",
        "-s", f"CAIXUN_ROLL_API_URL={PROXIED_ROLL_API}", "-s", f"CAIXUN_SPOOL_DIR={folder / 'spool'}",
        "-s", f"WARC_DIR={folder / 'warc'}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CAIXUN_COVERAGE_THRESHOLDS={}", *(a for s in settings for a in ("-s", s)),
        env=proxy_env(server), timeout=120,
    )  # fmt: skip


def summary(result: CompletedProcess) -> str:
    [line] = [line for line in result.stdout.splitlines() if line.startswith("sina_finance run ")]
    return line


ROLL_GOOD_ARTICLE = sina(100)
BROKEN_CHANNELS = {  # channel: (first roll page, what the failure message says)
    "153:2516": ((200, {"Content-Type": "application/json"}, b'{"result": {"status": {"code": 0'), "invalid JSON"),
    "153:2517": ((500, {"Content-Type": "text/html"}, b"<html>error</html>"), "HTTP 500"),
    "153:2518": ((200, {"Content-Type": "application/json"}, roll_api_body([], code=11)), "status code 11"),
    "384:2519": ((200, {"Content-Type": "application/json"}, roll_api_body([])), "the first page is empty"),
}
GOOD_CHANNEL = "384:2671"


@dataclass
class RollFaults:
    result: CompletedProcess
    hits: Counter
    database: str


@pytest.fixture(scope="module")
def roll_faults(tmp_path_factory) -> RollFaults:
    folder = tmp_path_factory.mktemp("roll")

    def respond(path: str, headers: dict):
        roll = roll_query(path)
        if roll is None:
            return (200, UTF8, GOOD.body) if path == ROLL_GOOD_ARTICLE else (404, {}, b"")
        channel, page = roll
        if channel in BROKEN_CHANNELS and page == 1:
            return BROKEN_CHANNELS[channel][0]
        items = [roll_item(ROLL_GOOD_ARTICLE, T1, T1)] if page == 1 else []
        return 200, {"Content-Type": "application/json"}, roll_api_body(items)

    with LocalServer(no_robots(respond)) as server:
        result = run(server, folder, ",".join([*BROKEN_CHANNELS, GOOD_CHANNEL]))
    return RollFaults(result, Counter(roll_query(p) for p in server.requests), f"sqlite:///{folder / 'run.db'}")


def test_broken_roll_channels_fail_the_run_but_the_others_are_crawled(roll_faults):
    result = roll_faults.result
    assert result.returncode == 1, result.stderr[-3000:]
    assert article_at(roll_faults.database, ROLL_GOOD_ARTICLE).title == GOOD.expected["title"]
    stats = last_run(roll_faults.database).stats
    assert stats["caixun/roll/error"] == 3  # invalid JSON, HTTP 500, error status; an empty page is no error
    assert stats["caixun/storage/inserted"] == 1
    assert "no articles from channel(s) that always list some" in stats["caixun/failure/discovery"]
    assert summary(result).endswith(f"exit 1 ({stats['caixun/run_failed']})")
    assert roll_faults.hits[("153:2517", 1)] == 3  # a 500 is retried like any page
    assert all(roll_faults.hits[(channel, 2)] == 0 for channel in BROKEN_CHANNELS)  # paging stops


@pytest.mark.parametrize("channel", BROKEN_CHANNELS)
def test_the_run_failure_names_each_broken_channel(roll_faults, channel):
    why = BROKEN_CHANNELS[channel][1]
    message = last_run(roll_faults.database).stats["caixun/failure/discovery"]
    assert f"{channel}: {why}" in message
    assert f"ERROR: {message}" in roll_faults.result.stderr
    if why != "the first page is empty":
        assert f"roll API {channel} page 1 unusable, paging stops: {why}" in roll_faults.result.stderr


BAN_PAGE = "<html><body><p>您的IP 存在异常访问，已被新浪安全部门封禁</p></body></html>".encode()


@pytest.mark.parametrize(("status", "body"), [(456, b"blocked"), (200, BAN_PAGE)], ids=["http-456", "ban-page"])
def test_a_ban_stops_a_scheduled_run_at_once_with_exit_3(local_server, tmp_path, status, body):
    articles = [sina(200 + n) for n in range(30)]

    def respond(path: str, headers: dict):
        roll = roll_query(path)
        if roll is not None:
            items = [roll_item(url, T1 - n, T1 - n) for n, url in enumerate(articles)] if roll[1] == 1 else []
            return 200, {"Content-Type": "application/json"}, roll_api_body(items)
        return status, UTF8, body

    server = local_server(no_robots(respond))
    # a download delay as in production: with none, Scrapy 2.19 starts every queued request of a host at
    # once (its slot marks a request as transferring only once the download coroutine runs)
    result = run(server, tmp_path, "153:2516", "DOWNLOAD_DELAY=0.05")
    assert result.returncode == 3, result.stderr[-3000:]
    line = summary(result)
    assert "banned yes" in line and line.endswith("exit 3") and "new 0" in line
    assert len([line for line in result.stderr.splitlines() if "BANNED by finance.sina.com.cn" in line]) == 1
    hits = [server.requests.count(url) for url in articles]
    # no retries, and nothing sent after the ban but what was already on the wire (2 per host at most):
    # the requests waiting in the downloader's queues are failed, not sent
    assert max(hits) == 1 and sum(hits) <= 3, sum(hits)
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    crawl_run = last_run(database_url)
    assert (crawl_run.finish_reason, crawl_run.exit_status) == ("banned", 3)
    assert crawl_run.stats["caixun/ban/reason"] == ("HTTP 456" if status == 456 else "ban page ('IP 存在异常访问')")
    # pages cut off by the ban are counted but keep no state: they use up no retries, and the next run,
    # whose roll watermark did not move, finds them again
    assert 1 <= crawl_run.stats["caixun/fetch/failed/banned"] <= len(articles)
    assert all(page_state(database_url, url) is None for url in articles)


# --- four scheduled runs: failed pages retried, conditional requests ---------------------------------------------

FLAKY, BROKEN = sina(300), sina(301)  # 503 in run 1 then fine / 503 in every run
REVALIDATED, CHANGED = sina(302), sina(303)  # listed again with a newer mtime in run 2
FLAKY_PAGE = FIXTURES["doc-ifxeuwwr9250746.shtml"]
REVALIDATED_PAGE = FIXTURES["doc-ihkmwytp6913603.shtml"]
CHANGED_PAGE = FIXTURES["doc-ifxeuwwr9107579.shtml"]
NEW_TITLE = "马哈蒂尔再谈中美贸易战"
CHANGED_AGAIN = CHANGED_PAGE.body.replace(CHANGED_PAGE.expected["title"].encode(), NEW_TITLE.encode())
assert CHANGED_AGAIN != CHANGED_PAGE.body
LAST_MODIFIED = "Sat, 29 Nov 2025 08:00:00 GMT"


@dataclass
class Runs:
    database: str
    results: list[CompletedProcess] = field(default_factory=list)
    stats: list[dict] = field(default_factory=list)
    hits: list[Counter] = field(default_factory=list)  # requests per URL, per run
    headers: dict[str, list[dict]] = field(default_factory=dict)  # request headers per URL, all runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    folder = tmp_path_factory.mktemp("runs")
    state = Runs(f"sqlite:///{folder / 'run.db'}")

    def respond(path: str, headers: dict):
        number = len(state.results) + 1
        roll = roll_query(path)
        if roll is not None:
            listed = [roll_item(u, T1, T1) for u in (FLAKY, BROKEN, REVALIDATED, CHANGED)]
            if number > 1:  # the failed pages dropped off the first roll page; the others changed
                listed = [roll_item(u, T1, T2) for u in (REVALIDATED, CHANGED)]
            return 200, {"Content-Type": "application/json"}, roll_api_body(listed if roll[1] == 1 else [])
        if path == BROKEN or (path == FLAKY and number == 1):
            return 503, HTML, b"busy"
        if path == FLAKY:
            return 200, UTF8, FLAKY_PAGE.body
        if path == REVALIDATED:
            if header(headers, "If-None-Match") == '"r1"':
                return 304, {"ETag": '"r1"'}, b""
            return 200, {**UTF8, "ETag": '"r1"', "Last-Modified": LAST_MODIFIED}, REVALIDATED_PAGE.body
        if path == CHANGED:
            if number == 1:
                return 200, {**UTF8, "ETag": '"c1"'}, CHANGED_PAGE.body
            return 200, {**UTF8, "ETag": '"c2"'}, CHANGED_AGAIN
        return 404, {}, b""

    with LocalServer(no_robots(respond)) as server:
        for _ in range(4):
            seen = len(server.requests)
            result = run(server, folder, "153:2516", "LOG_LEVEL=INFO")  # "retrying … page(s)" is INFO
            assert result.returncode == 0, result.stderr[-3000:]
            state.results.append(result)
            state.stats.append(last_run(state.database).stats)
            state.hits.append(Counter(server.requests[seen:]))
        for received in server.received:
            state.headers.setdefault(received.path, []).append(received.headers)
    return state


def test_a_page_that_failed_is_retried_at_the_start_of_the_next_run_and_stored(runs):
    assert runs.stats[0]["caixun/fetch/failed/http_503"] == 2 and runs.hits[0][FLAKY] == 3
    assert runs.stats[1]["caixun/incremental/retried"] == 2  # FLAKY and BROKEN, no longer on the roll page
    first, second = fetches_for(runs.database, FLAKY)
    assert (first.outcome, first.status) == ("failed", 503)
    assert (second.outcome, second.discovered_from) == ("inserted", "retry:failed")
    state = page_state(runs.database, FLAKY)
    assert (state.outcome, state.failures) == ("inserted", 0)
    assert article_at(runs.database, FLAKY).title == FLAKY_PAGE.expected["title"]
    assert "retrying 2 page(s) whose last fetch failed" in runs.results[1].stderr


def test_a_page_is_retried_for_caixun_retry_failed_runs_runs_only(runs):
    # CAIXUN_RETRY_FAILED_RUNS=3: tried in runs 1, 2 and 3 (three times each: RETRY_TIMES=2), not in run 4
    assert [hits[BROKEN] for hits in runs.hits] == [3, 3, 3, 0]
    assert [stats.get("caixun/incremental/retried", 0) for stats in runs.stats] == [0, 2, 1, 0]
    state = page_state(runs.database, BROKEN)
    assert (state.outcome, state.failures, state.status, state.error) == ("failed", 3, 503, "HTTP 503")
    assert [f.outcome for f in fetches_for(runs.database, BROKEN)] == ["failed"] * 3
    assert "failed 0" in summary(runs.results[3]) and "failed 1" in summary(runs.results[2])


def test_a_304_to_a_conditional_request_leaves_the_article_as_it_was(runs):
    first, second = runs.headers[REVALIDATED][:2]
    assert header(first, "If-None-Match") is None and header(first, "If-Modified-Since") is None
    assert header(second, "If-None-Match") == '"r1"' and header(second, "If-Modified-Since") == LAST_MODIFIED
    assert len(runs.headers[REVALIDATED]) == 2  # runs 3 and 4: the roll API's mtime did not move
    stored, revalidated = fetches_for(runs.database, REVALIDATED)
    assert (stored.outcome, revalidated.status, revalidated.outcome) == ("inserted", 304, "not_modified")
    article = article_at(runs.database, REVALIDATED)
    assert article.title == REVALIDATED_PAGE.expected["title"] and article.body == REVALIDATED_PAGE.expected["body"]
    assert article.updated_at < revalidated.fetched_at <= article.last_fetched_at  # fetched again, not changed
    with database(runs.database) as session:
        assert not session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article.id)).all()
    state = page_state(runs.database, REVALIDATED)
    assert (state.outcome, state.etag, state.last_modified) == ("not_modified", '"r1"', LAST_MODIFIED)
    assert runs.stats[1]["caixun/storage/not_modified"] == 1 and runs.stats[1]["caixun/incremental/revalidated"] == 2
    assert "unchanged 1 (0 not fetched again, 1 not modified)" in summary(runs.results[1])


def test_a_changed_page_behind_a_conditional_request_is_updated_with_a_revision(runs):
    assert header(runs.headers[CHANGED][1], "If-None-Match") == '"c1"'
    stored, updated = fetches_for(runs.database, CHANGED)
    assert (stored.outcome, updated.status, updated.outcome) == ("inserted", 200, "updated")
    article = article_at(runs.database, CHANGED)
    assert article.title == NEW_TITLE
    with database(runs.database) as session:
        [revision] = session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article.id)).all()
    assert revision.title == CHANGED_PAGE.expected["title"] and revision.body == CHANGED_PAGE.expected["body"]
    assert page_state(runs.database, CHANGED).etag == '"c2"'
    assert "updated 1" in summary(runs.results[1]) and runs.stats[1]["caixun/storage/updated"] == 1
    # runs 3 and 4: nothing changed, nothing fetched
    assert all(stats["caixun/incremental/skipped"] == 2 for stats in runs.stats[2:])
