"""Duplicates on Chinese text: content hashes, SimHash over character shingles, duplicate_of links."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from sqlalchemy import select

from extractors import Page, extract
from storage import make_engine, session_factory
from storage.fingerprint import NEAR_DUPLICATE_BITS, content_hash, distance, simhash
from storage.models import ArticleRevision, ArticleSymbol, StoredArticle
from storage.write import upsert_article
from tests.helpers import fixtures

BODIES = {f.name: f.expected["body"] for f in fixtures(kind="article") if f.expected.get("body")}
SINA_STORY = next(f for f in fixtures("sina", kind="article") if "ifxeuwwr9169891" in f.url)


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'dedup.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def test_unrelated_corpus_articles_are_far_apart():
    fingerprints = {name: simhash(body) for name, body in BODIES.items()}
    same_story = {("ifeng/news_7kQcQG2peWU_dom", "ifeng/news_7kQcQG2peWU_raw_2022")}
    for a, b in itertools.combinations(sorted(fingerprints), 2):
        if (a, b) in same_story:
            continue
        assert distance(fingerprints[a], fingerprints[b]) > NEAR_DUPLICATE_BITS + 8, (a, b)


def test_two_captures_of_one_story_are_the_same_content():
    dom, raw = (f for f in fixtures("ifeng", kind="article") if "7kQcQG2peWU" in f.name)
    bodies = [extract(Page(f.url, f.body)).body for f in (dom, raw)]
    assert content_hash(bodies[0]) == content_hash(bodies[1])


@pytest.mark.parametrize(
    "edit",
    [
        lambda body: body + "\n（记者 张三）",  # a credit line
        lambda body: "\n".join(body.split("\n")[:-1]),  # the last paragraph cut
        lambda body: body.replace("。", "，", 3),  # punctuation touched
    ],
    ids=["credit-added", "last-paragraph-cut", "punctuation"],
)
def test_small_edits_stay_near(edit):
    body = SINA_STORY.expected["body"]
    assert distance(simhash(body), simhash(edit(body))) <= NEAR_DUPLICATE_BITS


def test_same_story_under_desktop_mobile_and_self_media_urls_is_linked(sessions):
    article = extract(Page(SINA_STORY.url, SINA_STORY.body))
    mobile = replace(article, url="https://finance.sina.cn/2018-09-28/detail-ifxeuwwr9169891.d.html",
                     canonical_url="https://finance.sina.cn/2018-09-28/detail-ifxeuwwr9169891.d.html")  # fmt: skip
    self_media = replace(article, url="https://k.sina.com.cn/article_1_abc.html", canonical_url="https://k.sina.com.cn/article_1_abc.html",
                         body=article.body + "\n（中国国防报 张立军）")  # fmt: skip
    other = extract(Page(fixtures("sina", kind="article")[3].url, fixtures("sina", kind="article")[3].body))
    with sessions.begin() as session:
        for item in (article, mobile, self_media, other):
            upsert_article(session, item)
    with sessions() as session:
        rows = {r.canonical_url: r for r in session.scalars(select(StoredArticle))}
    original = rows[article.canonical_url]
    assert original.duplicate_of is None
    assert rows[mobile.canonical_url].duplicate_of == original.id  # same content hash
    assert rows[self_media.canonical_url].duplicate_of == original.id  # near duplicate
    assert rows[other.canonical_url].duplicate_of is None


def test_a_changed_body_keeps_the_previous_version_and_symbols_follow(sessions):
    article = extract(Page(SINA_STORY.url, SINA_STORY.body))
    with sessions.begin() as session:
        upsert_article(session, replace(article, symbols=["sh600000", "usJPM"]))
    with sessions.begin() as session:
        outcome = upsert_article(session, replace(article, body=article.body + "\n更正：文中数据有误。", symbols=["usJPM"]))
    assert outcome == "updated"
    with sessions() as session:
        [revision] = session.scalars(select(ArticleRevision)).all()
        symbols = session.scalars(select(ArticleSymbol.symbol)).all()
    assert revision.body == article.body
    assert symbols == ["usJPM"]
