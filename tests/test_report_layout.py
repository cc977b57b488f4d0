"""The health report's layout rules on hand-made data (storage.report, storage.charts): no database here."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storage.charts import RUN_BARS_UP_TO, _run_groups, thresholds_of
from storage.report import COVERAGE_MIN_ARTICLES, alarms, render

CST = timezone(timedelta(hours=8))


def _run(n: int, started: datetime, *, coverage=None, exit_status=0, banned=None, thresholds=None) -> dict:
    return {
        "id": n, "spider": "news", "started_at": started.isoformat(), "finished_at": None, "seconds": 60.0,
        "finish_reason": "finished", "exit_status": exit_status, "banned": banned or {},
        "outcomes": {"inserted": 1, "failed": 0}, "failed_by_reason": {}, "coverage": coverage or {},
        "thresholds": thresholds or {}, "summary": [f"news run {n}: …"],
    }  # fmt: skip


def _data(runs: list[dict], stored=None, sites=("sina",), last="2026-11-06") -> dict:
    return {
        "period": {"first": "2026-11-02", "last": last, "by": "day", "site": None}, "sites": list(sites),
        "articles": 0, "stored": stored or [], "last_stored": {}, "duplicates": [], "runs": runs, "top_sources": [], "top_symbols": [],
        "newest": {},
    }  # fmt: skip


def test_few_runs_get_a_bar_each_and_many_a_bar_per_day():
    start = datetime(2026, 11, 2, 0, 30, tzinfo=CST)
    few = [_run(n, start + timedelta(minutes=20 * n)) for n in range(RUN_BARS_UP_TO)]
    many = few + [_run(RUN_BARS_UP_TO, start + timedelta(days=1))]  # runs every 20 min from 00:30: 71 on day one
    assert len(_run_groups(few, "day")[1]) == RUN_BARS_UP_TO
    xs, groups, unit = _run_groups(many, "day")
    assert unit == "day" and [len(g) for g in groups] == [71, 50] and str(xs[0]) == "2026-11-02"


def test_thresholds_drawn_are_the_newest_run_s_else_the_crawler_s_defaults():
    start = datetime(2026, 11, 2, 8, tzinfo=CST)
    assert thresholds_of([_run(1, start)]) == {"title": 0.99, "body": 0.99, "published_at": 0.95}
    runs = [_run(1, start, thresholds={"title": 0.5}), _run(2, start, thresholds={"body": 0.8, "editor": 0.1})]
    assert thresholds_of(runs) == {"body": 0.8}  # editor is not a coverage field the crawler judges


def test_a_coverage_drop_is_an_alarm_when_judged_or_large_enough():
    start = datetime(2026, 11, 2, 8, tzinfo=CST)
    low = {"articles": COVERAGE_MIN_ARTICLES - 1, "title": 0.5, "body": 1.0, "published_at": 1.0}
    runs = [
        _run(1, start, coverage={"sina": low}),  # too few articles, and the crawl did not fail on it
        _run(2, start, coverage={"sina": low}, exit_status=4),  # the crawl judged it: exit 4
        _run(3, start, coverage={"sina": {**low, "articles": COVERAGE_MIN_ARTICLES}}),
    ]
    found = alarms(_data(runs))["coverage"]
    assert [line.split(" (")[0] for line in found] == ["run 3", "run 2"]
    assert "title 50% < 99%" in found[0]
    runs[1]["thresholds"], runs[2]["thresholds"] = {"title": 0.99}, {"title": 0.4}  # each judged by its own: run 3 met
    assert [line.split(" (")[0] for line in alarms(_data(runs))["coverage"]] == ["run 2"]
    assert alarms(_data(runs))["failed"] == ["run 2 (news, 2026-11-02 08:00) exited 4 (finished)"]


def test_a_site_that_stopped_storing_is_named():
    data = _data([], sites=("qq", "sina"))  # the period ends 2026-11-06
    data["last_stored"] = {"qq": "2026-11-05", "sina": "2026-11-04"}
    assert alarms(data)["quiet"] == ["sina stored nothing after 2026-11-04"]  # one day without is no alarm
    data["last_stored"]["sina"] = "2026-11-06"
    assert alarms(data)["quiet"] == []


def test_text_from_the_store_is_escaped():
    start = datetime(2026, 11, 2, 8, tzinfo=CST)
    data = _data([_run(1, start)])
    data["top_sources"] = [{"source": "<b>来源</b>", "articles": 1}]
    data["newest"] = {"sina": [{"title": "<script>x</script>", "url": "https://a.example/\"1", "published_at": None, "source": None}]}
    page = render(data)
    assert "<script>x" not in page and "&lt;script&gt;x" in page and "&lt;b&gt;来源" in page
    assert 'href="https://a.example/&quot;1"' in page
