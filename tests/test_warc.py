"""WARC replay (matching, 404s) and WARC writing (records, rotation), round trip included."""

from __future__ import annotations

import gzip
import json

from scrapy import Request
from warcio.archiveiterator import ArchiveIterator

from crawler.middlewares.warc_replay import WarcIndex
from tests.helpers import run_scrapy, run_storage, write_warc

PAGE = "<html><head><title>测试</title></head><body><h1>测试标题</h1><p>这是正文第一段，内容足够长。</p><p>第二段。</p></body></html>"


def test_replay_matches_urls_whatever_the_query_order(tmp_path):
    body = PAGE.encode("utf-8")
    warc = write_warc(tmp_path / "a.warc.gz", [("https://example.com/p?b=2&a=1", 200, [("Content-Type", "text/html")], body)])
    index = WarcIndex([warc])
    response = index.response_for(Request("https://example.com/p?a=1&b=2"))
    assert response is not None and response.status == 200 and response.body == body
    assert response.url == "https://example.com/p?a=1&b=2"
    assert index.response_for(Request("https://example.com/other")) is None


def test_replay_decodes_content_encoding(tmp_path):
    body = PAGE.encode("utf-8")
    headers = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
    warc = write_warc(tmp_path / "gz.warc.gz", [("https://example.com/gz", 200, headers, gzip.compress(body))])
    response = WarcIndex([warc]).response_for(Request("https://example.com/gz"))
    assert response.body == body
    assert b"Content-Encoding" not in response.headers


def test_missing_archive_is_a_clear_error(tmp_path):
    result = run_scrapy(
        "crawl", "sina_finance", "-a", "urls=https://finance.sina.com.cn/x/doc-iabcdefg1234567.shtml",
        "-s", f"REPLAY_WARC={tmp_path / 'missing.warc.gz'}", "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'x.db'}",
    )  # fmt: skip
    assert result.returncode == 1
    assert "no such file" in result.stderr


def test_write_warc_from_a_live_fetch_then_replay_it(local_server, tmp_path):
    body = PAGE.encode("utf-8")
    server = local_server(
        lambda path: (404, {}, b"") if path == "/robots.txt" else (200, {"Content-Type": "text/html; charset=utf-8"}, body)
    )
    urls = [f"{server.base_url}/news/{n}.html" for n in range(6)]
    warc_dir = tmp_path / "warc"
    fetched = run_scrapy(
        "crawl", "sina_finance", "-a", "urls=" + ",".join(urls),
        "-s", f"WARC_DIR={warc_dir}", "-s", "CAIXUN_WARC_MAX_BYTES=1000",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'live.db'}",
    )  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr[-3000:]
    files = sorted(warc_dir.glob("caixun-sina_finance-*.warc.gz"))
    assert len(files) > 1, "a 1000-byte limit must rotate files"
    archived = {}
    for path in files:
        with path.open("rb") as stream:
            types = []
            for record in ArchiveIterator(stream):
                types.append(record.rec_type)
                if record.rec_type == "response":
                    archived[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
            assert types[0] == "warcinfo"
    assert all(archived[url] == body for url in urls)
    assert f"{server.base_url}/robots.txt" in archived

    # the archives replay the same crawl with the server gone
    server.httpd.shutdown()
    replayed = run_scrapy(
        "crawl", "sina_finance", "-a", "urls=" + ",".join(urls),
        "-s", "REPLAY_WARC=" + ",".join(map(str, files)),
        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'replayed.db'}",
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    live = [json.loads(x) for x in run_storage("export", "--database-url", f"sqlite:///{tmp_path / 'live.db'}").stdout.splitlines()]
    again = [json.loads(x) for x in run_storage("export", "--database-url", f"sqlite:///{tmp_path / 'replayed.db'}").stdout.splitlines()]
    strip = lambda records: sorted((r["url"], r["title"], r["body"]) for r in records)  # noqa: E731
    assert len(live) == len(urls) and strip(live) == strip(again)
