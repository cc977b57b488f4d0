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


# --- Per-site bans: a spider crawling two sites, run by the real engine in a subprocess ---------------------

# A tiny two-site spider (sites "a" and "b", one local server each) run with CrawlerProcess and the project's
# settings. It prints what happened as JSON: the crawl's stats; per site the requests served (callback),
# failed (errback message) and that reached the downloader (signal request_reached_downloader, sent when a
# request has passed every process_request and enters its slot's queue); and the downloader's slot queues
# just before and just after BanMiddleware handled the first ban response (response_downloaded handlers run
# in the order they were connected: the spider's from_crawler runs before the engine, hence the middleware,
# is built, spider_opened after).
TWO_SITE_CRAWL = r'''
import json
import sys

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

config = json.loads(sys.argv[1])


class TwoSites(scrapy.Spider):
    name = "two_sites"
    crawl_sites = ["a", "b"]

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.log_of = {"served": {"a": [], "b": []}, "failed": {"a": [], "b": []}, "reached": {"a": [], "b": []},
                         "queue_before_ban": None, "queue_after_ban": None}
        crawler.signals.connect(spider.reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(spider.before_ban, signal=signals.response_downloaded)
        crawler.signals.connect(spider.opened, signal=signals.spider_opened)
        return spider

    def opened(self, spider):
        self.crawler.signals.connect(self.after_ban, signal=signals.response_downloaded)

    def queues(self):
        slots = self.crawler.engine.downloader.slots
        return {key: [[r.meta["caixun_site"], r.url] for r, _ in slot.queue] for key, slot in slots.items()}

    def before_ban(self, response, request, spider):
        if response.status == 456 and self.log_of["queue_before_ban"] is None:
            self.log_of["queue_before_ban"] = self.queues()

    def after_ban(self, response, request, spider):
        if response.status == 456 and self.log_of["queue_after_ban"] is None:
            self.log_of["queue_after_ban"] = self.queues()

    async def start(self):
        for n in range(config["per_site"]):
            for site in ("a", "b"):
                meta = {"caixun_site": site}
                if config["slot_per_site"]:
                    meta["download_slot"] = site
                yield scrapy.Request(f"{config['base'][site]}/p{n:02d}", meta=meta,
                                     callback=self.parse, errback=self.failed)

    def reached(self, request, spider):
        self.log_of["reached"][request.meta["caixun_site"]].append(request.url)

    def parse(self, response):
        self.log_of["served"][response.meta["caixun_site"]].append(response.url)

    def failed(self, failure):
        self.log_of["failed"][failure.request.meta["caixun_site"]].append(failure.getErrorMessage())


settings = get_project_settings()
settings.setdict({
    "CAIXUN_STORAGE_ENABLED": False, "ITEM_PIPELINES": {}, "SPIDER_MIDDLEWARES": {},
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
    **config["settings"],
}, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(TwoSites)
process.crawl(crawler)
process.start()
stats = crawler.stats.get_stats()
print(json.dumps({"stats": stats, **crawler.spider.log_of}, default=str))
'''


def _crawl_two_sites(tmp_path, base_a: str, base_b: str, *, per_site: int, slot_per_site: bool, settings: dict):
    import json
    import subprocess
    import sys

    from tests.helpers import PROJECT_DIR, _crawl_env

    script = tmp_path / "two_sites.py"
    script.write_text(TWO_SITE_CRAWL, "utf-8")
    config = {"base": {"a": base_a, "b": base_b}, "per_site": per_site, "slot_per_site": slot_per_site,
              "settings": settings}  # fmt: skip
    result = subprocess.run(
        [sys.executable, str(script), json.dumps(config)],
        cwd=PROJECT_DIR, env=_crawl_env(None), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def _page(path):
    return 200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body><p>{path}</p></body></html>".encode()


def test_a_ban_of_one_site_leaves_the_other_crawling(local_server, tmp_path):
    from crawler.exitcodes import BANNED, exit_code_for

    per_site = 12
    server_a = local_server(lambda path: (456, {"Content-Type": "text/html"}, b"blocked"))
    server_b = local_server(_page)
    # one download slot per site, as the news spider has (concurrency 2 each: CONCURRENT_REQUESTS_PER_DOMAIN)
    run, stderr = _crawl_two_sites(tmp_path, server_a.base_url, server_b.base_url, per_site=per_site,
                                   slot_per_site=True, settings={})  # fmt: skip
    stats = run["stats"]

    expected_b = {f"/p{n:02d}" for n in range(per_site)}
    assert sorted(server_b.requests) == sorted(expected_b), server_b.requests  # every page of b, once each
    assert len(run["served"]["b"]) == per_site
    assert run["failed"]["b"] == []
    assert 1 <= len(server_a.requests) <= 2, server_a.requests  # what was in flight; no retries into the ban
    assert run["served"]["a"] == []
    assert len(run["failed"]["a"]) == per_site
    assert all("banned" in message for message in run["failed"]["a"]), run["failed"]["a"]

    assert stats["finish_reason"] == "finished"
    assert stats["caixun/ban/detected"] == 1
    assert stats["caixun/ban/sites"] == ["a"]
    assert stats["caixun/ban/a/reason"] == "HTTP 456"
    assert stats["caixun/ban/reason"] == "HTTP 456"
    assert stats["caixun/ban/url"].startswith(server_a.base_url + "/p")
    assert "caixun/ban/b/reason" not in stats
    ban_lines = [line for line in stderr.splitlines() if "BANNED by" in line]
    assert len(ban_lines) == 1, ban_lines
    assert "(site a)" in ban_lines[0] and "still crawling b" in ban_lines[0], ban_lines
    assert exit_code_for(stats["finish_reason"], stats) == BANNED


def test_a_ban_fails_the_queued_requests_of_its_site_and_keeps_the_others_in_order(local_server, tmp_path):
    from tests.conftest import Delay

    per_site = 10
    # Both servers are 127.0.0.1, so without download_slot meta the two sites share one downloader slot;
    # with concurrency 1 the other requests wait in that slot's queue, a's and b's mixed. a answers its
    # ban slowly so that the queue has filled when it comes.
    server_a = local_server(lambda path: Delay(0.5, (456, {"Content-Type": "text/html"}, b"blocked")))
    server_b = local_server(_page)
    run, stderr = _crawl_two_sites(tmp_path, server_a.base_url, server_b.base_url, per_site=per_site,
                                   slot_per_site=False, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 1})  # fmt: skip
    before, after = run["queue_before_ban"], run["queue_after_ban"]

    assert list(before) == ["127.0.0.1"], before  # one shared slot
    queued = before["127.0.0.1"]
    assert sum(site == "a" for site, _ in queued) >= 2 and any(site == "b" for site, _ in queued), queued
    assert after == {"127.0.0.1": [[site, url] for site, url in queued if site == "b"]}  # b's stay, in order
    assert server_a.requests == ["/p00"]  # the queued requests of a never went out
    assert len(run["failed"]["a"]) == per_site
    assert all(message.startswith("banned") for message in run["failed"]["a"]), run["failed"]["a"]
    assert sorted(server_b.requests) == [f"/p{n:02d}" for n in range(per_site)]
    assert len(run["served"]["b"]) == per_site
    assert run["stats"]["caixun/ban/sites"] == ["a"]
    assert run["stats"]["finish_reason"] == "finished"


def test_a_ban_of_every_crawled_site_closes_the_spider(local_server, tmp_path):
    from crawler.exitcodes import BANNED, exit_code_for

    server_a = local_server(lambda path: (456, {"Content-Type": "text/html"}, b"blocked"))
    server_b = local_server(lambda path: (200, {"Content-Type": "text/html; charset=utf-8"}, BAN_PAGE))
    run, stderr = _crawl_two_sites(tmp_path, server_a.base_url, server_b.base_url, per_site=10,
                                   slot_per_site=True, settings={})  # fmt: skip
    stats = run["stats"]
    assert stats["finish_reason"] == "banned"
    assert stats["caixun/ban/sites"] == ["a", "b"]
    assert stats["caixun/ban/b/reason"].startswith("ban page")
    assert len(server_a.requests) <= 2 and len(server_b.requests) <= 2, (server_a.requests, server_b.requests)
    assert len([line for line in stderr.splitlines() if "BANNED by" in line]) == 2
    assert exit_code_for(stats["finish_reason"], stats) == BANNED


def test_exit_code_of_a_partial_ban():
    from crawler.exitcodes import BANNED, OK, exit_code_for

    assert exit_code_for("finished", {"caixun/ban/detected": 1, "caixun/ban/sites": ["a"]}) == BANNED
    assert exit_code_for("closespider_itemcount", {"caixun/ban/detected": 1}) == BANNED
    assert exit_code_for("banned", {}) == BANNED
    assert exit_code_for("finished", {}) == OK
