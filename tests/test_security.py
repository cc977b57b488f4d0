"""Security requirements of the scheduled crawl: no leaked passwords, no entity expansion, http(s) only.

(a) Database (and any URL) passwords never reach the logs, the stats or crawl_runs:
    crawler.logmasking masks every log record (installed by `scrapy crawl`).
(b) Entity expansion ("billion laughs", XXE) cannot be used against the crawler.
    Pages are parsed as HTML only (extractors: w3lib decoding, then
    extractors.parsing.parse_html, i.e. lxml's HTMLParser, shared with parsel through
    Selector(root=...)), whatever the Content-Type says; the roll API is JSON.
    libxml2's HTML parser does not read a DOCTYPE's internal subset, so declared
    entities stay unexpanded text ("&xxe;") and no external entity or DTD is ever
    loaded. The tests prove it on the real parse path and on the real crawl. The one
    XML parser, for feeds and sitemaps (crawler/sources/xmllists.py), resolves no
    entities, loads no DTD and reads no network (tests/test_sources.py).
(c) Only http(s) URLs are followed: -a urls is checked by the spider, roll-API items
    with other schemes count as caixun/discover/skipped/other, and Scrapy's stock
    RedirectMiddleware and MetaRefreshMiddleware do not follow a redirect to a
    non-http(s) scheme (the 3xx answer goes to the errback as an HTTP error).
"""

from __future__ import annotations

import logging
import re
import resource
import socket
import sys
import time

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from crawler.logmasking import install_log_masking, mask_credentials, mask_data, mask_record
from crawler.rollapi import roll_api_url
from extractors import Article, NotAnArticle, Page, extract, rule_named
from storage import make_engine
from tests.helpers import fixtures, html_headers, roll_api_body, run_scrapy, write_warc

PASSWORD = "S3cretPw"
ARTICLE_PAGE = (
    "<html><head><title>央行公开市场操作</title></head><body><h1>央行公开市场操作</h1>"
    + "<p>中国人民银行今日开展逆回购操作，维护银行体系流动性合理充裕。</p>" * 8
    + "</body></html>"
).encode()
ARTICLE_PATH = "/c/2019-09-09/doc-iicezzrq4681600.shtml"


def _no_robots(respond):
    return lambda path: (404, {}, b"") if path == "/robots.txt" else respond(path)


def _dump_tables(url: str, tables: tuple[str, ...] | None = None) -> str:
    """Every row of the given tables (default: all), every column, as text."""
    engine = make_engine(url, create=False)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        lines = []
        with engine.connect() as connection:
            for name in tables or sorted(metadata.tables):
                for row in connection.execute(select(metadata.tables[name])):
                    lines.append(f"{name}: {tuple(row)!r}")
        return "\n".join(lines)
    finally:
        engine.dispose()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stat(stderr: str, key: str) -> int:
    match = re.search(rf"'{re.escape(key)}': (\d+)", stderr)
    return int(match.group(1)) if match else 0


def _requested_urls(log: str) -> list[str]:
    """Every URL Scrapy logged a request for (Crawled, Redirecting, Error downloading, …)."""
    return re.findall(r"<(?:GET|POST|HEAD) (\S+?)>", log)


# --- (a) passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://postgres:S3cretPw@127.0.0.1:5432/db", "postgresql://postgres:***@127.0.0.1:5432/db"),
        ("postgresql+psycopg://u:S3cretPw@h/db", "postgresql+psycopg://u:***@h/db"),
        # several URLs, quoted as Scrapy's pprint-ed "Overridden settings" shows them
        (
            "{'A': 'postgresql://u:S3cretPw@h1/db', 'B': 'mysql://v:Other9@h2:3306/x', 'UA': 'bot (+me@x.org)'}",
            "{'A': 'postgresql://u:***@h1/db', 'B': 'mysql://v:***@h2:3306/x', 'UA': 'bot (+me@x.org)'}",
        ),
        (
            '{"a":"postgresql://u:S3cretPw@h/db","b":"redis://:Other9@h2/0"}',
            '{"a":"postgresql://u:***@h/db","b":"redis://:***@h2/0"}',
        ),
        ("a://u:S3cretPw@h,b://v:Other9@h2", "a://u:***@h,b://v:***@h2"),
        ("http://a:1/x,http://u:S3cretPw@h", "http://a:1/x,http://u:***@h"),
        # percent-encoded, and raw '@', ':', '/' and quotes inside the password
        ("postgresql://u:S3%40cret%3APw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:S3cr@t:P@w@host/db", "postgresql://u:***@host/db"),
        ("postgresql://u:S3c/re/tPw@host/db", "postgresql://u:***@host/db"),
        ("postgresql://u:S3c're\"tPw@host/db", "postgresql://u:***@host/db"),
        ("postgresql://u:S3cretPw@[::1]:5432/db", "postgresql://u:***@[::1]:5432/db"),
        # a netloc quoted by an error message, password= pairs
        ("ValueError: invalid hostname: u:S3cretPw@127.0.0.1", "ValueError: invalid hostname: u:***@127.0.0.1"),
        ("postgresql://u@h/db?ssl=1&password=S3cretPw&x=1", "postgresql://u@h/db?ssl=1&password=***&x=1"),
        ("host=h user=u password='S3c ret\\'Pw' dbname=d", "host=h user=u password=*** dbname=d"),
        ("DRIVER=x;UID=u;PWD=S3cretPw;", "DRIVER=x;UID=u;PWD=***;"),
        # already masked stays so
        ("postgresql://u:***@h/db", "postgresql://u:***@h/db"),
    ],
)
def test_mask_credentials_hides_the_password_and_keeps_user_and_host(text, expected):
    assert mask_credentials(text) == expected
    assert mask_credentials(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "http://127.0.0.1:8080/c/doc-i.shtml",
        "https://user@host/x",  # a user without a password
        "https://medium.com/@user:foo/post",
        "http://[::1]:8080/x",
        "caixun/0.1 (financial news archiver; +you@example.org)",
        "2024-01-01 10:30:00 [scrapy.core.engine] INFO: Spider opened",
        '{"email":"x@y.com","time":"10:30"}',
        "Crawled (200) <GET https://finance.sina.com.cn/stock/doc-iabcdefg1234567.shtml> (referer: None)",
    ],
)
def test_mask_credentials_leaves_text_without_credentials_alone(text):
    assert mask_credentials(text) == text


def test_mask_credentials_is_fast_on_long_text():
    start = time.monotonic()
    for text in ("A" * 1_000_000 + "://x@", "a://b:" * 100_000 + "@", "a:" * 300_000 + "@h", "x:y" + "@" * 100_000):
        mask_credentials(text)
    assert time.monotonic() - start < 5


def test_mask_data_masks_nested_strings_and_keys():
    data = {"urls": ["http://u:S3cretPw@h/x"], "n": 3, "postgresql://v:S3cretPw@h": ("x", None)}
    assert mask_data(data) == {"urls": ["http://u:***@h/x"], "n": 3, "postgresql://v:***@h": ("x", None)}


@pytest.fixture
def masking(monkeypatch):
    """install_log_masking() for one test; the record factory and sys.excepthook are restored afterwards."""
    factory = logging.getLogRecordFactory()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_log_masking()
    yield
    logging.setLogRecordFactory(factory)


def test_log_records_are_masked_with_their_arguments_and_tracebacks(masking, caplog):
    factory, hook = logging.getLogRecordFactory(), sys.excepthook
    install_log_masking()
    assert (logging.getLogRecordFactory(), sys.excepthook) == (factory, hook)  # idempotent
    log = logging.getLogger("caixun.test")
    with caplog.at_level(logging.INFO):
        log.info("settings: %(s)s", {"s": {"DATABASE_URL": f"postgresql://u:{PASSWORD}@h/db"}})
        log.warning("url %s", f"http://u:{PASSWORD}@h/")
        try:
            raise RuntimeError(f"cannot open postgresql://u:{PASSWORD}@h/db")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text
    assert PASSWORD not in text
    assert "postgresql://u:***@h/db" in text and "http://u:***@h/" in text
    assert "RuntimeError: cannot open postgresql://u:***@h/db" in text
    # records made without the factory (logging.makeLogRecord) can be masked explicitly
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (f"a://u:{PASSWORD}@h",), None)
    assert mask_record(record).getMessage() == "a://u:***@h"
    # a broken format string: logging prints msg and args when it reports the error
    broken = mask_record(logging.LogRecord("x", logging.INFO, __file__, 1, "%d", (f"a://u:{PASSWORD}@h",), None))
    assert broken.args == ("a://u:***@h",)


def test_uncaught_exceptions_are_masked(masking, capsys):
    try:
        raise RuntimeError(f"cannot open postgresql://u:{PASSWORD}@h/db")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "RuntimeError: cannot open postgresql://u:***@h/db" in err and PASSWORD not in err


def _crawl_with_password(base_url: str, database_url: str, *extra: str):
    return run_scrapy(
        "crawl", "sina_finance", "-a", f"urls={base_url}{ARTICLE_PATH}",
        "-s", f"DATABASE_URL={database_url}", "-s", "LOG_LEVEL=DEBUG",
        # a Scrapy setting, so that Scrapy's own "Overridden settings" line carries a password too
        "-s", f"USER_AGENT=caixun-test (+https://bot:{PASSWORD}@example.org/)",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        *extra,
    )  # fmt: skip


def test_database_password_stays_out_of_logs_and_crawl_runs(local_server, postgres_url):
    server = local_server(_no_robots(lambda path: (200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE_PAGE)))
    url = make_url(postgres_url).set(password=PASSWORD).render_as_string(hide_password=False)
    result = _crawl_with_password(server.base_url, url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr
    # the lines are there, masked: the checks above could fail
    overridden = result.stderr.split("Overridden settings:", 1)[1].split("\n20", 1)[0]
    assert "https://bot:***@example.org/" in overridden
    assert "postgres:***@127.0.0.1" in result.stderr
    stored = _dump_tables(postgres_url, ("crawl_runs", "fetches"))
    assert "crawl_runs: " in stored and "fetches: " in stored
    assert PASSWORD not in stored


def test_unreachable_database_error_does_not_show_the_password(local_server):
    server = local_server(_no_robots(lambda path: (200, {"Content-Type": "text/html"}, ARTICLE_PAGE)))
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{_closed_port()}/caixun"
    result = _crawl_with_password(server.base_url, url)
    assert result.returncode != 0
    assert PASSWORD not in result.stdout + result.stderr
    assert "postgres:***@127.0.0.1" in result.stderr  # the error names the database, masked


def test_credentials_in_a_page_url_are_refused_and_not_stored_anywhere(local_server, tmp_path):
    server = local_server(_no_robots(lambda path: (200, {"Content-Type": "text/html"}, ARTICLE_PAGE)))
    database = f"sqlite:///{tmp_path / 'userinfo.db'}"
    page_url = server.base_url.replace("http://", f"http://reader:{PASSWORD}@") + ARTICLE_PATH
    result = run_scrapy("crawl", "sina_finance", "-a", f"urls={page_url}", "-s", f"DATABASE_URL={database}")
    assert result.returncode == 1
    assert "URLs with a user:password@ part are not crawled" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
    assert not server.requests
    if (tmp_path / "userinfo.db").exists():
        assert PASSWORD not in _dump_tables(database)


# --- (b) entity expansion ------------------------------------------------------------------------

_LOL = "".join(
    f'<!ENTITY lol{n} "{("&lol%d;" % (n - 1)) * 10}">' if n else '<!ENTITY lol0 "lol">' for n in range(10)
)
ENTITY_DOCUMENTS = {
    # 10^9 "lol"s (3 GB) if expanded
    "billion-laughs": f'<?xml version="1.0"?><!DOCTYPE html [{_LOL}]>'
    "<html><head><title>t</title></head><body><h1>Laughs</h1><p>&lol9;</p></body></html>",
    # one 100 kB entity used 10,000 times: 1 GB if expanded
    "quadratic-blowup": f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY a "{"a" * 100_000}">]>'
    f"<html><body><h1>Quadratic</h1><p>{'&a;' * 10_000}</p></body></html>",
    "xxe-general": '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<html><head><title>t</title></head><body><h1>XXE</h1><p>&xxe;</p><p>more text here</p></body></html>",
    "xxe-parameter": '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    "<html><body><h1>XXE</h1><p>parameter entity</p></body></html>",
    "external-dtd": '<?xml version="1.0"?><!DOCTYPE html SYSTEM "file:///etc/passwd">'
    "<html><body><h1>DTD</h1><p>external DTD</p></body></html>",
    "xinclude": '<html xmlns:xi="http://www.w3.org/2001/XInclude"><body><h1>XInclude</h1>'
    '<p><xi:include href="file:///etc/passwd" parse="text"/></p></body></html>',
}
PASSWD_MARK = "root:x:"


def _output_text(article: Article) -> str:
    return repr(article.to_dict())


@pytest.mark.parametrize("content_type", ["text/html", "application/xml", "application/xhtml+xml; charset=utf-8"])
@pytest.mark.parametrize(
    "url",
    ["https://finance.sina.com.cn/stock/2019-09-09/doc-iicezzrq4681600.shtml", "https://example.org/news/1.html"],
    ids=["sina-rule", "generic"],
)
@pytest.mark.parametrize("name", sorted(ENTITY_DOCUMENTS))
def test_extract_does_not_expand_entities(name, url, content_type):
    body = ENTITY_DOCUMENTS[name].encode()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.monotonic()
    try:
        output = _output_text(extract(Page(url=url, body=body, headers={"Content-Type": content_type})))
    except NotAnArticle as exc:
        output = str(exc)
    assert time.monotonic() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 256 * 1024
    assert PASSWD_MARK not in output and "root:" not in output
    assert "lollollol" not in output and "a" * 200_000 not in output
    assert len(output) < len(body) + 10_000  # nothing grew


@pytest.mark.parametrize("name", ["billion-laughs", "xxe-general"])
def test_the_parsers_leave_entities_unexpanded(name):
    """The HTML parse the extractors use keeps &ref; as text; parsel's XML parser (unused) drops or keeps it."""
    import lxml.html
    import trafilatura
    from lxml import etree
    from parsel import Selector

    from extractors.parsing import parse_html

    body = ENTITY_DOCUMENTS[name].encode()
    reference = "&lol9;" if name == "billion-laughs" else "&xxe;"
    html_trees = [
        parse_html(body.decode()),  # what extractors.extract does
        trafilatura.load_html(body),
        lxml.html.fromstring(body),
        Selector(body=body, type="html").root,
    ]
    xml_tree = Selector(body=body, type="xml").root  # parsel's SafeXMLParser: resolve_entities=False
    for tree in [*html_trees, xml_tree]:
        text = "".join(tree.itertext())
        markup = etree.tostring(tree, encoding=str)
        assert len(markup) < 2 * len(body)
        assert PASSWD_MARK not in text + markup and "lollol" not in text + markup
        if tree in html_trees:
            assert reference in text, markup[:300]


def test_crawl_of_entity_pages_stores_and_logs_no_expansion(local_server, tmp_path):
    pages = {f"/c/2019-09-09/doc-iicezzrq46816{n:02d}.shtml": name for n, name in enumerate(sorted(ENTITY_DOCUMENTS))}
    xml_pages = {path.replace(".shtml", ".xml"): name for path, name in pages.items()}

    def respond(path):
        if path in pages:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, ENTITY_DOCUMENTS[pages[path]].encode()
        if path in xml_pages:
            return 200, {"Content-Type": "application/xml"}, ENTITY_DOCUMENTS[xml_pages[path]].encode()
        return 404, {}, b""

    server = local_server(respond)
    database = f"sqlite:///{tmp_path / 'entities.db'}"
    urls = ",".join(server.base_url + path for path in [*pages, *xml_pages])
    start = time.monotonic()
    result = run_scrapy(
        "crawl", "sina_finance", "-a", f"urls={urls}", "-s", f"DATABASE_URL={database}",
        "-s", "LOG_LEVEL=DEBUG", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CAIXUN_COVERAGE_THRESHOLDS={}",  # junk pages: field coverage is not what is tested here
        timeout=180,
    )  # fmt: skip
    assert time.monotonic() - start < 120
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(server.requests) >= set(pages) | set(xml_pages)
    stored = _dump_tables(database)
    assert "fetches: " in stored
    for text in (result.stdout, result.stderr, stored):
        assert PASSWD_MARK not in text
        assert "lollollol" not in text


# --- (c) http(s) only ----------------------------------------------------------------------------

ARTICLE_LIKE = "finance.sina.com.cn/stock/2024-01-01/doc-inaaaaaa1234567.shtml"
NON_HTTP_ITEMS = [
    "file:///etc/passwd",
    f"file:///{ARTICLE_LIKE}",
    f"ftp://{ARTICLE_LIKE}",
    f"javascript:location='https://{ARTICLE_LIKE}'",
    f"data:text/html,<a href=https://{ARTICLE_LIKE}>x</a>",
]


@pytest.mark.parametrize(
    "bad_url", ["file:///etc/passwd", "ftp://127.0.0.1/passwd", "data:text/html,<p>x</p>", "javascript:alert(1)"]
)
@pytest.mark.parametrize("how", ["urls", "url_file"])
def test_non_http_urls_as_arguments_are_refused(tmp_path, bad_url, how):
    if how == "urls":
        argument = f"urls=https://finance.sina.com.cn/stock/a.shtml,{bad_url}"
    else:
        (tmp_path / "urls.txt").write_text(f"https://finance.sina.com.cn/stock/a.shtml\n{bad_url}\n", "utf-8")
        argument = f"url_file={tmp_path / 'urls.txt'}"
    result = run_scrapy(
        "crawl", "sina_finance", "-a", argument, "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'args.db'}",
        "-s", "LOG_LEVEL=DEBUG",
    )  # fmt: skip
    assert result.returncode != 0
    assert "not an http(s) URL" in result.stderr
    assert _requested_urls(result.stderr) == []
    assert PASSWD_MARK not in result.stdout + result.stderr


def test_non_http_roll_items_are_skipped_as_other(tmp_path):
    sina = rule_named("sina")
    assert sina.classify_url(f"https://{ARTICLE_LIKE}") == "article"  # only the scheme differs below
    assert all(sina.classify_url(url) == "other" for url in NON_HTTP_ITEMS)
    article = next(f for f in fixtures("sina", kind="article") if sina.classify_url(f.url) == "article")
    items = [{"url": url, "title": "t"} for url in NON_HTTP_ITEMS] + [{"url": article.url, "title": "t"}]
    warc = write_warc(
        tmp_path / "schemes.warc.gz",
        [
            (roll_api_url(153, 2516, 1), 200, [("Content-Type", "application/json")], roll_api_body(items)),
            (article.url, 200, html_headers(article.body), article.body),
        ],
    )
    result = run_scrapy(
        "crawl", "sina_finance", "-a", "channels=153:2516", "-a", "max_pages=1",
        "-s", f"REPLAY_WARC={warc}", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'schemes.db'}",
        "-s", "LOG_LEVEL=DEBUG",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stat(result.stderr, "caixun/discover/skipped/other") == len(NON_HTTP_ITEMS)
    assert _stat(result.stderr, "caixun/discover/article") == 1
    requested = _requested_urls(result.stderr)
    assert article.url in requested
    assert requested and all(url.startswith(("http://", "https://")) for url in requested), requested
    assert PASSWD_MARK not in result.stderr


def test_redirects_to_other_schemes_are_not_followed(local_server, tmp_path):
    ftp_port = _closed_port()
    targets = {
        "/c/2019-09-09/doc-iicezzrq4681600.shtml": (301, "file:///etc/passwd"),
        "/c/2019-09-09/doc-iicezzrq4681601.shtml": (302, f"ftp://127.0.0.1:{ftp_port}/passwd"),
        "/c/2019-09-09/doc-iicezzrq4681602.shtml": (302, "data:text/html,<html><body><h1>DATAMARK</h1></body></html>"),
        "/c/2019-09-09/doc-iicezzrq4681603.shtml": (307, "javascript:alert(1)"),
        "/c/2019-09-09/doc-iicezzrq4681604.shtml": (308, "FILE:///etc/passwd"),
    }
    refresh = "/c/2019-09-09/doc-iicezzrq4681605.shtml"
    refresh_page = (
        b'<html><head><meta http-equiv="refresh" content="0; url=file:///etc/passwd"></head>'
        b"<body><p>x</p></body></html>"
    )

    def respond(path):
        if path in targets:
            status, location = targets[path]
            return status, {"Location": location, "Content-Type": "text/html"}, b"<html><body>moved</body></html>"
        if path == refresh:
            return 200, {"Content-Type": "text/html"}, refresh_page
        return 404, {}, b""

    server = local_server(respond)
    result = run_scrapy(
        "crawl", "sina_finance", "-a", f"urls={','.join(server.base_url + p for p in [*targets, refresh])}",
        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'redirects.db'}", "-s", "LOG_LEVEL=DEBUG",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_ENABLED=False",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    requested = _requested_urls(result.stderr)
    assert requested and all(url.startswith(server.base_url) for url in requested), requested
    assert "Redirecting" not in result.stderr
    # every request Scrapy made went to the local server: robots.txt plus the six pages
    assert _stat(result.stderr, "downloader/request_count") == len(server.requests) == len(targets) + 2
    stored = _dump_tables(f"sqlite:///{tmp_path / 'redirects.db'}")
    for text in (result.stdout, result.stderr, stored):
        assert PASSWD_MARK not in text and "DATAMARK" not in text
