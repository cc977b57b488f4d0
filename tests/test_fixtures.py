"""Every recorded article page against its hand-checked expected JSON (Fundus style).

Pages a site rule handles must match every expected field exactly. Pages that
fall to the generic path must match every expected field too, except the body
(ScrapingHub shingle F1 with one token per CJK character, at least 0.90) and
the images (their number); a field the generic path does not get right yet is
listed, with the reason, in the fixture's "generic_known_misses", and a listed
miss that is in fact right fails, so the list only shrinks. Times compare as
instants with their UTC offset. Each fixture's "must_not_contain" holds strings
copied by hand from its page (promos, editor lines, related headlines, captions):
no body may contain them, whatever the extractor's own patterns say.
"""

from __future__ import annotations

import fnmatch
import json
from functools import cache

import pytest

from benchmarks.metric import score_page
from benchmarks.suites import TEST_SPLIT_CORPUS_PAGES
from extractors import NotAnArticle, Page, extract
from extractors.article import Article
from benchmarks.leaks import find_leaks
from tests.helpers import FIXTURES, HOLDOUT, collapse_space, compare_article, fixtures, page_text, time_difference

ARTICLES = [f for f in fixtures(kind="article") if f.expected]
GENERIC_MIN_BODY_F1 = 0.90
# a known miss may name an expected field, or "must_not_contain" (the body keeps strings of that list)
MUST_NOT_CONTAIN = "must_not_contain"
MIN_MUST_NOT_CONTAIN, MAX_MUST_NOT_CONTAIN = 2, 5


def _f1(truth: str, prediction: str) -> float:
    page = score_page(truth, prediction, "cjk")
    return 2 * page.precision * page.recall / (page.precision + page.recall) if page.precision + page.recall else 0.0


@cache
def _extracted(name: str) -> Article:
    [fixture] = [f for f in ARTICLES if f.name == name]
    return extract(Page(fixture.url, fixture.body), strict=True)


def _is_generic(article: Article) -> bool:
    return article.extractor.startswith("generic")


def _known_misses(fixture) -> dict[str, str]:
    return fixture.meta.get("generic_known_misses") or {}


def _generic_differences(article: Article, expected: dict, skip: frozenset[str] = frozenset()) -> list[str]:
    """What the generic path gets wrong: every field but the body exactly, images by number, the body by F1."""
    differences = compare_article(article, expected, skip=skip | {"body"}, image_count_only=True)
    if "body" in expected and "body" not in skip:
        f1 = _f1(expected["body"], article.body)
        if f1 < GENERIC_MIN_BODY_F1:
            differences.append(f"body F1 {f1:.3f} < {GENERIC_MIN_BODY_F1} (generic path)")
    return differences


def _leaked(fixture, body: str) -> list[str]:
    body = collapse_space(body)
    return [s for s in fixture.meta.get(MUST_NOT_CONTAIN, []) if collapse_space(s) in body]


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_page_matches_its_expected_fields(fixture):
    article = _extracted(fixture.name)
    assert article.body.strip()
    if not _is_generic(article):
        differences = compare_article(article, fixture.expected)
    else:
        differences = _generic_differences(article, fixture.expected, skip=frozenset(_known_misses(fixture)))
    assert not differences, f"[{article.extractor}]\n" + "\n".join(differences)


@pytest.mark.parametrize("fixture", [f for f in ARTICLES if _known_misses(f)], ids=lambda f: f.name)
def test_generic_known_misses_are_still_missed(fixture):
    """A listed miss that the generic path now gets right must leave the list (so the gap only shrinks)."""
    article = _extracted(fixture.name)
    assert _is_generic(article), f"handled by {article.extractor} now: drop its generic_known_misses"
    for field, reason in _known_misses(fixture).items():
        assert isinstance(reason, str) and reason.strip(), f"{field}: a known miss needs its reason"
        if field == MUST_NOT_CONTAIN:
            assert _leaked(fixture, article.body), "the body is clean now: drop must_not_contain from generic_known_misses"
            continue
        assert field in fixture.expected, f"{field} is not an expected field"
        assert _generic_differences(article, {field: fixture.expected[field]}), (
            f"the generic path gets {field} right now: drop it from generic_known_misses"
        )


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_body_has_no_known_boilerplate(fixture):
    article = _extracted(fixture.name)
    assert not find_leaks(article.body, chinese=fixture.expected.get("language", "zh").startswith("zh"))


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_body_has_none_of_the_pages_own_boilerplate(fixture):
    article = _extracted(fixture.name)
    leaked = _leaked(fixture, article.body)
    if _is_generic(article) and MUST_NOT_CONTAIN in _known_misses(fixture):
        known = _known_misses(fixture)[MUST_NOT_CONTAIN]
        leaked = [s for s in leaked if s not in known]  # the reason quotes each string it excuses
    assert not leaked, f"[{article.extractor}] body keeps {leaked}"


@pytest.mark.parametrize("fixture", ARTICLES, ids=lambda f: f.name)
def test_must_not_contain_strings_are_from_the_page_and_not_from_the_article(fixture):
    strings = fixture.meta.get(MUST_NOT_CONTAIN)
    assert isinstance(strings, list), "every article fixture lists must_not_contain strings"
    assert MIN_MUST_NOT_CONTAIN <= len(strings) <= MAX_MUST_NOT_CONTAIN
    text, body = page_text(fixture.body), collapse_space(fixture.expected.get("body") or "")
    for string in strings:
        assert string.strip() and collapse_space(string) in text, f"not on the page (typo?): {string!r}"
        assert collapse_space(string) not in body, f"part of the expected body: {string!r}"


def test_must_not_contain_is_independent_of_the_extractors_patterns():
    """At least some of the hand-picked strings are ones the shared leak patterns do not know: they test more."""
    unknown = [s for f in ARTICLES for s in f.meta.get(MUST_NOT_CONTAIN, []) if not find_leaks(s)]
    assert len(unknown) >= len(ARTICLES)


def test_every_page_has_its_json_and_every_json_its_page():
    for root in (FIXTURES, HOLDOUT):
        pages = {p.name.removesuffix(".html.gz") for p in root.glob("*/*.html.gz")}
        sidecars = {p.name.removesuffix(".json") for p in root.glob("*/*.json")}
        assert pages == sidecars, root.name


def test_holdout_pages_say_their_split_and_the_failure_class_they_test():
    """Read generically: only the keys, never the page or its expected values (the test split stays unseen)."""
    for path in sorted(HOLDOUT.glob("*/*.json")):
        meta = json.loads(path.read_text("utf-8"))
        name = f"{path.parent.name}/{path.name}"
        assert meta.get("split") == "test", name
        assert isinstance(meta.get("reason"), str) and meta["reason"].strip(), f"{name}: no reason (a failure class)"


def test_fixtures_added_with_a_split_say_why():
    """A development fixture added for the dev/test split names the failure class it tests."""
    for fixture in fixtures():
        if "split" in fixture.meta or "reason" in fixture.meta:
            assert fixture.meta.get("split", "dev") == "dev", fixture.name
            assert isinstance(fixture.meta.get("reason"), str) and fixture.meta["reason"].strip(), fixture.name


def test_no_development_fixture_comes_from_a_test_page():
    for fixture in fixtures():
        source = fixture.meta.get("from") or ""
        assert not any(fnmatch.fnmatch(source, f"*{pattern}") for pattern in TEST_SPLIT_CORPUS_PAGES), fixture.name


def test_expected_bodies_are_clean_too():
    for fixture in ARTICLES:
        assert not find_leaks(fixture.expected["body"]), fixture.name


@pytest.mark.parametrize(
    ("got", "want", "agree"),
    [
        ("2019-09-09T08:32:00+08:00", "2019-09-09T08:32:00+08:00", True),
        ("2019-09-09T08:32:00+00:00", "2019-09-09T08:32:00+08:00", False),  # the wall clock right, the offset wrong
        ("2019-09-09T00:32:00+00:00", "2019-09-09T08:32:00+08:00", False),  # the same instant, another offset
        ("2019-09-09T08:33:00+08:00", "2019-09-09T08:32:00+08:00", False),
        ("2019-09-09T08:32:00", "2019-09-09T08:32:00+08:00", False),  # no offset at all
        ("2005-08-16T09:00:00+08:00", "2005-08-16", True),  # a date-only expectation asks for the day
        ("2005-08-17T00:30:00+08:00", "2005-08-16", False),
        (None, None, True),
        (None, "2005-08-16", False),
    ],
)
def test_times_compare_with_their_offset(got, want, agree):
    assert (time_difference(got, want) is None) is agree


def test_quote_is_removed_but_the_name_kept():
    [fixture] = [f for f in ARTICLES if "iicezzrq4681677" in f.url]
    article = _extracted(fixture.name)
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
