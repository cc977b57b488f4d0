"""crawler.sites: a URL's site, the crawlable sites, and a site's politeness as download-slot settings."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from crawler.sites import crawlable_sites, download_slots, site_of, sites_named
from crawler.spiders.news import NewsSpider, planned_sites
from extractors.rules import SiteRule
from extractors.sources import Feed, Politeness


def test_a_url_belongs_to_its_rule_or_else_its_host():
    assert site_of("https://finance.sina.com.cn/roll/2024-05-10/doc-iaxwqvxm1234567.shtml") == "sina"
    assert site_of("https://money.163.com/24/0510/14/J1K3M5O700259DLP.html") == "netease"
    assert site_of("https://News.Example.ORG/a/1.html") == "news.example.org"
    assert site_of("not a url") == ""


def test_every_site_with_sources_is_crawlable_and_unknown_names_are_refused():
    names = [rule.name for rule in crawlable_sites()]
    assert {"sina", "eastmoney", "yicai", "netease", "stcn", "thepaper", "qq", "ifeng"} <= set(names)
    assert "sohu" not in names  # a rule without sources: its pages come through feeds only
    assert [r.name for r in sites_named(" stcn , sina,stcn")] == ["stcn", "sina"]
    with pytest.raises(ValueError, match=r"no site with discovery sources named 'sohu', 'nope'; known: eastmoney"):
        sites_named("sohu,nope")


def test_declared_delay_and_concurrency_become_the_sites_slot():
    polite = SiteRule("slow", ("slow.example",), (), sources=(Feed("https://slow.example/rss"),),
                      politeness=Politeness(delay=5, concurrency=1))  # fmt: skip
    headers_only = SiteRule("plain", ("plain.example",), (), politeness=Politeness(headers=(("Referer", "x"),)))
    assert download_slots([polite, headers_only]) == {"slow": {"delay": 5, "concurrency": 1}}
    # the user's DOWNLOAD_SLOTS entry for a site replaces the site's own
    assert download_slots([polite], {"slow": {"delay": 1}, "other": {"concurrency": 4}}) == {
        "slow": {"delay": 1}, "other": {"concurrency": 4},
    }  # fmt: skip
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        Politeness(concurrency=0)


def test_the_spider_keeps_the_users_download_slots_given_on_the_command_line():
    settings = Settings({"DOWNLOAD_SLOTS": {"sina": {"delay": 9}}}, priority="cmdline")
    NewsSpider.update_settings(settings)
    assert settings.getdict("DOWNLOAD_SLOTS")["sina"] == {"delay": 9}


def test_a_run_locks_the_sites_it_crawls():
    assert planned_sites(sites="stcn,qq") == ["stcn", "qq"]
    assert planned_sites(urls="https://www.thepaper.cn/newsDetail_forward_1,https://x.example/a") == ["thepaper", "x.example"]
    assert planned_sites(feeds="https://f.example/rss") == ["feed https://f.example/rss"]
    assert planned_sites(sites="qq", feeds="https://f.example/rss") == ["qq", "feed https://f.example/rss"]
    assert {"sina", "eastmoney"} <= set(planned_sites())  # no arguments: every crawlable site
