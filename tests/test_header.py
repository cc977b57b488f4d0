"""The page header on the generic path: publication time (forms, zone, precision), title suffixes, source, editor.

Hand-written header snippets for each rule, with near-misses that must be kept,
and the recorded fixture pages the generic path handles. Times are compared as
full aware datetimes (offset included), never as strings cut to 16 characters.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from parsel import Selector

from extractors.dates import parse_stamp, url_date
from extractors.extract import Page, extract
from extractors.header import page_editor, page_source, page_title, published_stamp, strip_site_suffix
from extractors.registry import rule_for

CST = timezone(timedelta(hours=8))
FIXTURES = Path(__file__).parent / "fixtures"
BODY = "<p>国家统计局今天发布的数据显示，前七个月全国规模以上工业增加值同比增长，增速比上半年加快，经济运行总体平稳。</p>"


def _page(header: str, body: str = BODY, head: str = "", title: str = "央行发布第二季度货币政策执行报告") -> Selector:
    return Selector(
        text=f"<html><head><title>{title}_财经频道_新华网</title>{head}</head>"
        f"<body><div class='nav'>首页 &gt; 财经</div><h1>{title}</h1>{header}{body}</body></html>"
    )


def _stamp(page: Selector, url: str = "http://example.cn/a/1.html"):
    _, headline = page_title(page)
    return published_stamp(page, headline, url)


# ---------------------------------------------------------------- date forms


@pytest.mark.parametrize(
    "raw, moment, precision",
    [
        ("2005年08月16日", datetime(2005, 8, 16, tzinfo=CST), "day"),
        ("2003-7-24", datetime(2003, 7, 24, tzinfo=CST), "day"),
        ("2019/9/9", datetime(2019, 9, 9, tzinfo=CST), "day"),
        ("2005.08.16", datetime(2005, 8, 16, tzinfo=CST), "day"),
        ("２００５年８月１６日", datetime(2005, 8, 16, tzinfo=CST), "day"),  # full-width digits
        ("2019年09月09日 08:32", datetime(2019, 9, 9, 8, 32, tzinfo=CST), "minute"),
        ("2011年05月15日08:31", datetime(2011, 5, 15, 8, 31, tzinfo=CST), "minute"),
        ("2005年8月16日 14时20分", datetime(2005, 8, 16, 14, 20, tzinfo=CST), "minute"),
        ("2019-09-09 08:32:11", datetime(2019, 9, 9, 8, 32, 11, tzinfo=CST), "second"),
        ("2019-09-09T08:32:11+08:00", datetime(2019, 9, 9, 8, 32, 11, tzinfo=CST), "second"),
        ("2020-04-01T02:29:00Z", datetime(2020, 4, 1, 2, 29, tzinfo=timezone.utc), "second"),
        ("2019-09-09", datetime(2019, 9, 9, tzinfo=CST), "day"),
        ("Jun 21, 2025", datetime(2025, 6, 21, tzinfo=CST), "day"),
    ],
)
def test_date_forms_parse_with_their_precision(raw, moment, precision):
    stamp = parse_stamp(raw)
    assert stamp.moment == moment and stamp.moment.utcoffset() == moment.utcoffset()
    assert stamp.precision == precision


@pytest.mark.parametrize(
    "raw",
    [
        "09-09 08:32",  # no year: not enough alone
        "2005-13-02",  # no 13th month
        "2019年2月30日",  # no such day
        "1949年10月1日",  # before the web: an anniversary, never a page's date
        "第2005期",
        "",
    ],
)
def test_impossible_or_partial_dates_are_none(raw):
    assert parse_stamp(raw) is None


# ---------------------------------------------------------------- where the date comes from


def test_a_date_without_a_time_in_the_header_is_the_day_at_midnight_china_time():
    page = _page("<div class='info'>2005年08月16日 来源：新华网</div>")
    stamp = _stamp(page)
    assert stamp.moment == datetime(2005, 8, 16, tzinfo=CST) and stamp.moment.utcoffset() == timedelta(hours=8)
    assert stamp.precision == "day"
    assert stamp.moment.isoformat() == "2005-08-16T00:00:00+08:00"


def test_the_header_date_wins_over_a_dated_sentence_of_the_body():
    body = "<p>记者了解到，2004年3月1日 10:00，该公司召开股东大会，会上通过了增发方案和新一届董事会名单，引起关注。</p>"
    page = _page("<div>2003-7-24</div>", body=body)
    assert _stamp(page) == parse_stamp("2003-07-24")


def test_a_header_date_with_a_time_is_preferred_to_the_meta_day():
    page = _page("<span>2019年09月09日 08:32</span>", head="<meta name='publishdate' content='2019-09-09'>")
    stamp = _stamp(page)
    assert (stamp.moment, stamp.precision) == (datetime(2019, 9, 9, 8, 32, tzinfo=CST), "minute")


def test_the_meta_time_gives_the_minute_to_a_header_day_of_the_same_date():
    head = "<meta property='article:published_time' content='2019-09-09T08:32:00+08:00'>"
    stamp = _stamp(_page("<span>2019年09月09日</span>", head=head))
    assert stamp.moment == datetime(2019, 9, 9, 8, 32, tzinfo=CST)


def test_the_header_day_wins_over_a_meta_time_of_another_day():
    head = "<meta property='article:published_time' content='2019-09-12T08:32:00+08:00'>"
    stamp = _stamp(_page("<span>2019年09月09日</span>", head=head))
    assert (stamp.moment, stamp.precision) == (datetime(2019, 9, 9, tzinfo=CST), "day")


def test_the_shown_time_wins_over_the_meta_time():
    """Sina's meta time is when the page was made; the page shows when it was published."""
    head = "<meta property='article:published_time' content='2018-09-28T15:54:32+08:00'>"
    stamp = _stamp(_page("<div class='date-source'><span>2018年09月28日 15:21</span></div>", head=head))
    assert stamp.moment == datetime(2018, 9, 28, 15, 21, tzinfo=CST)


def test_a_date_line_above_the_headline_is_read():
    page = Selector(
        text="<html><head><title>央行发布报告</title></head><body><div>首页</div>"
        "<div class='time'>2024-05-09 22:27:02 来源：新华网</div><h1>央行发布报告</h1>" + BODY + "</body></html>"
    )
    stamp = _stamp(page)
    assert (stamp.moment, stamp.precision) == (datetime(2024, 5, 9, 22, 27, 2, tzinfo=CST), "second")


def test_json_ld_date_published():
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-11-17T15:13:00+08:00"}</script>'
    assert _stamp(_page("", head=head)).moment == datetime(2023, 11, 17, 15, 13, tzinfo=CST)


@pytest.mark.parametrize(
    "url, day",
    [
        ("http://news.example.com.cn/2005/07/31/n1234.shtml", datetime(2005, 7, 31, tzinfo=CST)),
        ("http://news.example.com.cn/c/2019-09-09/doc-1.shtml", datetime(2019, 9, 9, tzinfo=CST)),
        ("http://business.example.com/20190909/n1.shtml", datetime(2019, 9, 9, tzinfo=CST)),
        ("https://example.com.cn/a/201909/09/WS1.html", datetime(2019, 9, 9, tzinfo=CST)),
        ("http://news.example.com/2024-05/13/content_1.htm", datetime(2024, 5, 13, tzinfo=CST)),
        ("http://www.example.com/ll/2020/07-04/9229287.shtml", datetime(2020, 7, 4, tzinfo=CST)),
    ],
)
def test_the_url_day_when_the_page_shows_none(url, day):
    stamp = _stamp(_page(""), url)
    assert (stamp.moment, stamp.precision) == (day, "day")


@pytest.mark.parametrize(
    "url",
    [
        "http://biz.example.com/41210/1/17867KR700020QBK.html",  # no century: not a date
        "http://example.com/2019/1234.html",  # "12/34" is no day
        "http://example.com/article/7367007067191640576/",
    ],
)
def test_urls_without_a_day(url):
    assert url_date(url) is None


# ---------------------------------------------------------------- titles


@pytest.mark.parametrize(
    "title, expected",
    [
        ("最高法发布典型案例-法制网", "最高法发布典型案例"),
        ("债券市场是否存在泡沫_新浪网", "债券市场是否存在泡沫"),
        ("颱風逼近 全台戒備 | 公視新聞網", "颱風逼近 全台戒備"),
        ("外贸向好态势进一步巩固—中新网", "外贸向好态势进一步巩固"),
        ("央行发布第二季度货币政策执行报告_财经频道_新华网", "央行发布第二季度货币政策执行报告"),
        ("四年前中500万现穷困潦倒__商贸_产业资讯_新浪网", "四年前中500万现穷困潦倒"),
        ("外国专家：中美合作共赢符合国际社会利益 - 中国日报网", "外国专家：中美合作共赢符合国际社会利益"),
        # near-misses: a dash inside the headline stays
        ("A股-港股联动加强_新浪财经", "A股-港股联动加强"),
        ("A股-港股联动加强", "A股-港股联动加强"),
        ("动能增强——前4个月我国外贸向好态势进一步巩固", "动能增强——前4个月我国外贸向好态势进一步巩固"),
        ("【中国稳健前行】坚定实施扩大内需战略", "【中国稳健前行】坚定实施扩大内需战略"),
        ("2019-2020赛季", "2019-2020赛季"),
    ],
)
def test_site_suffixes_are_dropped_and_headline_dashes_kept(title, expected):
    assert strip_site_suffix(title) == expected


def test_a_suffix_named_by_og_site_name_is_dropped_even_after_a_dash():
    page = Selector(
        text="<html><head><title>Markets rally on rate hopes - Example Wire</title>"
        "<meta property='og:site_name' content='Example Wire'></head><body><p>x</p></body></html>"
    )
    assert page_title(page)[0] == "Markets rally on rate hopes"


def test_the_headline_element_is_preferred_to_the_title_tag():
    page = Selector(text="<html><head><title>A股-港股联动_新浪财经_新浪网</title></head><body><h1>A股-港股联动</h1></body></html>")
    title, element = page_title(page)
    assert title == "A股-港股联动" and element is not None and element.tag == "h1"


def test_of_two_headline_copies_the_one_with_the_dateline_is_the_header():
    """A sticky-header copy of the headline comes first; the dateline follows the second one."""
    page = Selector(
        text="<html><head><title>呼和浩特发放育儿津贴_中国网</title></head><body>"
        "<h1 class='sticky'>呼和浩特发放育儿津贴</h1><div>分享到：</div>"
        "<h1>呼和浩特发放育儿津贴</h1><div><p>2024-05-13 13:48</p><p>来源：中国网</p></div>" + BODY + "</body></html>"
    )
    _, headline = page_title(page)
    assert published_stamp(page, headline).moment == datetime(2024, 5, 13, 13, 48, tzinfo=CST)
    assert page_source(page, headline) == "中国网"


# ---------------------------------------------------------------- source


@pytest.mark.parametrize(
    "header, source",
    [
        ("<div>2024-05-12 17:19 来源：新华网</div>", "新华网"),
        ("<div>2024-05-12 17:19 来源: 新华网</div>", "新华网"),
        ("<div>稿件来源：人民日报</div>", "人民日报"),
        ("<div>来源：<a href='http://paper.people.com.cn/'>人民网－人民日报</a></div>", "人民网－人民日报"),
        ("<div>本文来源于 <a>北京商报</a> 2024-05-20 09:47:48</div>", "北京商报"),
        ("<td>2004年7月16日08:19 [ 黄宇 ] 来源：[ <a>国际金融报</a> ]</td>", "国际金融报"),
        ("<div><span>2018年09月28日 15:21</span><a class='source'>海外网</a></div>", "海外网"),  # classed, no label
        ("<div><span>2024-05-09 22:30</span><span>·</span><a>新华社</a></div>", "新华社"),  # outlet by the dateline
        ("<div>2005年03月21日 11:21 《理财周刊》</div>", "理财周刊"),
        # a syndicated copy's desk next to an English dateline (a broker app carrying a Sina article)
        ("<div class='meta'><span>市场资讯</span><span>Jun 21, 2025</span></div>", "市场资讯"),
        ("<div><span>2024-05-20 09:30</span><span>第一财经</span></div>", "第一财经"),
    ],
)
def test_the_header_source(header, source):
    page = _page(header)
    assert page_source(page, page_title(page)[1]) == source


@pytest.mark.parametrize(
    "header, head",
    [
        ("<div>2005-01-06 08:13 来源：转载文章</div>", ""),  # a placeholder, no outlet
        ("<div>来源：网络</div>", ""),
        ("<div>2024-05-12 17:19</div><div>作者：王帆</div>", ""),  # a byline is no source
        ("<div>2024-05-12 17:19 <a>分享到微博</a></div>", ""),
        ("<div><span>2024-05-12 17:19</span><span>阅读 1.2万</span></div>", ""),  # a counter by the dateline
    ],
)
def test_no_source_where_the_header_names_none(header, head):
    page = _page(header, head=head)
    assert page_source(page, page_title(page)[1]) is None


def test_a_source_line_inside_the_body_is_not_the_header_source():
    body = "<p>据外媒报道，消息来源：路透社称，该公司计划在明年上半年完成对欧洲业务的重组，并裁减部分岗位，以降低经营成本。</p>"
    page = _page("<div>2024-05-12 17:19</div>", body=body)
    assert page_source(page, page_title(page)[1]) is None


def test_meta_source_when_the_header_has_none():
    page = _page("<div>2023-11-17 15:13</div>", head="<meta name='source' content='来源：中国日报网'>")
    assert page_source(page, page_title(page)[1]) == "中国日报网"


# ---------------------------------------------------------------- editor


@pytest.mark.parametrize(
    "tail, editor",
    [
        ("<p>【责任编辑：严玉洁】</p>", "严玉洁"),
        ("<div>编辑：倪仕轩\n\t\t责任编辑：林涛</div>", "林涛"),  # the 责任编辑, not the plain 编辑
        ("<div class='edit'>(责编：胡永秋、杨光宇)</div>", "胡永秋、杨光宇"),
        ("<p>【责任编辑:张樵苏\n】</p>", "张樵苏"),
        ("<span class='ep-editor'>责任编辑：NF051</span>", "NF051"),
        ("<p>(编辑：文静)</p>", "文静"),
        ("<p>（编辑：严玉洁 王辉）</p>", "严玉洁"),
    ],
)
def test_the_editor_at_the_articles_end(tail, editor):
    page = _page("<div>2024-05-12 17:19</div>", body=BODY + tail)
    assert page_editor(page, page_title(page)[1]) == editor


@pytest.mark.parametrize("tail", ["<p>总编辑：张三</p>", "<p>本报编辑部</p>", "<p>主编：李四</p>"])
def test_no_editor_from_other_mastheads(tail):
    page = _page("<div>2024-05-12 17:19</div>", body=BODY + tail)
    assert page_editor(page, page_title(page)[1]) is None


def test_the_header_editor_and_the_meta_editor():
    page = _page("<div>来源：求是网 作者：陈海峰 责任编辑：陈海峰</div>")
    assert page_editor(page, page_title(page)[1]) == "陈海峰"
    page = _page("<div>2023-11-17</div>", head="<meta name='editor' content='严玉洁'>")
    assert page_editor(page, page_title(page)[1]) == "严玉洁"


# ---------------------------------------------------------------- recorded pages on the generic path


def _generic_fixtures() -> list:
    params = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        fixture = json.loads(path.read_text(encoding="utf-8"))
        if fixture.get("kind") == "article" and fixture.get("expected") and rule_for(fixture["url"]) is None:
            params.append(pytest.param(path, id=f"{path.parent.name}/{path.stem}"))
    return params


# Known misses, each a class the header does not read yet (not a page quirk to patch):
KNOWN_MISSES = {
    ("cjddsb_2019_532601_dom", "source"): "the 来源 line sits in a box after the article, outside the header zone",
    ("money_2020_4909425_htmldate", "source"): "an outlet fused with the byline: 聯合報 記者林宸誼／即時報導",
}


@pytest.mark.parametrize("path", _generic_fixtures())
def test_generic_fixture_header(path):
    fixture = json.loads(path.read_text(encoding="utf-8"))
    expected = fixture["expected"]
    html = gzip.decompress(path.with_suffix(".html.gz").read_bytes())
    article = extract(Page(fixture["url"], html))
    assert article.title == expected["title"]
    if expected["published_at"] is None:
        assert article.published_at is None
    else:  # to the minute, offset included
        want = datetime.fromisoformat(expected["published_at"])
        assert article.published_at.replace(second=0) == want.replace(second=0)
        assert article.published_at.utcoffset() == want.utcoffset()
        assert article.published_precision in ("minute", "second")
    for name in ("source", "editor"):
        if (path.stem, name) in KNOWN_MISSES:
            continue
        assert getattr(article, name) == expected[name], name
