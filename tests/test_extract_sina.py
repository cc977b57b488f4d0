"""Every recorded Sina article page gives an article: non-empty body, expected fields, no boilerplate."""

from __future__ import annotations

import pytest

from extractors import NotAnArticle, Page, extract
from extractors.boilerplate import LINE_PATTERNS
from tests.helpers import compare_article, fixtures

ARTICLES = fixtures("sina", kind="article")
KNOWN_LEAKS = ["责任编辑", "免责声明", "海量资讯、精准解读", "安装新浪财经客户端", "新浪财经APP", "(115.395"]


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_recorded_page_matches_its_expected_fields(fixture):
    article = extract(Page(fixture.url, fixture.body), strict=True)
    assert article.body.strip()
    assert article.extractor.startswith("sina/") or fixture.meta["site"] != "sina"
    differences = compare_article(article, fixture.expected)
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_body_has_no_known_boilerplate(fixture):
    article = extract(Page(fixture.url, fixture.body), strict=True)
    leaks = [leak for leak in KNOWN_LEAKS if leak in article.body]
    assert not leaks, leaks


def test_quote_is_removed_but_the_name_kept():
    [fixture] = [f for f in ARTICLES if "iicezzrq4681677" in f.url]
    article = extract(Page(fixture.url, fixture.body), strict=True)
    assert "摩根大通等" in article.body
    assert article.symbols == ["usJPM", "usBLK", "usPMTG"]
    assert article.editor == "郭明煜"
    assert article.source == "新浪财经-自媒体综合"


def test_index_pages_are_not_articles_by_the_rule():
    for fixture in fixtures("sina", kind="index"):
        try:
            article = extract(Page(fixture.url, fixture.body))
        except NotAnArticle:
            continue
        assert not article.extractor.startswith("sina/"), fixture.name


def test_boilerplate_patterns_compile_and_match_their_examples():
    from extractors.boilerplate import is_boilerplate, starts_trailer

    assert len(LINE_PATTERNS) > 10
    assert is_boilerplate("海量资讯、精准解读，尽在新浪财经APP")
    assert is_boilerplate("安装新浪财经客户端第一时间接收最全面的市场资讯→【下载地址】")
    assert starts_trailer("免责声明：自媒体综合提供的内容均源自自媒体")
    assert not is_boilerplate("新浪财经讯 5月25日上午消息，据彭博新闻社报道")


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02binary", b"   "])
def test_empty_or_binary_input_is_not_an_article(body):
    with pytest.raises(NotAnArticle):
        extract(Page("https://finance.sina.com.cn/x/doc-iabcdefg1234567.shtml", body))
