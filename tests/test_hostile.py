"""Hostile pages in a real crawl: none can exhaust or block the crawler, each ends as failed/extract_*.

One `scrapy crawl -a urls=…` through a LocalServer proxy (real sockets, real
SQLite) serves good Sina pages next to an element bomb, a page too large to
parse, a generic-path page slow to extract, one that needs more memory than
the limit and a redirect stub, under tight limits so the file stays fast. A
second crawl is stopped with SIGTERM while pages are being extracted.
"""

from __future__ import annotations

import gzip
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from extractors import NotAnArticle, Page, extract
from tests.conftest import Delay, LocalServer
from tests.helpers import PROJECT_DIR, _crawl_env, fixtures, proxy_env, run_scrapy
from tests.test_extraction_sandbox import MEMORY_HUNGRY, SLOW, paragraphs
from tests.test_faults import (
    UTF8,
    article_at,
    crawl_settings,
    fetches_for,
    last_run,
    no_robots,
    page_state,
    sina,
)

FIXTURES = {f.url.rsplit("/", 1)[-1]: f for f in fixtures("sina", kind="article")}
GOOD = FIXTURES["doc-ifxeuwwr9169891.shtml"]
GOOD_LATE = FIXTURES["article_3057540037_b63e5bc502000bg5u.html"]
AUTO_RELOAD = FIXTURES["doc-iicezzrq4076655.shtml"]

LIMITS = [  # as tests/test_extraction_sandbox.py's LIMITS
    "CAIXUN_EXTRACT_WORKERS=2", "CAIXUN_EXTRACT_MAX_BYTES=6291456", "CAIXUN_EXTRACT_MAX_ELEMENTS=150000",
    "CAIXUN_EXTRACT_TIMEOUT=3", "CAIXUN_EXTRACT_MEMORY_MB=400",
]  # fmt: skip
GOOD_URL, GOOD_LATE_URL, AUTO_RELOAD_URL, STUB_URL = sina(1), sina(2), sina(3), sina(4)
TOO_LARGE = b"<html><body><p>" + b"x" * (7 * 2**20) + b"</p></body></html>"  # few elements, 7 MiB
HOSTILE = {  # url: (page, reason, start of the message)
    sina(10): (paragraphs(200_000), "extract_too_many_elements", "the page has more than 150,000 elements"),
    sina(11): (TOO_LARGE, "extract_too_large", f"the page is {len(TOO_LARGE):,} bytes, over the limit of 6,291,456"),
    sina(12): (SLOW, "extract_timeout", "extraction took longer than 3 s"),
    sina(13): (MEMORY_HUNGRY, "extract_memory", "extraction needed more than the 400 MiB"),
}  # fmt: skip
HOSTILE_IDS = ["element-bomb", "too-large", "slow", "memory"]
SLOW_URL = sina(12)
# Scrapy's MetaRefreshMiddleware follows a refresh of up to METAREFRESH_MAXDELAY (100 s): a stub with a longer one
# reaches extraction (as every stub does in `python -m extractors`, re-extraction and spool ingestion)
STUB = b"<html><head><title>x</title><meta http-equiv=refresh content='300;url=/new.html'></head><body>redirect</body>"


def with_auto_reload(body: bytes) -> bytes:
    """The page with the auto-reload of Sina's news pages: a refresh without a URL."""
    return body.replace(b"<head>", b'<head><meta http-equiv="refresh" content="600">', 1)


PAGES = {
    GOOD_URL: (200, UTF8, GOOD.body),
    GOOD_LATE_URL: Delay(1.5, (200, UTF8, GOOD_LATE.body)),  # arrives while the slow page is being extracted
    AUTO_RELOAD_URL: (200, UTF8, with_auto_reload(AUTO_RELOAD.body)),
    STUB_URL: (200, UTF8, STUB),
    **{url: (200, UTF8, page) for url, (page, _, _) in HOSTILE.items()},
}


@dataclass
class Crawl:
    database: str
    result: subprocess.CompletedProcess
    stats: dict
    seconds: float


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory) -> Crawl:
    database = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    urls = [GOOD_URL, *HOSTILE, STUB_URL, AUTO_RELOAD_URL, GOOD_LATE_URL]
    with LocalServer(no_robots(lambda path, headers: PAGES.get(path, (404, {}, b"")))) as server:
        started = time.monotonic()
        result = run_scrapy(
            "crawl", "sina_finance", "-a", "urls=" + ",".join(urls),
            *crawl_settings(database, "CAIXUN_RETRY_FAILED_RUNS=0", "LOG_LEVEL=DEBUG", *LIMITS,
                            "LOG_FORMAT=%(relativeCreated)d [%(name)s] %(levelname)s: %(message)s"),
            env=proxy_env(server), timeout=180,
        )  # fmt: skip
        seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    return Crawl(database, result, last_run(database).stats, seconds)


def test_the_good_pages_of_the_crawl_are_stored(hostile_crawl):
    for url, fixture in ((GOOD_URL, GOOD), (GOOD_LATE_URL, GOOD_LATE), (AUTO_RELOAD_URL, AUTO_RELOAD)):
        article = article_at(hostile_crawl.database, url)
        assert article is not None and article.title == fixture.expected["title"], url
        assert article.body == fixture.expected["body"]
    assert hostile_crawl.stats["caixun/storage/inserted"] == 3
    assert "Traceback" not in hostile_crawl.result.stderr


@pytest.mark.parametrize("url", HOSTILE, ids=HOSTILE_IDS)
def test_a_hostile_page_ends_as_failed_with_its_reason(hostile_crawl, url):
    _, reason, message = HOSTILE[url]
    [fetch] = fetches_for(hostile_crawl.database, url)
    assert (fetch.status, fetch.outcome, fetch.article_id) == (200, "failed", None)
    assert fetch.error.startswith(f"{reason}: {message}"), fetch.error
    state = page_state(hostile_crawl.database, url)
    assert (state.outcome, state.failures, state.error, state.article_id) == ("failed", 1, fetch.error, None)
    assert f"extraction failed: {url}: {fetch.error}" in hostile_crawl.result.stderr


def test_failed_extractions_are_counted_as_failed_fetches(hostile_crawl):
    stats = hostile_crawl.stats
    prefix = "caixun/fetch/failed/"
    assert {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)} == {
        reason: 1 for _, reason, _ in HOSTILE.values()
    }
    assert stats["caixun/fetch/failed"] == len(HOSTILE)
    assert "caixun/storage/failed" not in stats


def test_the_reactor_is_not_blocked_while_a_page_is_extracted(hostile_crawl):
    # the late page arrives 1.5 s in, while a worker spends 3 s on the slow page: it is stored before that ends
    times = _log_times(hostile_crawl.result.stderr)
    scraped, slow_failed = times[f"Scraped from <200 {GOOD_LATE_URL}>"], times[f"extraction failed: {SLOW_URL}"]
    assert scraped < slow_failed, (scraped, slow_failed)
    assert hostile_crawl.seconds < 60  # the slow page alone would take ~11 s; four hostile pages far more


def test_a_redirect_stub_is_not_an_article(hostile_crawl):
    [fetch] = fetches_for(hostile_crawl.database, STUB_URL)
    assert (fetch.outcome, fetch.error) == ("not_article", "a redirect stub (meta refresh to http://finance.sina.com.cn/new.html)")
    assert hostile_crawl.stats["caixun/storage/not_article"] == 1


def _log_times(log: str) -> dict[str, int]:
    """The first log time (ms since start, LOG_FORMAT's relativeCreated) of each message fragment looked for."""
    times: dict[str, int] = {}
    for line in log.splitlines():
        match = re.match(r"(\d+) \[", line)
        if match:
            for key in (f"Scraped from <200 {GOOD_LATE_URL}>", f"extraction failed: {SLOW_URL}"):
                if key in line:
                    times.setdefault(key, int(match.group(1)))
    return times


# --- redirect stubs: the class, not one page ---------------------------------------------------------------------

STUB_SHAPES = {
    "delay-0": ('<meta http-equiv="refresh" content="0; url=https://example.com/new">', "https://example.com/new"),
    "delay-3-quoted": ("<meta http-equiv='Refresh' content='3;URL=\"/news/2.html\"'>", "https://example.com/news/2.html"),
    "spaces": ('<meta http-equiv="refresh" content=" 5 ; url = https://example.com/a ">', "https://example.com/a"),
    "uppercase": ('<META HTTP-EQUIV="REFRESH" CONTENT="1;URL=https://example.com/b">', "https://example.com/b"),
    "no-url-keyword": ('<meta http-equiv="refresh" content="2, https://example.com/c">', "https://example.com/c"),
}
STUB_BODIES = ["redirect", "<p>页面跳转中，如果您的浏览器没有自动跳转，请<a href='/new'>点击这里</a>。</p>", ""]


@pytest.mark.parametrize("shape", STUB_SHAPES)
@pytest.mark.parametrize("text", STUB_BODIES, ids=["redirect", "chinese-notice", "empty"])
def test_redirect_stubs_of_every_shape_are_not_articles(shape, text):
    meta, target = STUB_SHAPES[shape]
    page = f"<html><head><title>x</title>{meta}</head><body>{text}</body></html>".encode()
    with pytest.raises(NotAnArticle, match=re.escape(f"a redirect stub (meta refresh to {target})")):
        extract(Page("https://example.com/old/1.html", page))


@pytest.mark.parametrize("content", ["600", "0", "300;", "180; url="])
def test_an_article_with_an_auto_reload_refresh_is_extracted(content):
    page = AUTO_RELOAD.body.replace(b"<head>", f'<head><meta http-equiv="refresh" content="{content}">'.encode(), 1)
    assert extract(Page(AUTO_RELOAD.url, page)).to_dict() == extract(Page(AUTO_RELOAD.url, AUTO_RELOAD.body)).to_dict()


def test_an_article_whose_refresh_names_a_url_is_still_extracted():
    # a full page with a refresh to elsewhere (e.g. a fallback for browsers without JavaScript) is no stub
    page = GOOD.body.replace(b"<head>", b'<head><meta http-equiv="refresh" content="1;url=/unsupported.html">', 1)
    assert extract(Page(GOOD.url, page)).title == GOOD.expected["title"]


def test_a_refresh_for_browsers_without_javascript_makes_no_stub():
    page = b"<html><head><noscript><meta http-equiv=refresh content='0;url=/nojs.html'></noscript></head><body></body>"
    with pytest.raises(NotAnArticle) as refused:
        extract(Page("https://example.com/app.html", page))
    assert "redirect stub" not in str(refused.value) and "no article body" in str(refused.value)


AEB = Path(PROJECT_DIR).parent / "shared" / "benchmarks" / "scrapinghub-aeb" / "html"
AEB_WITH_REFRESH = [  # real pages carrying a refresh: content="2700", and "1;url=…unsupp.html" in <noscript>
    "156770d676ce79905198e1c8407f81e5ecfb617d9aa44712718707eb7e3b8e38",
    "d605bdef2cde7308a9f2fbd1484d4a9c3da0167177245d346da61e455f42208d",
]


@pytest.mark.parametrize("name", AEB_WITH_REFRESH, ids=["refresh-2700", "refresh-url-noscript"])
def test_real_articles_with_a_refresh_are_extracted(name):
    path = AEB / f"{name}.html.gz"
    if not path.is_file():
        pytest.skip(f"the shared benchmark pages are not at {AEB}")
    body = gzip.decompress(path.read_bytes())
    assert re.search(rb"http-equiv=.refresh", body, re.I)
    assert len(extract(Page("https://example.com/article.html", body)).body) > 1000


# --- SIGTERM ---------------------------------------------------------------------------------------------------------

SLOW_DEFAULT = paragraphs(95_000)  # under the default element limit; ~10 s to extract
SIGTERM_SLOW = [sina(70 + i) for i in range(4)]


def test_sigterm_stops_a_crawl_at_once_whatever_it_is_extracting(tmp_path):
    database = f"sqlite:///{tmp_path / 'sigterm.db'}"
    pages = {url: (200, UTF8, SLOW_DEFAULT) for url in SIGTERM_SLOW}
    with LocalServer(no_robots(lambda path, headers: pages.get(path, (404, {}, b"")))) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "sina_finance", "-a", "urls=" + ",".join(SIGTERM_SLOW),
             *crawl_settings(database, "CAIXUN_EXTRACT_WORKERS=2", "CAIXUN_EXTRACT_TIMEOUT=120")],
            cwd=PROJECT_DIR, env=_crawl_env(proxy_env(server)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while any(server.hits(url) == 0 for url in SIGTERM_SLOW) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2)  # two pages in the workers, two waiting: without interruption, ~20 s of work left
            workers = _descendants(process.pid)
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
            took = time.monotonic() - stopped_at
        finally:
            if process.poll() is None:
                process.kill()
    assert took < 8, stderr[-3000:]
    assert "extraction(s) in progress stopped" in stderr and "Traceback" not in stderr
    assert last_run(database).stats["finish_reason"] == "shutdown"
    for url in SIGTERM_SLOW:  # recorded as failed: the next run tries them again
        [fetch] = fetches_for(database, url)
        assert (fetch.outcome, fetch.error) == (
            "failed", "extract_interrupted: the crawl was stopped during extraction; the next run tries the page again",
        )  # fmt: skip
    assert len(workers) >= 2
    time.sleep(0.5)
    assert not [pid for pid in workers if _alive(pid)]  # no worker outlives the crawl


def _descendants(pid: int) -> list[int]:
    from benchmarks.soak_probe import descendants

    return descendants(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_issues_15_mb_element_bomb_under_the_default_limits(tmp_path):
    """The issue's case with the shipped limits: a 15 MB page of short <p> on a site without a rule (the generic
    path) is refused before parsing, and the other page of the crawl is stored. (Its time and memory are measured
    by hand and reported in the closing note: speed and memory targets live outside the test suite.)"""
    bomb_url = "http://news.example-caijing.cn/2026/11/30/bomb.html"
    bomb = b"<html><head><title>bomb</title></head><body>" + b"<p>x</p>" * (15 * 2**20 // 8) + b"</body></html>"
    pages = {bomb_url: (200, UTF8, bomb), GOOD_URL: (200, UTF8, GOOD.body)}
    database = f"sqlite:///{tmp_path / 'bomb.db'}"
    with LocalServer(no_robots(lambda path, headers: pages.get(path, (404, {}, b"")))) as server:
        result = run_scrapy(
            "crawl", "sina_finance", "-a", f"urls={bomb_url},{GOOD_URL}", *crawl_settings(database),
            env=proxy_env(server), timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (fetch,) = fetches_for(database, bomb_url)
    assert fetch.outcome == "failed" and fetch.error.startswith("extract_too_large: the page is 15,728,")
    assert article_at(database, GOOD_URL).title == GOOD.expected["title"]
