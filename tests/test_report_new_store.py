"""The health report of a new store, on a phone: one day of articles and one run (real SQLite and PostgreSQL).

The store holds what a first crawl leaves: articles of sina (a site rule) and of pages no rule handles
(articles.site "generic"), stored on one China-time day, no symbols, no duplicates, one run. The run's record
names the pages without a rule by host, as runs did before they recorded "generic": three hosts, one of them
with a failed page only. The report must draw days (not hours) with bars a reader sees, say "None" where
there is nothing to show, draw the hosts as one series "generic", and fit a 390 px phone: charts inside their
boxes (or scrolling in them), legends legible.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from extractors import Article
from storage import make_engine, session_factory
from storage.charts import run_unit, runs_chart
from storage.health import health
from storage.provenance import finish_run, start_run
from storage.report import render, write_report
from storage.write import upsert_article
from tests import browser
from tests.test_report_layout import _data, _run

CST = timezone(timedelta(hours=8))
DAY = date(2026, 11, 4)
HOSTS = ("www.xinhuanet.com", "www.news.cn", "finance.people.com.cn")
SVG_WIDTH_AT_LEAST = 576  # CSS px: storage.report's figures are no narrower (min-width 36rem)


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=CST)


def _article(n: int, site: str, host: str, source: str | None) -> Article:
    return Article(
        url=f"https://{host}/{n}.html", site=site, title=f"新闻{n}", extractor="test@1", source=source,
        body=f"第{n}篇的正文，各不相同，编号{n}。讲的是第{n}件事，与别篇无关，长度足够判断是否重复。" * 3,
        published_at=_at(6, n),
    )  # fmt: skip


ARTICLES = [
    _article(1, "sina", "finance.sina.com.cn", "证券时报"),
    _article(2, "sina", "finance.sina.com.cn", "新华社"),
    _article(3, "sina", "finance.sina.com.cn", None),
    _article(4, "generic", HOSTS[0], None),
    _article(5, "generic", HOSTS[1], None),
]
STATS = {
    "caixun/storage/inserted": 5, "caixun/fetch/failed": 1, "caixun/fetch/failed/timeout": 1,
    "caixun/site/sina/storage/inserted": 3, f"caixun/site/{HOSTS[0]}/storage/inserted": 1,
    f"caixun/site/{HOSTS[1]}/storage/inserted": 1, f"caixun/site/{HOSTS[2]}/fetch/failed": 1,
}  # fmt: skip
SHARES = {"title": 1.0, "body": 1.0, "source": 1.0}
COVERAGE = {
    "articles": 5, **SHARES, "published_at": 0.8,
    "sites": {"sina": {"articles": 3, **SHARES, "published_at": 1.0},
              HOSTS[0]: {"articles": 1, **SHARES, "published_at": 0.0}, HOSTS[1]: {"articles": 1, **SHARES, "published_at": 1.0}},
}  # fmt: skip


def fill_one_day(engine) -> None:
    """Five articles stored between 09:00 and 09:40 of DAY and the run that stored them, at 09:00."""
    sessions = session_factory(engine)
    for n, article in enumerate(ARTICLES):
        with sessions.begin() as session:
            upsert_article(session, article, _at(9, 10 * n).astimezone(timezone.utc))
    with sessions.begin() as session:
        run_id = start_run(session, "news", {}, _at(9))
        finish_run(session, run_id, finished_at=_at(9, 45), finish_reason="finished",
                   stats=STATS | {"caixun/crawl_run_id": run_id}, exit_status=0, coverage=COVERAGE)  # fmt: skip


@pytest.fixture(scope="module")
def one_day(module_database_url):
    engine = make_engine(module_database_url)
    fill_one_day(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def page(one_day) -> str:
    return render(health(one_day, until=DAY))


def _figure(page: str, name: str) -> str:
    found = re.search(rf'<figure class="chart" id="chart-{name}">(.*?)</figure>', page, re.S)
    assert found, f"no {name} chart"
    return found.group(1)


def _tick_texts(figure: str) -> list[str]:
    return re.findall(r"<text [^>]*>([^<]*)</text>", figure)


def _bar_widths(figure: str, chart: str) -> list[float]:
    """Each bar's width as a share of the SVG's width (from the bars' outlines: M x y L x y L x y L x y z)."""
    view = float(re.search(r'viewBox="0 0 ([\d.]+) ', figure).group(1))
    widths = []
    for path in re.findall(rf'<g id="{chart}-bar-[^"]*">\s*<path d="([^"]*)"', figure):
        xs = [float(x) for x in re.findall(r"[ML] ([-\d.]+) ", path)]
        widths.append((max(xs) - min(xs)) / view)
    return widths


# --- data -----------------------------------------------------------------------------------------------------------


def test_a_new_store_s_period_is_its_one_day(one_day):
    data = health(one_day, until=DAY)
    assert data["period"] == {"first": "2026-11-04", "last": "2026-11-04", "by": "day", "site": None}
    assert data["stored"] == [{"start": "2026-11-04", "sites": {"generic": 2, "sina": 3}}]
    assert data["top_symbols"] == [] and len(data["runs"]) == 1


def test_pages_without_a_rule_are_one_site_generic(one_day):
    data = health(one_day, until=DAY)
    assert data["sites"] == ["generic", "sina"]  # not one per host
    (run,) = data["runs"]
    assert sorted(run["coverage"]) == ["generic", "sina"]
    assert run["coverage"]["generic"] == {"articles": 2, "title": 1.0, "body": 1.0, "source": 1.0, "published_at": 0.5}
    assert not any(host in line for line in run["summary"] for host in HOSTS)
    generic = health(one_day, until=DAY, site="generic")
    assert generic["runs"][0]["outcomes"]["inserted"] == 2 and generic["runs"][0]["outcomes"]["failed"] == 1


# --- the page -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", ["stored", "runs"])
def test_one_day_is_drawn_on_a_day_axis_with_visible_bars(page, chart):
    figure = _figure(page, chart)
    ticks = _tick_texts(figure)
    assert any(re.fullmatch(r"(\d{4}-)?11-0[1-5]", tick) for tick in ticks), ticks
    assert not any(re.fullmatch(r"\d\d:\d\d", tick) for tick in ticks), ticks  # no hours
    widths = _bar_widths(figure, chart)
    assert widths and min(widths) * SVG_WIDTH_AT_LEAST >= 20, widths  # px, where the SVG is narrowest


def test_runs_of_one_day_are_one_bar_not_hairlines():
    start = datetime(2026, 11, 4, 8, tzinfo=CST)
    runs = [_run(n, start + timedelta(hours=n)) for n in range(3)]  # 08:00, 09:00 and 10:00
    data = _data(runs, sites=("sina",), last="2026-11-04")
    data["period"]["first"] = "2026-11-04"
    assert run_unit(data) == "day"
    widths = _bar_widths(runs_chart(data).svg, "runs")
    assert len(widths) == 1 and widths[0] * SVG_WIDTH_AT_LEAST >= 20, widths
    assert "runs added up per day" in render(data)
    data["runs"] = runs[:1]
    assert run_unit(data) == "run"  # a run alone is a bar of its own, as wide as most of a day


def test_empty_panels_say_none(page):
    assert '<p class="none" id="none-top-symbols">None: ' in page and 'id="top-symbols"' not in page
    assert '<p class="none" id="none-duplicates">None: no article stored in this period duplicates' in page
    assert 'id="chart-duplicates"' not in page
    assert 'id="top-sources"' in page  # a panel with something to show shows it
    empty = render(_data([], sites=(), last="2026-11-04"))
    for name in ("stored", "runs", "coverage", "duplicates", "last-runs", "top-sources", "top-symbols", "newest"):
        assert re.search(rf'<p class="none" id="none-{name}">None: [^<]+</p>', empty), name
    assert "<figure" not in empty and "<table" not in empty


def test_the_coverage_legend_names_generic_once_and_no_host(page):
    legends = re.findall(r'<ul class="legend">(.*?)</ul>', page, re.S)
    keys = [re.findall(r"<span>([^<]*)</span></li>", legend) for legend in legends]
    coverage = re.findall(r"<span>([^<]*)</span></li>", _figure(page, "coverage"))
    assert coverage.count("generic") == 1 and "sina" in coverage
    assert not any(host in key for legend in keys for key in legend for host in HOSTS)


def test_chart_text_names_cjk_fonts(page):
    fonts = re.search(r"font-family: ([^;\"]*)", _figure(page, "stored")).group(1)
    for font in ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC"):
        assert font in fonts
    assert fonts.rstrip().endswith("sans-serif")  # the browser's own fallback last


# --- in a browser, on a phone ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone(tmp_path_factory) -> browser.Phone:
    """The one-day report at 390 px, drawn once from a SQLite store of its own (the page is the same from
    either database: the data tests above compare them)."""
    folder = tmp_path_factory.mktemp("phone")
    engine = make_engine(f"sqlite:///{folder / 'store.db'}")
    try:
        fill_one_day(engine)
        write_report(engine, folder / "report.html", until=DAY)
    finally:
        engine.dispose()
    return browser.check_figures(folder / "report.html", folder / "report.png", width=390)


def test_on_a_phone_the_page_does_not_scroll_sideways(phone):
    assert phone.overflow <= 0
    assert set(phone.figures) == {"stored", "runs", "coverage"}  # duplicates: none
    assert {"duplicates", "top-symbols"} <= set(phone.none)


def test_on_a_phone_each_chart_fits_or_scrolls_in_its_box(phone):
    for name, figure in phone.figures.items():
        assert figure.fits_or_scrolls(), f"{name}: {figure}"
        assert figure.box.right <= 390 and figure.box.left >= 0, f"{name}: {figure.box}"


def test_on_a_phone_legends_are_legible(phone):
    for name, figure in phone.figures.items():
        assert figure.legend, f"{name} has no legend"
        assert browser.legend_problems(figure) == [], name


def test_on_a_phone_bars_are_seen(phone):
    for name in ("stored", "runs"):
        widths = phone.figures[name].bar_widths
        assert widths and min(widths) >= 20, f"{name}: {widths}"
