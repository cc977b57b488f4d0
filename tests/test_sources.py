"""Discovery sources: every site's list fixture parses to its expected URLs and times; paging,
JSONP, paid items, feeds and sitemaps; hostile input costs only its item."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.sources import ListPage, SourceError, first_url, first_urls, parse
from extractors import all_rules, rule_named
from extractors.sources import Feed, HtmlList, JsonList, RollApi, Sitemap
from tests.helpers import FIXTURES

NOW = datetime(2024, 5, 10, 8, 0, tzinfo=timezone.utc)  # 16:00 China time, after every listed item
LIST_SOURCES = sorted(FIXTURES.glob("*/list_source_*.json"))


def _fixture(path: Path) -> tuple[dict, bytes]:
    meta = json.loads(path.read_text("utf-8"))
    return meta, gzip.decompress(path.with_name(path.name.removesuffix(".json") + ".html.gz").read_bytes())


def _source(meta: dict):
    def key(source) -> str:  # a roll-API fixture is one channel's answer
        return RollApi.channel_key(*source.channels[0]) if isinstance(source, RollApi) else source.key

    [source] = [s for s in rule_named(meta["site"]).sources if key(s) == meta["source_key"]]
    return source


def _parse(source, body, url, article_urls=(), **kwargs) -> ListPage:
    return parse(source, body, url, article_urls, now=NOW, **kwargs)


def _listed(page: ListPage) -> list[tuple[str, datetime | None]]:
    return [(item.url, item.listed_at) for item in page.items]


@pytest.mark.parametrize("path", LIST_SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_list_fixture_gives_its_expected_urls_and_times(path):
    meta, body = _fixture(path)
    assert meta["recorded"] is False and meta["modelled_on"] and meta["kind"] == "list_source"
    rule = rule_named(meta["site"])
    page = _parse(_source(meta), body, meta["url"], rule.article_urls)
    expected = meta["expected"]
    want = [(i["url"], datetime.fromisoformat(i["listed_at"])) for i in expected["items"]]
    assert _listed(page) == want
    assert all(item.listed_at.tzinfo is not None for item in page.items)
    assert all(item.source_key == meta["source_key"] for item in page.items)
    assert page.next_url == expected["next_url"]
    assert page.follow == expected.get("follow", [])
    assert (page.skipped, page.not_article) == (expected.get("skipped", 0), expected.get("not_article", 0))
    assert page.bad_items == page.bad_times == page.capped == 0
    for item in page.items:  # an article page of that site, by its own rule's patterns
        assert rule.classify_url(item.url) == "article", item.url


def test_every_site_with_sources_has_a_list_fixture_for_each_source():
    covered = {(json.loads(p.read_text("utf-8"))["site"], json.loads(p.read_text("utf-8"))["source_key"]) for p in LIST_SOURCES}
    for rule in all_rules():
        for source in rule.sources:
            key = RollApi.channel_key(*source.channels[0]) if isinstance(source, RollApi) else source.key
            assert (rule.name, key) in covered, f"{rule.name}: no list_source fixture for {key}"
    assert {r.name for r in all_rules() if r.sources} >= {
        "eastmoney", "yicai", "netease", "stcn", "thepaper", "qq", "ifeng", "sina"
    }


def test_source_keys_are_unique_per_site():
    for rule in all_rules():
        keys = [s.key for s in rule.sources]
        assert len(keys) == len(set(keys)), rule.name


def test_sina_declares_the_finance_channels():
    [roll] = rule_named("sina").sources
    assert roll.channels == (
        (153, 2516), (153, 2517), (153, 2518),
        (384, 2519), (384, 2671), (384, 2672), (384, 2673), (384, 2674), (384, 2675), (384, 2676),
    )  # fmt: skip
    assert first_urls(roll)[0] == "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2516&num=50&page=1"
    assert len(first_urls(roll)) == 10


# ---------------------------------------------------------------- paging


def test_first_urls_of_each_kind():
    em350, em724 = rule_named("eastmoney").sources
    assert "page_index=1&" in first_url(em350)
    assert "sortEnd=&" in first_url(em724)
    assert first_url(rule_named("netease").sources[0]) == (
        "https://money.163.com/special/00259BVP/news_flow_index.js?callback=data_callback"
    )
    assert first_url(rule_named("yicai").sources[0]) == "https://www.yicai.com/api/ajax/getlatest?page=1&pagesize=30"
    assert first_url(rule_named("qq").sources[0]) == "https://news.qq.com/sitemap/index.xml"
    assert first_url(rule_named("ifeng").sources[0]) == "https://finance.ifeng.com/shanklist/1-62-"
    thepaper = rule_named("thepaper").sources[0]
    assert (thepaper.method, json.loads(thepaper.body)) == ("POST", {"channelId": "25951"})
    assert dict(rule_named("stcn").sources[0].headers) == {"X-Requested-With": "XMLHttpRequest"}


def test_eastmoney_page_index_counts_up():
    source = rule_named("eastmoney").sources[0]
    body = json.dumps({"data": {"list": [{"code": "202405103072510834", "title": "t", "showTime": "2024-05-10 09:21:05"}]}})
    page7 = source.url.format(page=7)
    assert _parse(source, body.encode(), page7).next_url == source.url.format(page=8)
    assert "page_index=8&" in source.url.format(page=8)


def test_an_empty_page_ends_paging():
    source = rule_named("eastmoney").sources[0]
    page = _parse(source, b'{"data": {"list": []}}', source.url.format(page=3))
    assert page.items == [] and page.next_url is None
    assert _parse(source, b'{"data": null}', source.url.format(page=3)).next_url is None


def test_eastmoney_724_cursor_is_taken_from_the_answer_not_added_to():
    source = rule_named("eastmoney").sources[1]
    later = source.url.replace("sortEnd=&", "sortEnd=1715322516000000&")
    body = json.dumps({"data": {"fastNewsList": [{"code": "202405103072700001", "title": "t", "showTime": "2024-05-10 13:00:00"}],
                       "sortEnd": "1715318000000000"}})
    assert _parse(source, body.encode(), later).next_url == source.url.replace("sortEnd=&", "sortEnd=1715318000000000&")
    no_cursor = json.dumps({"data": {"fastNewsList": [{"code": "202405103072700001"}], "sortEnd": ""}})
    assert _parse(source, no_cursor.encode(), later).next_url is None


def test_163_pages_go_news_flow_index_then_02_then_03():
    source = rule_named("netease").sources[0]
    body = 'data_callback([{"docurl":"https://www.163.com/money/article/J1K3M5O700259DLP.html","time":"05/10/2024 14:31:02"}])'
    first = _parse(source, body.encode(), first_url(source))
    assert first.next_url == "https://money.163.com/special/00259BVP/news_flow_index_02.js?callback=data_callback"
    assert _parse(source, body.encode(), first.next_url).next_url == (
        "https://money.163.com/special/00259BVP/news_flow_index_03.js?callback=data_callback"
    )


def test_jsonp_is_unwrapped_with_semicolon_and_white_space_and_gbk_bytes():
    source = rule_named("netease").sources[0]
    body = '\n data_callback( [{"title":"央行","docurl":"https://www.163.com/money/article/J1K3M5O700259DLP.html"}] );\n'
    page = _parse(source, body.encode("gbk"), first_url(source))
    assert [(i.url, i.title) for i in page.items] == [("https://www.163.com/money/article/J1K3M5O700259DLP.html", "央行")]
    with pytest.raises(SourceError, match="JSONP"):
        _parse(source, b'[{"docurl": "https://www.163.com/money/article/J1K3M5O700259DLP.html"}]', first_url(source))


def test_yicai_paid_items_are_skipped_and_counted():
    source = rule_named("yicai").sources[0]
    body = json.dumps([
        {"NewsTitle": "付费", "url": "/news/102108975.html", "AppID": 0},
        {"NewsTitle": "免费", "url": "/news/102108991.html", "AppID": 1},
        {"NewsTitle": "无标记", "url": "/news/102108992.html"},
    ])  # fmt: skip
    page = _parse(source, body.encode(), first_url(source))
    assert [i.url for i in page.items] == ["https://www.yicai.com/news/102108991.html", "https://www.yicai.com/news/102108992.html"]
    assert page.skipped == 1


def test_a_declaration_with_two_url_ways_or_half_a_cursor_is_refused():
    with pytest.raises(ValueError):
        JsonList(url="https://x.test/?p={page}", name="x", url_field="u", url_template="https://x.test/{id}")
    with pytest.raises(ValueError):
        JsonList(url="https://x.test/?c=", name="x", url_field="u", cursor_field="next")
    with pytest.raises(ValueError):
        JsonList(url="https://x.test/", name="x", url_field="u", time_unit="minutes")


# ---------------------------------------------------------------- feeds and sitemaps

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>某财经</title><link>https://news.example.cn/</link>
<item><title>央行降准</title><link>https://news.example.cn/2024/05/10/a1.html</link>
<pubDate>Fri, 10 May 2024 14:32:05 +0800</pubDate></item>
<item><title>无时间</title><link> https://other.example.org/b2.html </link></item>
</channel></rss>""".encode()

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>某博客</title>
<entry><title>第一篇</title><link rel="alternate" href="https://blog.example.cn/p/1"/>
<link rel="edit" href="https://blog.example.cn/edit/1"/><updated>2024-05-10T06:00:00Z</updated></entry>
<entry><title>第二篇</title><link href="https://blog.example.cn/p/2"/><published>2024-05-09T20:15:00+08:00</published></entry>
</feed>""".encode()


def test_rss_items_any_host_with_pubdate():
    page = _parse(Feed("https://news.example.cn/rss.xml"), RSS, "https://news.example.cn/rss.xml", ("never-matches",))
    assert _listed(page) == [
        ("https://news.example.cn/2024/05/10/a1.html", datetime(2024, 5, 10, 6, 32, 5, tzinfo=timezone.utc)),
        ("https://other.example.org/b2.html", None),
    ]
    assert page.items[0].title == "央行降准" and page.items[0].source_key == "https://news.example.cn/rss.xml"


def test_atom_entries_use_the_alternate_link_and_updated_or_published():
    page = _parse(Feed("https://blog.example.cn/atom.xml"), ATOM, "https://blog.example.cn/atom.xml")
    assert _listed(page) == [
        ("https://blog.example.cn/p/1", datetime(2024, 5, 10, 6, 0, tzinfo=timezone.utc)),
        ("https://blog.example.cn/p/2", datetime(2024, 5, 9, 12, 15, tzinfo=timezone.utc)),
    ]


def test_a_sitemap_index_names_sitemaps_to_follow_most_recently_changed_first():
    body = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://www.example.cn/sitemap-1.xml</loc></sitemap>
    <sitemap><loc>https://www.example.cn/sitemap-2.xml</loc><lastmod>2024-05-09</lastmod></sitemap>
    <sitemap><loc>https://www.example.cn/sitemap-3.xml</loc><lastmod>2024-05-10T08:00:00+08:00</lastmod></sitemap>
    </sitemapindex>"""
    page = _parse(Sitemap("https://www.example.cn/sitemap.xml"), body, "https://www.example.cn/sitemap.xml")
    assert page.items == [] and page.follow == [
        "https://www.example.cn/sitemap-3.xml", "https://www.example.cn/sitemap-2.xml", "https://www.example.cn/sitemap-1.xml",
    ]  # fmt: skip


def test_a_google_news_sitemap_gives_publication_date_and_title():
    body = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://www.example.cn/a/100.html</loc><news:news><news:publication><news:name>例报</news:name>
<news:language>zh-cn</news:language></news:publication><news:publication_date>2024-05-10T14:00:00+08:00</news:publication_date>
<news:title>新闻标题</news:title></news:news></url>
<url><loc>https://www.example.cn/a/101.html</loc><lastmod>2024-05-10T13:00:00+08:00</lastmod></url>
</urlset>""".encode()
    page = _parse(Sitemap("https://www.example.cn/news.xml"), body, "https://www.example.cn/news.xml")
    assert [(i.url, i.title, i.listed_at) for i in page.items] == [
        ("https://www.example.cn/a/100.html", "新闻标题", datetime(2024, 5, 10, 6, 0, tzinfo=timezone.utc)),
        ("https://www.example.cn/a/101.html", None, datetime(2024, 5, 10, 5, 0, tzinfo=timezone.utc)),
    ]


def test_html_list_links_keep_only_article_urls():
    html = b"""<html><body><a href="/c/8ZfX2k3LmNo">a</a><a href="https://finance.ifeng.com/c/8ZfX2k3LmNo">dup</a>
    <a href="https://finance.ifeng.com/">home</a><a href="https://www.example.org/c/8ZfX2k3LmNo">elsewhere</a></body></html>"""
    page = _parse(HtmlList("https://finance.ifeng.com/list"), html, "https://finance.ifeng.com/list",
                  rule_named("ifeng").article_urls)  # fmt: skip
    assert [i.url for i in page.items] == ["https://finance.ifeng.com/c/8ZfX2k3LmNo"]
    assert page.not_article == 2


# ---------------------------------------------------------------- hostile input


def test_a_bad_url_a_lone_surrogate_a_future_time_and_inf_cost_only_their_item_or_time():
    source = rule_named("thepaper").sources[0]
    body = json.dumps({"data": {"list": [
        {"contId": "27400219", "pubTimeLong": 1715322000000},
        {"contId": "27400220/../../evil", "pubTimeLong": 1715322000000},  # not a plain id: no URL
        {"contId": "2740\ud80021"},  # lone surrogate
        {"contId": "27400222", "pubTimeLong": 4102444800000},  # 2100
        {"contId": "27400223", "pubTimeLong": "inf"},
        {"contId": "27400224", "pubTimeLong": True},
        "not an object",
    ]}})  # fmt: skip
    page = _parse(source, body.encode(), source.url)
    assert [i.url.rsplit("_", 1)[1] for i in page.items] == ["27400219", "27400222", "27400223", "27400224"]
    assert [i.listed_at is None for i in page.items] == [False, True, True, True]
    assert (page.bad_items, page.bad_times) == (3, 3)


def test_a_lone_surrogate_in_a_url_field_and_in_a_title():
    source = rule_named("yicai").sources[0]
    body = json.dumps([{"url": "/news/1\ud800.html"}, {"url": "/news/102108991.html", "NewsTitle": "标\ud800题", "CreateDate": "inf"}])
    page = _parse(source, body.encode(), first_url(source))
    assert [i.url for i in page.items] == ["https://www.yicai.com/news/102108991.html"]
    assert page.items[0].title.encode("utf-8") and page.bad_items == 1 and page.bad_times == 1


def test_only_max_items_are_read():
    source = rule_named("yicai").sources[0]
    body = json.dumps([{"url": f"/news/{102100000 + n}.html"} for n in range(30)])
    page = _parse(source, body.encode(), first_url(source), max_items=10)
    assert len(page.items) == 10 and page.capped == 20


def test_an_entity_expansion_feed_yields_nothing_and_raises_nothing():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>
<rss version="2.0"><channel><item><title>&h;</title><link>https://news.example.cn/a.html</link></item>
</channel></rss>"""
    page = _parse(Feed("https://news.example.cn/rss"), body, "https://news.example.cn/rss")
    assert page.items == []  # libxml2 stops at the amplification limit; what was read has no link
    assert page.bad_items <= 1


def test_an_external_entity_is_not_read_from_disk():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY ext SYSTEM "file:///etc/hostname">]>
<rss version="2.0"><channel><item><title>&ext;</title><link>https://news.example.cn/b.html</link></item>
<item><title>ok</title><link>https://news.example.cn/c.html</link></item></channel></rss>"""
    page = _parse(Feed("https://news.example.cn/rss"), body, "https://news.example.cn/rss")
    assert [(i.url, i.title) for i in page.items] == [
        ("https://news.example.cn/b.html", None),
        ("https://news.example.cn/c.html", "ok"),
    ]


@pytest.mark.parametrize("body", [b"", b"<html>502 Bad Gateway</html>", b"\xff\xfe\x00garbage"])
def test_a_feed_or_sitemap_that_is_not_one_raises_source_error(body):
    for source in (Feed("https://x.example.cn/rss"), Sitemap("https://x.example.cn/sitemap.xml")):
        with pytest.raises(SourceError):
            _parse(source, body, source.url)


@pytest.mark.parametrize("body", [b"<html>502</html>", b'{"data": {"list": {"a": 1}}}', b"[" * 100000])
def test_an_answer_that_is_not_a_list_raises_source_error(body):
    source = rule_named("eastmoney").sources[0]
    with pytest.raises(SourceError):
        _parse(source, body, first_url(source))


def test_roll_api_errors_are_source_errors():
    [roll] = rule_named("sina").sources
    with pytest.raises(SourceError, match="status code 11"):
        _parse(roll, b'{"result": {"status": {"code": 11, "msg": "lid error"}, "data": []}}', first_url(roll))
