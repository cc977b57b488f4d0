"""Every recorded article page against its hand-checked expected JSON (Fundus style).

Pages a site rule handles must match every expected field exactly. Pages that
fall to the generic path must get the title and time right and a body close to
the expected one (ScrapingHub shingle F1 with one token per CJK character);
the benchmark reports the rest. No body may contain known boilerplate.
"""

from __future__ import annotations

import pytest

from benchmarks.metric import score_page
from extractors import NotAnArticle, Page, extract
from extractors.boilerplate import find_leaks
from tests.helpers import FIXTURES, compare_article, fixtures

ARTICLES = [f for f in fixtures(kind="article") if f.expected]
GENERIC_MIN_BODY_F1 = 0.90


def _f1(truth: str, prediction: str) -> float:
    page = score_page(truth, prediction, "cjk")
    return 2 * page.precision * page.recall / (page.precision + page.recall) if page.precision + page.recall else 0.0


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_page_matches_its_expected_fields(fixture):
    article = extract(Page(fixture.url, fixture.body), strict=True)
    assert article.body.strip()
    if not article.extractor.startswith("generic"):
        differences = compare_article(article, fixture.expected)
    else:
        wanted = {k: v for k, v in fixture.expected.items() if k in ("title", "published_at")}
        differences = compare_article(article, wanted)
        f1 = _f1(fixture.expected["body"], article.body)
        if f1 < GENERIC_MIN_BODY_F1:
            differences.append(f"body F1 {f1:.3f} < {GENERIC_MIN_BODY_F1} (generic path)")
    assert not differences, f"[{article.extractor}]\n" + "\n".join(differences)


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_body_has_no_known_boilerplate(fixture):
    article = extract(Page(fixture.url, fixture.body), strict=True)
    assert not find_leaks(article.body, chinese=fixture.expected.get("language", "zh").startswith("zh"))


def test_every_page_has_its_json_and_every_json_its_page():
    pages = {p.name.removesuffix(".html.gz") for p in FIXTURES.glob("*/*.html.gz")}
    sidecars = {p.name.removesuffix(".json") for p in FIXTURES.glob("*/*.json")}
    assert pages == sidecars


def test_expected_bodies_are_clean_too():
    for fixture in ARTICLES:
        assert not find_leaks(fixture.expected["body"]), fixture.name


def test_quote_is_removed_but_the_name_kept():
    [fixture] = [f for f in ARTICLES if "iicezzrq4681677" in f.url]
    article = extract(Page(fixture.url, fixture.body), strict=True)
    assert "摩根大通等" in article.body
    assert article.symbols == ["usJPM", "usBLK", "usPMTG"]


def test_index_pages_are_not_articles_by_a_rule():
    for fixture in fixtures(kind="index") + fixtures(kind="list"):
        try:
            article = extract(Page(fixture.url or "http://example.invalid/", fixture.body))
        except NotAnArticle:
            continue
        assert article.extractor.startswith("generic"), fixture.name


def test_boilerplate_patterns_match_their_examples():
    from extractors.boilerplate import is_boilerplate, starts_trailer

    assert is_boilerplate("海量资讯、精准解读，尽在新浪财经APP")
    assert is_boilerplate("安装新浪财经客户端第一时间接收最全面的市场资讯→【下载地址】")
    assert starts_trailer("免责声明：自媒体综合提供的内容均源自自媒体")
    assert not is_boilerplate("新浪财经讯 5月25日上午消息，据彭博新闻社报道")


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02binary", b"   "])
def test_empty_or_binary_input_is_not_an_article(body):
    with pytest.raises(NotAnArticle):
        extract(Page("https://finance.sina.com.cn/x/doc-iabcdefg1234567.shtml", body))
