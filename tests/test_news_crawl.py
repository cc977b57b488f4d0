"""End to end: the real `scrapy crawl news` and `python -m crawler run news` on replay archives.

Each archive holds list answers built in the shape of the sites' list fixtures
(tests/fixtures/<site>/list_source_*), naming recorded article pages of the
corpus, and those pages as recorded. Expected titles come from the pages' own
fixture sidecars, written by hand to EXTRACTION_SPEC.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler import exitcodes, settings
from crawler.rollapi import roll_api_url
from crawler.sites import crawlable_sites
from crawler.sources import first_url
from extractors import rule_named
from extractors.registry import rule_for
from tests import request_log
from tests.helpers import (
    fixtures, html_headers, roll_api_body, rss_feed, run_crawler, run_scrapy, run_storage, write_warc,
)

FEED_URL = "https://feeds.example.org/finance.xml"
T0 = datetime(2024, 5, 10, 6, 0, tzinfo=timezone.utc)
JSON = [("Content-Type", "application/json; charset=utf-8")]
XML = [("Content-Type", "application/xml; charset=utf-8")]


def _recorded(fixture_site: str, count: int) -> list:
    """Recorded article pages of a site that its rule takes for articles, newest templates first."""
    found = [f for f in fixtures(fixture_site, kind="article") if rule_for(f.url).classify_url(f.url) == "article"]
    found.sort(key=lambda f: f.meta.get("captured") or f.url, reverse=True)
    unique = list({f.url: f for f in found}.values())
    return unique[:count]


def _page_records(pages: list) -> list:
    return [(f.url, 200, html_headers(f.body), f.body) for f in pages]


def _export(database_url: str) -> dict[str, dict]:
    result = run_storage("export", "--database-url", database_url, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return {record["url"]: record for record in map(json.loads, result.stdout.splitlines())}


def _stat(stderr: str, key: str) -> int:
    match = re.search(rf"'{re.escape(key)}': (\d+)", stderr)
    return int(match.group(1)) if match else 0


# --- any RSS feed a user names -----------------------------------------------------------------------

FEED_SITES = {"163": "netease", "ifeng": "ifeng", "qq": "qq", "sohu": "sohu", "thepaper": "thepaper"}
FEED_PAGES = [page for fixture_site in FEED_SITES for page in _recorded(fixture_site, 2)]


def _rss(pages: list) -> bytes:
    return rss_feed([(p.expected["title"], p.url, T0 - timedelta(minutes=n)) for n, p in enumerate(pages)])


@pytest.fixture(scope="module")
def feed_warc(tmp_path_factory) -> Path:
    records = [(FEED_URL, 200, XML, _rss(FEED_PAGES)), *_page_records(FEED_PAGES)]
    return write_warc(tmp_path_factory.mktemp("warc") / "feed.warc.gz", records)


def _crawl_feed(feed_warc: Path, database_url: str):
    return run_scrapy(
        "crawl", "news", "-a", f"feeds={FEED_URL}", "-s", f"REPLAY_WARC={feed_warc}",
        "-s", f"DATABASE_URL={database_url}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
    )  # fmt: skip


def _feed_stores_every_page_once(feed_warc: Path, database_url: str) -> None:
    assert {f.meta["site"] for f in FEED_PAGES} == set(FEED_SITES) and len(FEED_PAGES) >= 8
    first = _crawl_feed(feed_warc, database_url)
    assert first.returncode == 0, first.stderr[-3000:]
    stored = _export(database_url)
    assert sorted(stored) == sorted(f.url for f in FEED_PAGES)
    for page in FEED_PAGES:
        record = stored[page.url]
        assert record["site"] == FEED_SITES[page.meta["site"]], page.name
        assert record["title"] == page.expected["title"], page.name
        assert record["extractor"].startswith(record["site"] + "/"), page.name  # the site's rule, not the generic path
    assert _stat(first.stderr, "caixun/fetch/article_pages") == len(FEED_PAGES)

    again = _crawl_feed(feed_warc, database_url)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _stat(again.stderr, "caixun/fetch/article_pages") == 0
    assert _stat(again.stderr, "caixun/incremental/skipped") == len(FEED_PAGES)
    assert len(_export(database_url)) == len(FEED_PAGES)


def test_a_named_feed_stores_every_listed_page_under_its_own_site(feed_warc, tmp_path):
    _feed_stores_every_page_once(feed_warc, f"sqlite:///{tmp_path / 'feed.db'}")


def test_a_named_feed_on_postgresql(feed_warc, postgres_url):
    _feed_stores_every_page_once(feed_warc, postgres_url)


def test_a_named_sitemap_works_like_a_feed(tmp_path):
    pages = _recorded("thepaper", 2)
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{p.url}</loc><lastmod>2024-05-10T14:00:00+08:00</lastmod></url>" for p in pages)
        + "</urlset>"
    ).encode()
    url = "https://maps.example.org/news.xml"
    warc = write_warc(tmp_path / "map.warc.gz", [(url, 200, XML, sitemap), *_page_records(pages)])
    database_url = f"sqlite:///{tmp_path / 'map.db'}"
    result = run_scrapy("crawl", "news", "-a", f"feeds={url}", "-s", f"REPLAY_WARC={warc}", "-s", f"DATABASE_URL={database_url}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["site"] for r in _export(database_url).values()} == {"thepaper"}
    assert sorted(_export(database_url)) == sorted(p.url for p in pages)


def test_a_named_feed_that_is_neither_fails_the_run_naming_it(tmp_path):
    url = "https://feeds.example.org/moved.xml"
    warc = write_warc(tmp_path / "bad.warc.gz", [(url, 200, [("Content-Type", "text/html")], b"<html><body>moved</body></html>")])
    result = run_scrapy("crawl", "news", "-a", f"feeds={url}", "-s", f"REPLAY_WARC={warc}",
                        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}")  # fmt: skip
    assert result.returncode == exitcodes.FAILED, result.stderr[-3000:]
    assert f"feed {url} page 1 unusable, paging stops: neither an RSS/Atom feed nor a sitemap" in result.stderr
    assert "no list page could be read for 1 source(s)" in result.stderr
    assert f"(feed {url}: neither an RSS/Atom feed nor a sitemap (not a sitemap (root <html>)))" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("-a", "sites=sina,nosuch"), "no site with discovery sources named 'nosuch'"),
        (("-a", "feeds=ftp://example.org/rss"), "feeds: not an http(s) URL"),
        (("-a", "sites=sina", "-a", "max_pages=0"), "max_pages must be at least 1"),
        (("-a", "since=10/05/2024"), "since must be a date as YYYY-MM-DD"),
    ],
    ids=["unknown-site", "feed-scheme", "max-pages", "since"],
)
def test_bad_news_arguments_fail_with_a_clear_message(tmp_path, arguments, message):
    result = run_scrapy("crawl", "news", *arguments, "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


# --- several sites' own sources in one scheduled run -------------------------------------------------

SINA = [f for f in fixtures("sina", kind="article") if rule_named("sina").classify_url(f.url) == "article"][:3]
NETEASE = _recorded("163", 3)
STCN = _recorded("stcn", 1)
THEPAPER = _recorded("thepaper", 2)
QQ = _recorded("qq", 2)
IFENG = _recorded("ifeng", 2)
RECORDED = {"sina": SINA, "netease": NETEASE, "stcn": STCN, "thepaper": THEPAPER, "qq": QQ, "ifeng": IFENG}
# Sites without a rule or a recorded page (eastmoney, yicai) answer from their list fixtures, and each listed
# URL with a recorded page of another finance site, standing in (see the test of the generic path below).
STAND_INS = [f for f in fixtures(kind="article") if rule_for(f.url) is None]  # pages no rule handles
UNRULED_LISTS = {site: fixtures(site, kind="list_source") for site in ("eastmoney", "yicai")}
UNRULED_LISTED = {site: [i["url"] for f in lists for i in f.expected["items"]] for site, lists in UNRULED_LISTS.items()}
STAND_IN = dict(zip([url for urls in UNRULED_LISTED.values() for url in urls], STAND_INS))


def _epoch(n: int) -> int:
    return int((T0 - timedelta(minutes=n)).timestamp())


def _list_records() -> list:
    """Each site's first list request answered in the shape of its list fixture, naming recorded pages."""
    sina = roll_api_body([{"url": f.url, "title": f.expected["title"], "ctime": _epoch(n), "mtime": _epoch(n)}
                          for n, f in enumerate(SINA)])  # fmt: skip
    records = [(roll_api_url(p, l, 1), 200, JSON, sina) for p, l in rule_named("sina").sources[0].channels]
    netease = [{"title": f.expected["title"], "docurl": f.url,
                "time": (T0 - timedelta(minutes=n)).astimezone(timezone(timedelta(hours=8))).strftime("%m/%d/%Y %H:%M:%S")}
               for n, f in enumerate(NETEASE)]  # fmt: skip
    records.append((first_url(rule_named("netease").sources[0]), 200, JSON,
                    f"data_callback({json.dumps(netease, ensure_ascii=False)});".encode()))  # fmt: skip
    stcn = {"state": 1, "data": [{"title": f.expected["title"], "time": _epoch(n), "url": f.url} for n, f in enumerate(STCN)]}
    records.append((first_url(rule_named("stcn").sources[0]), 200, JSON, json.dumps(stcn).encode()))
    paper = {"code": 200, "data": {"list": [
        {"contId": f.url.rsplit("_", 1)[1], "name": f.expected["title"], "pubTimeLong": _epoch(n) * 1000}
        for n, f in enumerate(THEPAPER)
    ]}}  # fmt: skip
    records.append((first_url(rule_named("thepaper").sources[0]), 200, JSON, json.dumps(paper).encode()))
    index_url = first_url(rule_named("qq").sources[0])
    child = "https://news.qq.com/sitemap/sitemap_20240510.xml"
    index = f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{child}</loc></sitemap></sitemapindex>'
    urlset = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{f.url}</loc><lastmod>2024-05-10T14:0{n}:00+08:00</lastmod></url>" for n, f in enumerate(QQ))
        + "</urlset>"
    )
    records += [(index_url, 200, XML, index.encode()), (child, 200, XML, urlset.encode())]
    stream = [{"title": f.expected["title"], "url": f.url, "newsTime": "2024-05-10 14:00:00"} for f in IFENG]
    ifeng = f"<html><body><script>var allData = {{\"newsstream\":{json.dumps(stream, ensure_ascii=False)}}};</script></body></html>"
    records.append((first_url(rule_named("ifeng").sources[0]), 200, [("Content-Type", "text/html; charset=utf-8")],
                    ifeng.encode()))  # fmt: skip
    return records


def _site_archive(path: Path, banned: str | None = None) -> Path:
    """Every site's list answers and the pages they list; every article page of `banned` answers 456."""
    records = _list_records() + [(f.url, 200, JSON, f.body) for lists in UNRULED_LISTS.values() for f in lists]
    pages = [(f.url, f.body) for group in RECORDED.values() for f in group]
    pages += [(url, page.body) for url, page in STAND_IN.items()]
    for url, body in pages:
        if banned and rule_for(url).name == banned:
            records.append((url, 456, [("Content-Type", "text/html")], b"blocked"))
        else:
            records.append((url, 200, html_headers(body), body))
    return write_warc(path, records)


def _run_news(tmp_path: Path, warc: Path, database_url: str, *settings: str):
    """`python -m crawler run news`: every site that declares sources."""
    return run_crawler(
        "run", "news", "-a", "max_pages=1", "--database-url", database_url,
        "-s", f"REPLAY_WARC={warc}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}", "-s", f"WARC_DIR={tmp_path / 'warc'}",
        "-s", "CAIXUN_COVERAGE_THRESHOLDS={}",  # a few pages per site: not what the alarm judges here
        *settings,
    )  # fmt: skip


def _site_lines(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^news run \d+ site (\S+): (.*)$", stdout, re.MULTILINE))


def test_one_run_sweeps_every_site_and_says_what_each_gave(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'sites.db'}"
    result = _run_news(tmp_path, _site_archive(tmp_path / "sites.warc.gz"), database_url)
    assert result.returncode == exitcodes.OK, result.stderr[-3000:]
    stored = _export(database_url)
    expected = {site: [f.url for f in pages] for site, pages in RECORDED.items()} | UNRULED_LISTED
    assert sorted(expected) == sorted(rule.name for rule in crawlable_sites())  # every site that declares sources
    assert sorted(stored) == sorted(url for urls in expected.values() for url in urls)
    lines = _site_lines(result.stdout)
    assert sorted(lines) == sorted(expected)
    for site, urls in expected.items():
        assert lines[site].startswith(f"new {len(urls)}, "), lines[site]
        assert "banned no" in lines[site]
        assert all(stored[url]["site"] == site for url in urls), site
    for site, pages in RECORDED.items():
        assert all(stored[f.url]["title"] == f.expected["title"] for f in pages), site
    [total] = [line for line in result.stdout.splitlines() if re.match(r"news run \d+: ", line)]
    assert f"new {len(stored)}, " in total and "banned no" in total and total.endswith("exit 0")


def test_a_ban_on_one_site_stops_only_that_site(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'ban.db'}"
    result = _run_news(tmp_path, _site_archive(tmp_path / "ban.warc.gz", banned="netease"), database_url,
                       "-s", "LOG_LEVEL=INFO")  # the stats are logged at INFO
    assert result.returncode == exitcodes.BANNED, result.stderr[-3000:]
    stored = _export(database_url)
    unbanned = {site: pages for site, pages in RECORDED.items() if site != "netease"}
    assert sorted(stored) == sorted([f.url for pages in unbanned.values() for f in pages] + list(STAND_IN))
    lines = _site_lines(result.stdout)
    assert lines["netease"].startswith("new 0, ") and "banned yes (HTTP 456)" in lines["netease"]
    assert all("banned no" in lines[site] for site in lines if site != "netease")
    [total] = [line for line in result.stdout.splitlines() if re.match(r"news run \d+: ", line)]
    assert "banned yes (netease)" in total and total.endswith("exit 3")
    # the banned site's requests stop at the ban: its other listed pages are never asked for
    assert _stat(result.stderr, "caixun/site/netease/fetch/article_pages") == 0


def test_each_site_is_asked_the_way_it_declares(tmp_path):
    """Method, body and headers of list requests come from the source; a site's politeness headers and its
    download slot go with every request of the site."""
    log = tmp_path / "requests.jsonl"
    database_url = f"sqlite:///{tmp_path / 'ask.db'}"
    middlewares = {**settings.DOWNLOADER_MIDDLEWARES, "tests.request_log.RequestLog": 940}  # -s replaces the dict
    result = _run_news(tmp_path, _site_archive(tmp_path / "ask.warc.gz"), database_url,
                       "-s", f"DOWNLOADER_MIDDLEWARES={json.dumps(middlewares)}", "-s", f"REQUEST_LOG={log}",
                       "-s", 'DOWNLOAD_SLOTS={"stcn": {"delay": 0, "concurrency": 1}}')  # fmt: skip
    assert result.returncode == exitcodes.OK, result.stderr[-3000:]
    asked = request_log.read(log)
    [paper] = asked[first_url(rule_named("thepaper").sources[0])]
    assert paper["method"] == "POST" and json.loads(paper["body"]) == {"channelId": "25951"}
    assert paper["headers"]["content-type"] == "application/json"
    [stcn] = asked[first_url(rule_named("stcn").sources[0])]
    assert stcn["method"] == "GET" and stcn["headers"]["x-requested-with"] == "XMLHttpRequest"
    sina = [r for url in asked if rule_for(url) is rule_named("sina") and "robots.txt" not in url for r in asked[url]]
    assert len(sina) == len(SINA) + 10  # ten channels and the articles
    assert all(r["headers"].get("referer") == "https://finance.sina.com.cn/roll/" and r["slot"] == "sina" for r in sina)
    others = [r for url in asked if "robots.txt" not in url and rule_for(url) is not rule_named("sina") for r in asked[url]]
    first_lists = [asked[first_url(rule_named(site).sources[0])][0] for site in ("netease", "stcn", "thepaper", "qq", "ifeng")]
    assert not any("referer" in r["headers"] for r in first_lists)  # Sina's header stays Sina's
    assert all(r["slot"] == rule_for(r["url"]).name for r in others)
    # a slot given a delay keeps it: AutoThrottle leaves stcn's pace alone, and only stcn's
    assert all(r["fixed_delay"] == (r["slot"] == "stcn") for r in sina + others)


# --- paging, watermarks and since on a JSON list ----------------------------------------------------------

def _netease_pages(path: Path, pages: list[list]) -> Path:
    """163's JSONP list: pages[0] at news_flow_index.js, pages[1] at news_flow_index_02.js, …"""
    source = rule_named("netease").sources[0]
    records = []
    for number, listed in enumerate(pages, 1):
        url = first_url(source) if number == 1 else source.url.format(page=number)
        entries = [{"title": f.expected["title"], "docurl": f.url, "time": when} for f, when in listed]
        records.append((url, 200, JSON, f"data_callback({json.dumps(entries, ensure_ascii=False)})".encode()))
    records += _page_records([f for listed in pages for f, _ in listed])
    return write_warc(path, records)


NEWEST_FIRST = _recorded("163", 4)
PAGES = [
    [(NEWEST_FIRST[0], "05/10/2024 14:31:02"), (NEWEST_FIRST[1], "05/10/2024 12:00:00")],
    [(NEWEST_FIRST[2], "05/09/2024 23:00:00"), (NEWEST_FIRST[3], "05/09/2024 08:00:00")],
]


def _crawl_netease(warc: Path, database_url: str, *arguments: str):
    return run_scrapy("crawl", "news", "-a", "sites=netease", *arguments, "-s", f"REPLAY_WARC={warc}",
                      "-s", f"DATABASE_URL={database_url}", "-s", "CAIXUN_COVERAGE_THRESHOLDS={}")  # fmt: skip


def test_a_json_list_pages_until_max_pages_and_then_stops_at_its_watermark(tmp_path):
    warc = _netease_pages(tmp_path / "163.warc.gz", PAGES)
    database_url = f"sqlite:///{tmp_path / '163.db'}"
    first = _crawl_netease(warc, database_url, "-a", "max_pages=2")
    assert first.returncode == 0, first.stderr[-3000:]
    assert sorted(_export(database_url)) == sorted(f.url for f in NEWEST_FIRST)
    assert _stat(first.stderr, "caixun/list/pages") == 2
    again = _crawl_netease(warc, database_url, "-a", "max_pages=2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "netease jsonlist:news_flow_index page 1 reaches the last finished sweep" in again.stderr
    assert _stat(again.stderr, "caixun/list/pages") == 1 and _stat(again.stderr, "caixun/incremental/caught_up") == 1
    assert _stat(again.stderr, "caixun/fetch/article_pages") == 0


def test_since_skips_older_items_and_stops_paging(tmp_path):
    warc = _netease_pages(tmp_path / "163.warc.gz", PAGES)
    database_url = f"sqlite:///{tmp_path / 'since.db'}"
    result = _crawl_netease(warc, database_url, "-a", "since=2024-05-10")  # the listed times are China time too
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(_export(database_url)) == sorted(f.url for f in NEWEST_FIRST[:2])
    assert _stat(result.stderr, "caixun/discover/skipped/older") == 2
    assert "netease jsonlist:news_flow_index page 2: all items older than since, paging stops" in result.stderr
    assert _stat(result.stderr, "caixun/list/pages") == 2  # page 3 is never asked for


# --- run locks per site, coverage per site --------------------------------------------------------------

def test_a_run_on_a_site_being_crawled_exits_75_and_disjoint_sites_go_ahead(tmp_path):
    from crawler.runlock import RunLock

    database_url = f"sqlite:///{tmp_path / 'lock.db'}"
    warc = _site_archive(tmp_path / "lock.warc.gz")
    common = ("--database-url", database_url, "-a", "max_pages=1", "-s", f"REPLAY_WARC={warc}", "-s", "LOG_LEVEL=INFO",
              "-s", f"CAIXUN_SPOOL_DIR={tmp_path / 'spool'}", "-s", f"WARC_DIR={tmp_path / 'warc'}")  # fmt: skip
    with RunLock(["stcn"], database_url) as held:  # another run crawling stcn, as far as the lock can tell
        assert held.acquire()
        same = run_crawler("run", "news", "-a", "sites=thepaper,stcn", *common)
        assert same.returncode == exitcodes.ALREADY_RUNNING, same.stderr[-3000:]
        assert "news: a run on stcn is already running on" in same.stderr and "Spider opened" not in same.stderr
        other = run_crawler("run", "news", "-a", "sites=thepaper", *common)
        assert other.returncode == exitcodes.OK, other.stderr[-3000:]
    assert sorted(_export(database_url)) == sorted(f.url for f in THEPAPER)
    after = run_crawler("run", "news", "-a", "sites=stcn", *common)  # the lock is free again
    assert after.returncode == exitcodes.OK, after.stderr[-3000:]


def test_a_template_change_on_one_site_is_reported_with_its_name(tmp_path):
    broken = {f.url for f in FEED_PAGES if f.meta["site"] == "163"}
    records = [(FEED_URL, 200, XML, _rss(FEED_PAGES))]
    for page in FEED_PAGES:  # 163's pages come back in a template no rule or generic path reads
        body = b"<html><head><title>x</title></head><body><div id='new-layout'></div></body></html>" if page.url in broken else page.body
        records.append((page.url, 200, html_headers(body), body))
    warc = write_warc(tmp_path / "changed.warc.gz", records)
    result = run_scrapy(
        "crawl", "news", "-a", f"feeds={FEED_URL}", "-s", f"REPLAY_WARC={warc}",
        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'changed.db'}", "-s", "CAIXUN_COVERAGE_MIN_ARTICLES=2",
        "-s", 'CAIXUN_COVERAGE_THRESHOLDS={"title": 0.99, "body": 0.99}',
    )  # fmt: skip
    assert result.returncode == exitcodes.COVERAGE, result.stderr[-3000:]
    [alarm] = [line for line in result.stderr.splitlines() if "ERROR: field coverage below thresholds" in line]
    assert "field coverage below thresholds on netease (a template change?): title 0.0% < 99%" in alarm
    assert all(url in alarm for url in broken)
    assert not any(f" on {site} " in alarm for site in ("ifeng", "qq", "sohu", "thepaper"))


# --- sites without a rule: list fixture to stored article through the generic path -----------------------



@pytest.mark.parametrize("site", ["eastmoney", "yicai"])
def test_a_site_without_a_rule_is_crawled_from_its_list_fixture_through_the_generic_path(tmp_path, site):
    """The list answers are the site's list fixtures (modelled, see their notes). No article page of these sites
    has been recorded, so each listed URL answers with a recorded page of another finance site, standing in:
    what is shown is list → fetch → generic extraction → stored under the listing site's name."""
    lists, listed = UNRULED_LISTS[site], UNRULED_LISTED[site]
    assert len(STAND_IN) == sum(map(len, UNRULED_LISTED.values()))  # a page of its own for each listed URL
    stand_in = {url: STAND_IN[url] for url in listed}
    records = [(f.url, 200, JSON, f.body) for f in lists]
    records += [(url, 200, html_headers(page.body), page.body) for url, page in stand_in.items()]
    warc = write_warc(tmp_path / f"{site}.warc.gz", records)
    database_url = f"sqlite:///{tmp_path / f'{site}.db'}"
    result = run_scrapy("crawl", "news", "-a", f"sites={site}", "-s", f"REPLAY_WARC={warc}",
                        "-s", f"DATABASE_URL={database_url}", "-s", "CAIXUN_COVERAGE_THRESHOLDS={}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    stored = _export(database_url)
    assert sorted(stored) == sorted(listed)
    for url, page in stand_in.items():
        assert stored[url]["site"] == site and stored[url]["extractor"].startswith("generic@"), url
        assert stored[url]["title"] == page.expected["title"], page.name
    skipped = sum(f.expected.get("skipped", 0) for f in lists)  # yicai's paid item: never asked for
    assert _stat(result.stderr, "caixun/discover/skipped/excluded") == skipped
    assert _stat(result.stderr, "caixun/fetch/article_pages") == len(listed)


def test_a_sitemap_index_is_followed_max_pages_deep_newest_sitemap_first(tmp_path):
    pages = _recorded("thepaper", 3)
    index_url = "https://maps.example.org/index.xml"
    days = ["2024-05-08", "2024-05-10", "2024-05-09"]  # listed out of order; the newest two are followed
    children = [f"https://maps.example.org/{day}.xml" for day in days]
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{url}</loc><lastmod>{day}</lastmod></sitemap>" for url, day in zip(children, days))
        + "</sitemapindex>"
    ).encode()
    records = [(index_url, 200, XML, index), *_page_records(pages)]
    for url, page in zip(children, pages):
        urlset = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{page.url}</loc></url></urlset>'
        records.append((url, 200, XML, urlset.encode()))
    warc = write_warc(tmp_path / "index.warc.gz", records)
    database_url = f"sqlite:///{tmp_path / 'index.db'}"
    result = run_scrapy("crawl", "news", "-a", f"feeds={index_url}", "-a", "max_pages=2", "-s", f"REPLAY_WARC={warc}",
                        "-s", f"DATABASE_URL={database_url}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(_export(database_url)) == sorted([pages[1].url, pages[2].url])
    assert _stat(result.stderr, "caixun/discover/sitemaps_not_followed") == 1


def test_a_named_feed_never_leads_off_http(tmp_path):
    """A feed may list any host, but only http(s) URLs are requested: file:, ftp: and data: items are skipped."""
    url = "https://feeds.example.org/odd.xml"
    links = ["file:///etc/passwd", "ftp://ftp.example.org/a.html", "data:text/html,<p>x</p>", "javascript:alert(1)"]
    items = "".join(f"<item><title>x</title><link>{link}</link></item>" for link in links)
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    warc = write_warc(tmp_path / "odd.warc.gz", [(url, 200, XML, feed)])
    result = run_scrapy("crawl", "news", "-a", f"feeds={url}", "-s", f"REPLAY_WARC={warc}",
                        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'odd.db'}")  # fmt: skip
    assert _stat(result.stderr, "caixun/discover/skipped/other") == len(links)
    assert _stat(result.stderr, "caixun/fetch/article_pages") == 0 and "file_download" not in result.stderr
    assert "/etc/passwd" not in run_storage("export", "--database-url", f"sqlite:///{tmp_path / 'odd.db'}",
                                            "--format", "jsonl").stdout  # fmt: skip
