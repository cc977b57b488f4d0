"""Chinese search of any term length: the bigram tokens, the search syntax, and the same answers on SQLite and
PostgreSQL as a plain substring scan, on the corpus fixtures' expected articles stored through the writer."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from extractors import Article
from storage import make_engine, session_factory
from storage.cjk_tokens import Token, character_tokens, index_tokens, normalized, term_tokens
from storage.query import query
from storage.search import BadSearch, parse
from storage.write import upsert_article
from tests.helpers import fixtures, run_storage

CST = timezone(timedelta(hours=8))


# --- tokens ------------------------------------------------------------------------------------------------------


def test_text_becomes_bigrams_run_ends_and_words():
    assert index_tokens("特斯拉Model Y发布", "买入A股，茅台600519涨") == [
        "特斯", "斯拉", "拉", "model", "y", "发布", "布", "买入", "入", "a", "股", "茅台", "台", "600519", "涨",
    ]  # fmt: skip
    assert index_tokens("Ａ股　１０％") == ["a", "股", "10"]  # full-width letters and digits are the plain ones


def test_character_tokens_are_every_cjk_character_not_yet_a_token():
    tokens = index_tokens("特斯拉Model Y发布", "买入A股，茅台600519涨")
    assert character_tokens(tokens) == ["特", "斯", "发", "买", "茅"]  # 拉 布 入 股 台 涨 are tokens already;
    # no letter or digit of model, y, a, 600519
    text = "央行降息，A股上涨；外汇储备与ﾃｽﾄ한국어𠀀"  # Han, half-width kana, hangul, an extension-B character
    tokens = index_tokens(text)
    wanted = {c for c in normalized(text) if c not in "，；" and not c.isascii()}  # every character but punctuation
    assert set(tokens + character_tokens(tokens)) >= wanted
    assert not set(tokens) & set(character_tokens(tokens))


def test_a_lone_character_is_a_token_where_the_index_holds_every_character():
    assert term_tokens("降", every_character=True) == [Token("降")]
    assert term_tokens("A股", every_character=True) == [Token("a"), Token("股")]
    assert term_tokens("Model", every_character=True) == [Token("model", prefix=True)]  # a word may go on: Models


@pytest.mark.parametrize(
    ("term", "tokens"),
    [
        ("央行", [Token("央行")]),
        ("降", [Token("降", prefix=True)]),  # the text's run may go on: 降息, or end: 降
        ("降息周期", [Token("降息"), Token("息周"), Token("周期")]),
        ("中国，美国", [Token("中国"), Token("国"), Token("美国")]),  # the punctuation ends the first run in the text too
        ("A股", [Token("a"), Token("股", prefix=True)]),
        ("特斯拉Model Y", [Token("特斯"), Token("斯拉"), Token("拉"), Token("model"), Token("y", prefix=True)]),
        ("%", []),
    ],
)
def test_a_term_asks_for_the_tokens_every_text_containing_it_has(term, tokens):
    assert term_tokens(term) == tokens
    text = f"前文{term}后文" if not term[-1:].isascii() else f"前文{term}"
    assert {t.text for t in tokens if not t.prefix} <= set(index_tokens(text)), term


# --- syntax ------------------------------------------------------------------------------------------------------


def test_search_syntax():
    assert parse('央行 "特斯拉 Model Y" -降息 -"美联储 加息"') == parse('央行  "特斯拉  Model Y"  -降息 -"美联储 加息"')
    found = parse('央行 "特斯拉 Model Y" -降息 -"美联储 加息" 央行')
    assert found.terms == ("央行", "特斯拉 Model Y") and found.excluded == ("降息", "美联储 加息")
    assert parse('100% a_b c\\d 5"') == parse("100% a_b c\\d 5\"")  # % _ \ and a quote inside a word are plain
    assert parse('100% a_b c\\d').terms == ("100%", "a_b", "c\\d")
    assert not parse("   ")


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ('"央行 降息', "an unclosed quote"),
        ("央行 -", "a lone '-'"),
        ('央行 ""', 'an empty phrase ""'),
        ("-央行", "at least one term to find"),
    ],
)
def test_bad_syntax_is_a_clear_error(search, message):
    with pytest.raises(BadSearch, match=re.escape(message)):
        parse(search)


def test_bad_syntax_on_the_command_line_is_a_usage_error(tmp_path):
    result = run_storage("query", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--search", '"央行 降息')
    assert result.returncode == 2 and "an unclosed quote" in result.stderr and "Traceback" not in result.stderr


# --- both databases, against a substring scan ---------------------------------------------------------------------

CORPUS = [f for f in fixtures(kind="article") if f.expected.get("title") and f.expected.get("body")]


def _corpus_articles() -> list[Article]:
    articles = []
    for number, fixture in enumerate(CORPUS):
        articles.append(Article(
            url=f"https://corpus.example/{number}.html", title=fixture.expected["title"], body=fixture.expected["body"],
            site=fixture.meta["site"], extractor="test@1", published_at=datetime(2024, 1, 1, tzinfo=CST) + timedelta(hours=number),
        ))  # fmt: skip
    return articles


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('search') / 'store.db'}")
    _store(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgresql_store(postgres_url):
    engine = make_engine(postgres_url)
    _store(engine)
    yield engine
    engine.dispose()


def _store(engine) -> None:
    with session_factory(engine).begin() as session:
        for article in _corpus_articles():
            upsert_article(session, article, datetime(2025, 1, 1, tzinfo=timezone.utc))


def _scan(term: str, word_start: bool = False) -> set[str]:
    """What a plain substring scan of titles and bodies finds (Latin letters in any case). With word_start, a
    term that starts with a Latin letter or digit must start a word there ("5%" in "5%", not in "15%")."""
    start = r"(?<![0-9a-z])" if word_start and re.match(r"[0-9a-z]", term.lower()) else ""
    pattern = re.compile(start + re.escape(term.lower()))
    return {a.url for a in _corpus_articles() if pattern.search(a.title.lower()) or pattern.search(a.body.lower())}


def _terms(length: int, count: int, seed: int) -> list[str]:
    """Chinese terms of `length` characters cut from the corpus's titles and bodies, and a few made up."""
    rng = random.Random(seed)
    texts = [a.title + a.body for a in _corpus_articles()]
    found = set()
    while len(found) < count:
        text = rng.choice(texts)
        at = rng.randrange(max(1, len(text) - length))
        piece = text[at : at + length]
        if len(piece) == length and all("\u4e00" <= ch <= "\u9fff" for ch in piece):
            found.add(piece)
    return sorted(found) + ["龘龘"[:length] * 1, "鱻" * length]


TWO_CHARACTER_TERMS = _terms(2, 120, seed=2)
OTHER_TERMS = _terms(1, 20, seed=1) + _terms(4, 30, seed=4) + [
    "A股", "a股", "特斯拉Model Y", "iPhone", "2024年", "（", "。”", "，美国", "5%", "_", "\\", '5"', "增长了5%",
]


def _found(engine, term: str) -> set[str]:
    quoted = '"' + term + '"' if " " in term else term
    return {r["url"] for r in query(engine, search=quoted, limit=10_000)}


def test_a_two_character_term_finds_what_a_substring_scan_finds_on_sqlite_and_postgresql(sqlite_store, postgresql_store):
    assert len(CORPUS) >= 70
    hits = 0
    for term in TWO_CHARACTER_TERMS:
        expected = _scan(term)
        assert _found(sqlite_store, term) == expected, term
        assert _found(postgresql_store, term) == expected, term
        hits += bool(expected)
    assert hits >= 100  # the terms come from the texts: nearly all are found somewhere


@pytest.mark.parametrize("term", OTHER_TERMS)
def test_any_term_finds_what_a_substring_scan_finds(sqlite_store, term):
    """Chinese terms: exactly the scan. A term starting with a Latin word or a number: every hit is a real
    substring, and at least every place where the term starts a word is found (the word tokens' limit)."""
    found = _found(sqlite_store, term)
    if re.match(r"[0-9a-z]", term.lower()):
        assert _scan(term, word_start=True) <= found <= _scan(term)
    else:
        assert found == _scan(term)


def test_other_terms_agree_on_postgresql(sqlite_store, postgresql_store):
    for term in OTHER_TERMS:
        assert _found(postgresql_store, term) == _found(sqlite_store, term), term


def test_a_term_in_the_title_only_is_found(sqlite_store, postgresql_store):
    article = next(a for a in _corpus_articles() if a.title[:4] not in a.body and re.fullmatch(r"[\u4e00-\u9fff]{4}", a.title[:4]))
    for engine in (sqlite_store, postgresql_store):
        assert article.url in _found(engine, article.title[:4])


def test_phrases_exclusions_and_filters_combine(sqlite_store, postgresql_store):
    for engine in (sqlite_store, postgresql_store):
        with_market = _found(engine, "市场")
        without = {r["url"] for r in query(engine, search="市场 -投资", limit=10_000)}
        assert without == with_market - _scan("投资") and without
        both = {r["url"] for r in query(engine, search="市场 投资", limit=10_000)}
        assert both == with_market & _scan("投资")
        site = {r["url"] for r in query(engine, search="市场", site="sina", limit=10_000)}
        assert site == {a.url for a in _corpus_articles() if a.site == "sina"} & with_market
        records = query(engine, search="市场", limit=3)
        assert [r["published_at"] for r in records] == sorted((r["published_at"] for r in records), reverse=True)
        assert all("市场" in r["snippet"] for r in records)


def test_snippets_show_the_first_hit_on_the_command_line(sqlite_store):
    url = str(sqlite_store.url)
    result = run_storage("query", "--database-url", url, "--search", "市场", "--limit", "2", "--format", "table")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("市场" in line for line in lines[2:-1]) >= 2  # a snippet line under each article


def test_every_term_is_asked_of_the_index_with_its_own_tokens():
    """Two terms are one index query holding both terms' tokens (not one term's twice), on both databases."""
    from storage.search import index_query

    assert index_query(parse("市场 投资"), "sqlite") == '"市场" AND "投资"'
    assert index_query(parse("市场 投资"), "postgresql") == "'市场' & '投资'"
    assert index_query(parse("资本市场 iPhone"), "postgresql") == "'资本' & '本市' & '市场' & 'iphone':*"
    assert index_query(parse("%"), "sqlite") is None  # nothing for the index: a scan
    assert index_query(parse("汇"), "sqlite") == '"汇"*'  # FTS5's one-character prefix index
    assert index_query(parse("汇"), "postgresql") == "'汇'"  # a token of its own (postgresql_tokens), no prefix


def test_a_one_token_term_is_answered_by_the_index_alone():
    """央行, 降 and iPhone are in the text wherever their token is; 央行行长, A股 and 5% need the substring check."""
    from storage.search import text_checks

    for dialect in ("sqlite", "postgresql"):
        for term, checked in [("央行", False), ("降", False), ("iPhone", False), ("央行行长", True), ("A股", True), ("5%", True)]:
            assert bool(text_checks(parse(term), dialect)) == checked, (term, dialect)
        assert len(text_checks(parse("央行 -降息"), dialect)) == 1  # an excluded term is always checked


def test_postgresql_holds_every_chinese_character_of_an_article_as_a_token(postgresql_store):
    """A one-character term is one token there (no prefix merging every bigram that starts with it)."""
    with postgresql_store.connect() as connection:
        rows = connection.execute(
            text("SELECT url, ARRAY(SELECT lexeme FROM unnest(search_tokens)) FROM articles ORDER BY id")
        ).all()
    articles = {a.url: a for a in _corpus_articles()}
    assert len(rows) == len(articles)
    for url, lexemes in rows:
        han = {c for c in articles[url].title + articles[url].body if "\u4e00" <= c <= "\u9fff"}
        assert han <= set(lexemes), url
