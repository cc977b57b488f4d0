"""The crawl health report on a store filled by replayed crawls over synthetic days, checked in a browser.

Six China-time days, one `python -m crawler run news` a day (the clock moved by tests/at_time.py), each
on a replay archive of an RSS feed and recorded article pages of five sites:

  day 1, 2  new pages of every site: a normal day
  day 3     no run: a gap
  day 4     netease's pages come as an app shell whose text a script would draw: no article in them,
            its field coverage falls to 0 and the run exits 4 (a template change)
  day 5     sohu answers HTTP 456: the run is banned there (exit 3); ifeng is crawled as usual
  day 6     a normal day again; the run writes the report itself (CAIXUN_REPORT)

The report must show the drop and the ban: as alarms, in the runs table, and as marks in the charts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest

from crawler import exitcodes
from storage import make_engine
from storage.health import health
from tests import browser
from tests.helpers import PROJECT_DIR, _crawl_env, html_headers, run_storage, write_warc
from tests.test_news_crawl import _recorded

CHINA = timezone(timedelta(hours=8))
FEED_URL = "https://feeds.example.org/finance.xml"
XML = [("Content-Type", "application/xml; charset=utf-8")]
FIRST_DAY = datetime(2026, 11, 2, 8, 0, tzinfo=CHINA)


@dataclass
class Day:
    number: int
    pages: list  # recorded pages the feed lists
    shell: tuple[str, ...] = ()  # sites whose pages come as an app shell (no article)
    banned: tuple[str, ...] = ()  # sites whose pages answer HTTP 456
    expected_exit: int = exitcodes.OK

    @property
    def at(self) -> datetime:
        return FIRST_DAY + timedelta(days=self.number - 1)


def _days() -> list[Day]:
    pages = {site: _recorded(site, 17) for site in ("163", "ifeng", "sohu", "qq", "thepaper")}
    netease, ifeng, sohu, qq, thepaper = (pages[s] for s in ("163", "ifeng", "sohu", "qq", "thepaper"))
    return [
        Day(1, netease[0:4] + ifeng[0:2] + sohu[0:2] + qq[0:1] + thepaper[0:1]),
        Day(2, netease[4:8] + ifeng[2:4] + sohu[2:3] + qq[1:2] + thepaper[1:2]),
        Day(4, netease[8:12] + ifeng[4:5], shell=("163",), expected_exit=exitcodes.COVERAGE),
        Day(5, ifeng[5:6] + sohu[3:5], banned=("sohu",), expected_exit=exitcodes.BANNED),
        Day(6, netease[12:16] + qq[2:3] + thepaper[2:3]),
    ]


def _app_shell(page) -> bytes:
    """What a client-rendered template serves: a title, an empty mount point and the article as script data."""
    data = json.dumps({"title": page.expected["title"], "body": page.expected["body"]}, ensure_ascii=False)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(page.expected["title"])}</title></head>'
        f'<body><div id="app"></div><script>window.__INITIAL_STATE__={data}</script></body></html>'
    ).encode()


def _rss(day: Day) -> bytes:
    items = "".join(
        f"<item><title>{escape(page.expected['title'])}</title><link>{page.url}</link>"
        f"<pubDate>{format_datetime(day.at - timedelta(minutes=30 + n), usegmt=False)}</pubDate></item>"
        for n, page in enumerate(day.pages)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>财经</title>'
        f"<link>https://feeds.example.org/</link>{items}</channel></rss>"
    ).encode()


def _archive(day: Day, folder: Path) -> Path:
    records = [(FEED_URL, 200, XML, _rss(day))]
    for page in day.pages:
        site = page.meta["site"]
        if site in day.banned:
            records.append((page.url, 456, [("Content-Type", "text/html")], b"blocked"))
        else:
            body = _app_shell(page) if site in day.shell else page.body
            records.append((page.url, 200, html_headers(body), body))
    return write_warc(folder / f"day{day.number}.warc.gz", records)


def crawl_on(day: Day, archive: Path, database_url: str, folder: Path, *settings: str) -> subprocess.CompletedProcess:
    """`python -m crawler run news` on the feed, with the clock at the day's 08:00 China time."""
    command = [
        sys.executable, "-m", "tests.at_time", day.at.isoformat(), "crawler", "run", "news", "-a", f"feeds={FEED_URL}",
        "--database-url", database_url, "-s", f"REPLAY_WARC={archive}", "-s", f"WARC_DIR={folder / 'warc'}",
        "-s", f"CAIXUN_SPOOL_DIR={folder / 'spool'}", "-s", "CAIXUN_COVERAGE_MIN_ARTICLES=3",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", *settings,
    ]  # fmt: skip
    return subprocess.run(command, cwd=PROJECT_DIR, env=_crawl_env(None), capture_output=True, text=True, timeout=300)


@dataclass
class Replayed:
    database_url: str
    report: Path
    days: list[Day]
    results: list[subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Replayed:
    folder = tmp_path_factory.mktemp("health")
    database_url = f"sqlite:///{folder / 'store.db'}"
    report = folder / "site" / "report.html"
    report.parent.mkdir()
    days, results = _days(), []
    for day in days:
        # run logs at WARNING by default: INFO for the line saying the report was written
        settings = ("-s", f"CAIXUN_REPORT={report}", "-s", "LOG_LEVEL=INFO") if day is days[-1] else ()
        results.append(crawl_on(day, _archive(day, folder), database_url, folder, *settings))
    return Replayed(database_url, report, days, results)


def test_each_replayed_day_ends_as_planned(replayed):
    for day, result in zip(replayed.days, replayed.results):
        assert result.returncode == day.expected_exit, f"day {day.number}: {result.stderr[-3000:]}"
    assert "wrote the health report" in replayed.results[-1].stderr


def test_the_runs_are_recorded_on_their_synthetic_days(replayed):
    data = health(make_engine(replayed.database_url, create=False), until=replayed.days[-1].at.date())
    assert [run["started_at"][:10] for run in data["runs"]] == [day.at.date().isoformat() for day in replayed.days]
    assert data["period"] == {"first": "2026-11-02", "last": "2026-11-07", "by": "day", "site": None}
    per_day = {bucket["start"]: sum(bucket["sites"].values()) for bucket in data["stored"]}
    # every listed page stored on its day, but the app shells (not articles) and the banned site's pages
    assert per_day == {"2026-11-02": 10, "2026-11-03": 9, "2026-11-04": 0, "2026-11-05": 1, "2026-11-06": 1,
                       "2026-11-07": 6}  # fmt: skip


def _report_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_report_names_the_ban_and_the_coverage_drop(replayed):
    page = _report_text(replayed.report)
    banned = re.search(r'<ul id="alarms-banned">(.*?)</ul>', page, re.S)
    assert banned and "sohu: HTTP 456" in banned.group(1) and "2026-11-06" in banned.group(1)
    coverage = re.search(r'<ul id="alarms-coverage">(.*?)</ul>', page, re.S)
    assert coverage, "no coverage alarm"
    assert "on netease, 4 articles" in coverage.group(1) and "title 0% &lt; 99%" in coverage.group(1)
    assert "2026-11-05" in coverage.group(1) and "2026-11-06" not in coverage.group(1)
    assert "netease stored nothing" not in page  # it stored again on the last day


def test_the_charts_mark_the_ban_and_the_drop(replayed):
    page = _report_text(replayed.report)
    runs_chart = re.search(r'<figure class="chart" id="chart-runs">(.*?)</figure>', page, re.S).group(1)
    banned_marks = re.search(r'<g id="banned-runs">(.*?)</g>\s*</g>', runs_chart, re.S)
    assert banned_marks and banned_marks.group(1).count("<use ") == 1  # one banned run, one mark
    coverage_chart = re.search(r'<figure class="chart" id="chart-coverage">(.*?)</figure>', page, re.S).group(1)
    for field in ("title", "body", "published_at"):
        assert f'id="threshold-{field}"' in coverage_chart
    assert 'id="coverage-below"' in coverage_chart
    # labels are text the browser draws in its fonts, not glyph outlines
    assert "<text " in runs_chart and "DejaVuSans-" not in page and "<image" not in page


def test_chinese_text_comes_through_as_text(replayed):
    page = _report_text(replayed.report)
    sources = re.search(r'<table id="top-sources">(.*?)</table>', page, re.S).group(1)
    expected = {p.expected.get("source") for day in replayed.days for p in day.pages if p.meta["site"] not in day.shell + day.banned}
    shown = set(re.findall(r"<tr><td>([^<]+)</td>", sources))
    assert shown and shown <= expected and any(re.search(r"[\u4e00-\u9fff]", name) for name in shown)


def test_the_report_needs_no_network(replayed):
    page = _report_text(replayed.report)
    assert not re.search(r"<script|<link\b|<img\b|<iframe|@import|@font-face", page)
    assert set(re.findall(r"url\(([^)]*)\)", page)) <= {m for m in re.findall(r"url\((#[^)]*)\)", page)}  # in-page only
    links = set(re.findall(r'(?:src|href)="([^"]*)"', page))
    fragments = {link for link in links if link.startswith("#")}
    recorded = {page.url for day in replayed.days for page in day.pages}
    assert links - fragments <= recorded and links - fragments  # the newest articles' own links, nothing else


CHARTS = ("stored", "runs", "coverage")  # no article duplicates another: that panel says "None"


@pytest.mark.parametrize("width", [1200, 390], ids=["laptop", "phone"])
def test_the_report_draws_in_a_real_browser(replayed, tmp_path, width):
    shot = browser.check_page(replayed.report, tmp_path / "report.png", charts=CHARTS, width=width)
    assert shot.console_errors == []
    assert shot.overflow <= 0  # the page fits the window: tables scroll in their own boxes
    for name in CHARTS:
        drawn = shot.charts[name]
        assert drawn.visible and drawn.width >= width * 0.8, f"chart {name}: {drawn}"
        assert drawn.ink_share > 0.01, f"chart {name} is blank: {drawn}"
    assert "duplicates" not in shot.charts and '<p class="none" id="none-duplicates">' in _report_text(replayed.report)


@pytest.mark.parametrize("width", [1200, 390], ids=["laptop", "phone"])
def test_legends_are_legible_and_charts_stay_in_their_boxes(replayed, tmp_path, width):
    seen = browser.check_figures(replayed.report, tmp_path / "figures.png", width=width)
    assert seen.overflow <= 0 and set(seen.figures) == set(CHARTS)
    for name, figure in seen.figures.items():
        assert figure.fits_or_scrolls(), f"{name}: {figure}"
        assert browser.legend_problems(figure) == [], name
    keys = [text for text, _, _ in seen.figures["coverage"].legend]
    assert keys[:5] == ["ifeng", "netease", "qq", "sohu", "thepaper"] and "under its threshold (3)" in keys
    assert [text for text, _, _ in seen.figures["runs"].legend][-2:] == ["banned", "exited with another error"]


# --- the command line ----------------------------------------------------------------------------------------------


def test_the_command_writes_one_site_s_report_over_the_old_one_atomically(replayed, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("the previous report", encoding="utf-8")
    with out.open(encoding="utf-8") as served:  # a web server in the middle of sending the old file
        result = run_storage("report", "--database-url", replayed.database_url, "--site", "netease",
                             "--until", "2026-11-07", "--out", str(out))  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert served.read() == "the previous report"  # replaced by a rename, not rewritten in place
    assert result.stdout.startswith(f"wrote {out}: 2026-11-02 to 2026-11-07, 12 articles stored, 4 crawl runs")  # day 5 crawled no netease page
    page = out.read_text(encoding="utf-8")
    assert "site netease" in page and '<ul id="alarms-coverage">' in page
    assert '<ul id="alarms-banned">' not in page  # sohu's ban is not netease's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no part file left


@pytest.mark.parametrize(
    "arguments, code, message",
    [
        (["--out", "{tmp}/missing/report.html"], 1, "cannot write the report to {tmp}/missing/report.html: the folder"),
        (["--out", "{tmp}"], 1, "it is a folder"),
        ([], 2, "the following arguments are required: --out"),
        (["--out", "{tmp}/r.html", "--since", "2999-01-01"], 2, "--since 2999-01-01 is after today"),
        (["--out", "{tmp}/r.html", "--since", "2026-11-05", "--until", "2026-11-01"], 2, "is after --until"),
    ],
)  # fmt: skip
def test_bad_report_arguments_are_named(replayed, tmp_path, arguments, code, message):
    filled = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    result = run_storage("report", "--database-url", replayed.database_url, *filled)
    assert result.returncode == code and message.replace("{tmp}", str(tmp_path)) in result.stderr, result.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_missing_store_is_not_made_into_an_empty_report(tmp_path):
    result = run_storage("report", "--database-url", f"sqlite:///{tmp_path / 'none.db'}", "--out", str(tmp_path / "r.html"))
    assert result.returncode == 1 and "no database at" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_a_crawl_whose_report_cannot_be_written_does_not_start(replayed, tmp_path, where):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    report = blocker / "report.html" if where == "under a file" else tmp_path
    day = replayed.days[0]
    result = crawl_on(day, _archive(day, tmp_path), f"sqlite:///{tmp_path / 'store.db'}", tmp_path,
                      "-s", f"CAIXUN_REPORT={report}")  # fmt: skip
    assert result.returncode == exitcodes.CANNOT_WRITE, result.stderr[-2000:]
    assert "health report" in result.stderr and "CAIXUN_REPORT" in result.stderr
    assert "news run" not in result.stdout  # no summary line: nothing was crawled


def test_a_report_that_cannot_be_written_after_the_crawl_is_one_error(tmp_path, caplog):
    from crawler.scheduled import write_health_report

    unreachable = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    assert write_health_report(unreachable, str(tmp_path / "report.html"), timeout=2) is False
    assert [r.levelname for r in caplog.records] == ["ERROR"] and "cannot write the health report" in caplog.text
    assert not (tmp_path / "report.html").exists()
