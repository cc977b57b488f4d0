"""Newest first at any size: the order key, PostgreSQL's search periods, and every query form answering what a
scan of every stored article answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest

from extractors import Article
from storage import make_engine, session_factory
from storage.order_key import MAX_ID, OrderKeyOverflow, order_key
from storage.query import query
from storage.search import period_cover, period_tokens
from storage.write import upsert_article

CST = timezone(timedelta(hours=8))
UTC = timezone.utc


# --- the key ---------------------------------------------------------------------------------------------------


def test_the_key_orders_by_published_second_then_id_with_undated_last():
    rng = random.Random(7)
    base = datetime(2026, 11, 30, 9, 0, tzinfo=CST)
    articles = []
    for article_id in rng.sample(range(1, 10_000), 300):
        published = None if rng.random() < 0.1 else base - timedelta(seconds=rng.randrange(0, 86_400 * 900, 7))
        articles.append((article_id, published))
    expected = sorted(
        articles, key=lambda a: (a[1] is not None, a[1].timestamp() if a[1] else 0, a[0]), reverse=True
    )  # the readers' order, stated without the key
    assert sorted(articles, key=lambda a: order_key(*a), reverse=True) == expected


def test_the_key_keeps_whole_seconds_and_clamps_dates_it_cannot_hold():
    noon = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert order_key(5, noon + timedelta(microseconds=999_999)) == order_key(5, noon)  # the second, floored
    assert order_key(5, noon + timedelta(seconds=1)) > order_key(9, noon)
    ancient, far = datetime(1850, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
    assert order_key(1, ancient) == order_key(1, datetime(1900, 1, 1, tzinfo=UTC)) > order_key(MAX_ID, None)
    assert order_key(1, far) == order_key(1, datetime(2990, 1, 1, tzinfo=UTC)) < 2**63
    with pytest.raises(OrderKeyOverflow, match="ID_BITS"):
        order_key(MAX_ID + 1, noon)


# --- PostgreSQL's periods --------------------------------------------------------------------------------------


def _days_of(token: str) -> set[date]:
    """The China-time days a period token stands for, read from its text."""
    parts = [int(p) for p in token[1:].split("-")]
    first = date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    if len(parts) == 3:
        last = first
    elif len(parts) == 2:
        last = date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
    else:
        last = date(first.year, 12, 31)
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def test_a_period_cover_stands_for_exactly_its_days_with_few_tokens():
    rng = random.Random(3)
    for _ in range(300):
        first = date(2023, 1, 1) + timedelta(days=rng.randrange(1200))
        last = first + timedelta(days=rng.choice([0, 1, 3, 30, 64, 256, 1024]) + rng.randrange(3))
        tokens = period_cover(first, last)
        covered = [_days_of(t) for t in tokens]
        assert set().union(*covered) == {first + timedelta(days=n) for n in range((last - first).days + 1)}
        assert sum(map(len, covered)) == (last - first).days + 1  # no day twice
        assert len(tokens) <= 31 + 11 + (last.year - first.year + 1) + 11 + 31
    assert period_cover(date(2025, 12, 31), date(2027, 1, 1)) == ["@2025-12-31", "@2026", "@2027-01-01"]


def test_an_article_s_period_is_its_china_time_day():
    late_utc = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)  # 2026-01-01 01:30 in China
    assert period_tokens(late_utc) == ["@2026-01-01", "@2026-01", "@2026"]
    assert period_tokens(None) == ["@undated"]


# --- every query form against a scan ---------------------------------------------------------------------------

WORDS = ["央行", "降息", "市场", "资本市场", "芯片", "茅台", "基金", "险", "Model Y", "A股"]
FILLER = "今天天气晴朗有风各方人士表示关注后续情况发展"
SITES = ("sina", "netease", "qq")
SYMBOLS = ("sh600519", "sz000001", "hk00700")


def _corpus(count: int = 240, seed: int = 11) -> list[Article]:
    """Articles over three years and their year and month ends (China time and UTC differ there), some in one
    second, some undated; each with a few of WORDS at frequencies from most to few articles."""
    rng = random.Random(seed)
    newest = datetime(2026, 11, 30, 12, tzinfo=CST)
    boundaries = [datetime(2026, 1, 1, 0, 0, 30, tzinfo=CST), datetime(2025, 12, 31, 23, 59, 59, tzinfo=CST)]
    articles = []
    for number in range(count):
        if number % 17 == 0:
            published = None
        elif number % 13 == 0:
            published = boundaries[number % 2]
        elif number % 11 == 0:
            published = newest  # ties: one second, ordered by id
        else:
            published = newest - timedelta(seconds=int(rng.expovariate(1 / (86_400 * 120))) % (86_400 * 1100))
        words = [w for i, w in enumerate(WORDS) if rng.random() < 0.6 / (i + 1)]
        body = "。".join(FILLER[: rng.randrange(4, len(FILLER))] + word for word in words) or FILLER
        articles.append(
            Article(
                url=f"https://example.com/{number}.html",
                title=f"第{number}篇" + (words[0] if words and rng.random() < 0.3 else ""),
                body=body + "。",
                published_at=published,
                site=SITES[number % 3],
                symbols=[s for s in SYMBOLS if rng.random() < 0.3],
                extractor="test",
            )
        )
    return articles


def _filled(url: str):
    engine = make_engine(url)
    articles = _corpus()
    with session_factory(engine).begin() as session:
        for article in articles:
            upsert_article(session, article, datetime(2026, 12, 1, tzinfo=UTC))
    yield engine, articles
    engine.dispose()


@pytest.fixture(scope="module")
def filled(module_database_url):
    yield from _filled(module_database_url)


@pytest.fixture(scope="module")
def filled_postgresql(module_postgres_url):
    yield from _filled(module_postgres_url)


def _expected(articles, *, search=None, site=None, since=None, until=None, symbol=None, limit=20) -> list[str]:
    """The scan: every article tested in Python, newest published second first, then newest stored."""
    ids = {a.url: n for n, a in enumerate(articles, 1)}
    terms, excluded = search or ([], [])

    def found(article):
        text = f"{article.title}\n{article.body}".lower()
        if site and article.site != site or symbol and symbol not in article.symbols:
            return False
        if (since or until) and article.published_at is None:
            return False
        if since and article.published_at < datetime.combine(since, datetime.min.time(), CST):
            return False
        if until and article.published_at >= datetime.combine(until + timedelta(days=1), datetime.min.time(), CST):
            return False
        return all(t.lower() in text for t in terms) and not any(t.lower() in text for t in excluded)

    chosen = [a for a in articles if found(a)]
    chosen.sort(key=lambda a: (a.published_at is not None, a.published_at.timestamp() if a.published_at else 0, ids[a.url]), reverse=True)
    return [a.url for a in chosen[:limit]]


CASES = [
    {},
    {"site": "qq"},
    {"since": date(2026, 1, 1)},
    {"until": date(2025, 12, 31)},
    {"since": date(2025, 6, 1), "until": date(2026, 1, 1), "site": "sina"},
    {"symbol": "hk00700"},
    {"symbol": "sh600519", "since": date(2026, 1, 1)},
    {"search": "市场"},
    {"search": "险", "limit": 60},
    {"search": "资本市场"},
    {"search": "茅台", "limit": 200},  # a rare term: every period asked
    {"search": "A股"},
    {"search": '"Model Y"'},
    {"search": "央行 降息", "limit": 100},
    {"search": "市场 -基金"},
    {"search": "市场", "site": "netease", "until": date(2026, 1, 1)},
    {"search": "央行", "symbol": "sz000001", "limit": 100},
    {"search": "降息", "since": date(2025, 12, 31), "until": date(2026, 1, 1)},
    {"search": "芯片", "limit": 200},  # reaches the undated articles
]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_every_query_form_returns_what_a_scan_returns(filled, case):
    engine, articles = filled
    case = dict(case)
    limit = case.pop("limit", 20)
    search = case.pop("search", None)
    parsed = None
    if search:
        from storage.search import parse

        query_ = parse(search)
        parsed = (list(query_.terms), list(query_.excluded))
    expected = _expected(articles, search=parsed, limit=limit, **case)
    assert expected, "a case that finds nothing shows nothing"
    got = [r["url"] for r in query(engine, search=search, limit=limit, **case)]
    assert got == expected


def test_a_new_publication_time_moves_the_article_everywhere(database_url):
    """A re-fetch that changes only the publication time re-keys the article, its symbols and its search entry:
    it is found once, in its new place, and not in its old period."""
    engine = make_engine(database_url)
    old, other, new = (datetime(2026, m, 10, 9, tzinfo=CST) for m in (3, 6, 9))

    def article(number: int, published: datetime) -> Article:
        return Article(
            url=f"https://example.com/{number}.html", title=f"第{number}篇", body="央行宣布降息。", published_at=published,
            site="sina", symbols=["sh600519"], extractor="test",
        )  # fmt: skip

    with session_factory(engine).begin() as session:
        upsert_article(session, article(1, old))
        upsert_article(session, article(2, other))
    with session_factory(engine).begin() as session:
        assert upsert_article(session, article(1, new)) == "updated"
    newest_first = ["https://example.com/1.html", "https://example.com/2.html"]
    assert [r["url"] for r in query(engine)] == newest_first
    assert [r["url"] for r in query(engine, search="降息")] == newest_first
    assert [r["url"] for r in query(engine, symbol="sh600519")] == newest_first
    assert [r["url"] for r in query(engine, search="降息", since=date(2026, 9, 10), until=date(2026, 9, 10))] == newest_first[:1]
    assert query(engine, search="降息", since=date(2026, 3, 10), until=date(2026, 3, 10)) == []
    engine.dispose()


@contextmanager
def _periods_of_three_articles(engine, monkeypatch) -> Iterator[list[str]]:
    """PostgreSQL's search asking for periods of about 3 articles, as at a million articles it asks for 2,000;
    yields the index queries it runs meanwhile (one per period)."""
    from sqlalchemy import event, text

    import storage.search

    with engine.begin() as connection:
        connection.execute(text("ANALYZE articles"))  # the planner's count of articles sets the first period
    monkeypatch.setattr(storage.search, "FIRST_PERIOD_ARTICLES", 3)
    asked: list[str] = []

    def listen(_conn, _cursor, _statement, parameters, _context, _many):  # noqa: ANN001
        asked.extend(str(v) for v in (parameters or {}).values() if "@" in str(v))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield asked
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_period_after_period_returns_what_a_scan_returns(filled_postgresql, case, monkeypatch):
    """PostgreSQL with periods of a few articles, as at a million articles: every query form still answers what
    the scan answers, asking the index period after period."""
    engine, _ = filled_postgresql  # periods are PostgreSQL's way; SQLite reads its index in order
    with _periods_of_three_articles(engine, monkeypatch) as periods:
        test_every_query_form_returns_what_a_scan_returns(filled_postgresql, case)
    if case.get("search"):
        assert len(periods) >= 2  # the first period was not everything


def test_the_next_period_is_four_times_longer_or_as_long_as_the_rate_so_far_needs():
    from storage.search import _next_span

    assert _next_span(2, 2, 40, 10) == 8  # most found: four times longer
    assert _next_span(2, 2, 3, 47) == 63  # 3 in 2 days, 47 missing: twice the 31 days that rate needs
    assert _next_span(2, 2, 0, 50) == 400  # none found yet: as if half a match (a rare term or pair)


def test_a_rare_term_is_asked_in_few_periods(filled_postgresql, monkeypatch):
    """Each statement walks the rarest term's whole posting list, whatever its period: a term in a few articles
    must not be asked period after period (four-fold growth alone asked 茅台 five times here)."""
    engine, articles = filled_postgresql
    with _periods_of_three_articles(engine, monkeypatch) as statements:
        got = [r["url"] for r in query(engine, search="茅台", limit=200)]
    assert got == _expected(articles, search=(["茅台"], []), limit=200) and len(got) >= 5
    assert len(statements) <= 3, statements  # the first period, the rest at once, the undated articles
