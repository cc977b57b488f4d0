"""A ban (HTTP 456 or Sina's ban page) stops the crawl at once with exit code 3."""

from __future__ import annotations

import pytest

from tests.helpers import run_scrapy

BAN_PAGE = "<html><body><p>您的IP 存在异常访问，已被新浪安全部门封禁</p></body></html>".encode()
ARTICLE_PATHS = [f"/c/2019-09-09/doc-iicezzrq46816{n:02d}.shtml" for n in range(20)]


def _crawl_local(base_url: str, tmp_path):
    urls = ",".join(base_url + path for path in ARTICLE_PATHS)
    return run_scrapy(
        "crawl", "sina_finance", "-a", f"urls={urls}",
        "-s", f"DATABASE_URL=sqlite:///{tmp_path / 'ban.db'}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        "-s", "CAIXUN_COVERAGE_THRESHOLDS={}",  # the test pages carry no dates
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body"),
    [(456, b"blocked"), (200, BAN_PAGE)],
    ids=["http-456", "ban-page"],
)
def test_ban_stops_the_crawl_without_retrying(local_server, tmp_path, status, body):
    server = local_server(lambda path: (status, {"Content-Type": "text/html; charset=utf-8"}, body))
    result = _crawl_local(server.base_url, tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    ban_lines = [line for line in result.stderr.splitlines() if "BANNED by" in line]
    assert len(ban_lines) == 1, ban_lines
    assert "'finish_reason': 'banned'" in result.stderr
    # robots.txt plus at most the requests already in flight: no retries, no further pages
    assert len(server.requests) <= 3, server.requests
    assert len(server.requests) < len(ARTICLE_PATHS)


def test_a_normal_site_is_not_taken_for_a_ban(local_server, tmp_path):
    page = "<html><head><title>t</title></head><body><h1>标题</h1><p>正文内容很长。</p></body></html>".encode()
    server = local_server(lambda path: (404, {}, b"") if path == "/robots.txt" else (200, {"Content-Type": "text/html"}, page))
    result = _crawl_local(server.base_url, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "BANNED" not in result.stderr
    assert len(server.requests) == len(ARTICLE_PATHS) + 1
