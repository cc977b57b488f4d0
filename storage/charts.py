"""The health report's charts: matplotlib figures written as SVG with text kept as text.

Each function takes storage.health's data and returns a Chart: one <svg> element for inline use and its
legend's keys, which the page lays out as HTML (a list that wraps and stays legible on a phone, where the SVG
may scroll), or None when there is nothing to draw (the page says so in a sentence). Text stays text
(svg.fonttype "none"), so the browser draws labels in its own fonts: FONTS names the common CJK fonts, for
Chinese, and lets the browser fall back. Marks a test or a reader may look for carry ids (matplotlib's gid):
"banned-runs", "failed-runs", "threshold-<field>", and each bar "<chart>-bar-<series>-<n>".

Dates run along the x axis, a day's tick labelled MM-DD, at least MIN_AXIS_DAYS days wide (a new store's one
day is drawn as the last of a week, not as hours). Runs are a bar each when there are at most RUN_BARS_UP_TO
and a bar each is at least MIN_BAR_SHARE of the axis wide; else they are added up per day (per week past
storage.health's BY_DAY_UP_TO days).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from storage.extras import require

matplotlib = require("matplotlib", "report")  # the report's extra: a missing one is named, not a bare ImportError
matplotlib.use("Agg")  # no screen: render to files only

import matplotlib.dates as mdates  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from storage.health import week_start  # noqa: E402
from storage.runs import COVERAGE_FIELDS, DEFAULT_COVERAGE_THRESHOLDS, OUTCOMES  # noqa: E402

RUN_BARS_UP_TO = 120  # runs drawn one bar each; more are drawn per day or week
MIN_BAR_SHARE = 1 / 200  # of the axis: a run's bar narrower than this is added up with its day's
MIN_AXIS_DAYS = 7  # the date axis spans at least a week, ending on the period's last day
MARKERS_UP_TO = 40  # points per line drawn with a marker each; more make a plain line
FAILURE_REASONS_SHOWN = 4  # the most frequent failure reasons get a colour each; the rest are "failed: other"
WIDTH_INCHES = 9.0  # at 1 pt a CSS px: storage.report's figures are no narrower than this (their text legible)
OUTCOME_COLOURS = {
    "inserted": "#2ca02c", "updated": "#98df8a", "unchanged": "#c7c7c7", "not fetched again": "#e0e0e0",
    "not modified": "#aec7e8", "not an article": "#bcbd22", "removed": "#7f7f7f", "spooled": "#17becf",
}  # fmt: skip
FAILURE_COLOURS = ("#d62728", "#ff9896", "#e377c2", "#ff7f0e", "#8c0000")
# The fonts the SVG's text names, first found first: matplotlib measures with DejaVu Sans; a browser without it
# takes the next, and a CJK font for Chinese (without any, Chinese shows as boxes: install one, README).
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
         "PingFang SC", "Hiragino Sans GB", "sans-serif"]  # fmt: skip
STYLE = {
    "svg.fonttype": "none",  # text as text (svg.hashsalt, which keeps ids the same from run to run, is per chart: _svg)
    "font.size": 10,
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass
class Key:
    """A legend entry: `kind` "bar" (a filled square), "line", "dashed", "ring" (a circled share) or a mark
    character ("▼"); `ident` an id for the entry, if any."""

    label: str
    colour: str
    kind: str = "bar"
    ident: str = ""


@dataclass
class Chart:
    svg: str
    legend: list[Key] = field(default_factory=list)


def _hex(colour) -> str:
    return to_hex(colour)


def _svg(figure: Figure, name: str) -> str:
    """The figure as an <svg> element: no XML prolog, no fixed size (the page scales it), ids unique to `name`."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})  # fixed margins (_figure):
        # bbox_inches="tight" would draw every figure twice
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)
    return svg.replace("<svg", f'<svg role="img" aria-label="{name}"', 1)


def _figure(height: float, rows: int = 1, columns: int = 1, *, top: float = 0.2, **options) -> tuple[Figure, list]:
    """A figure WIDTH_INCHES wide with fixed margins (inches): room for the y label on the left, the dates below
    and `top` above (the legend is the page's, below the figure)."""
    figure = Figure(figsize=(WIDTH_INCHES, height))  # not pyplot: no figure manager to keep or close, a lighter import
    axes = figure.subplots(rows, columns, squeeze=False, **options)
    figure.subplots_adjust(left=0.9 / WIDTH_INCHES, right=1 - 0.25 / WIDTH_INCHES, bottom=0.55 / height,
                           top=1 - top / height, hspace=0.5 if rows > 1 else None, wspace=0.2)  # fmt: skip
    return figure, [a for row in axes for a in row]


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _axis_span(data: dict) -> tuple[date, date]:
    """The x axis' first and last day (exclusive): the period, widened to MIN_AXIS_DAYS before its end."""
    period = data["period"]
    end = _day(period["last"]) + timedelta(days=1)
    return min(_day(period["first"]), end - timedelta(days=MIN_AXIS_DAYS)), end


def _date_axis(axes, data: dict) -> None:
    """Dates on the x axis, spanning the whole period (every chart the same span, an empty end shown as such);
    the days before the period, when a short one is widened to MIN_AXIS_DAYS, shaded."""
    start, end = _axis_span(data)
    axes.set_xlim(start, end)
    first = _day(data["period"]["first"])
    if start < first:
        axes.axvspan(start, first, color="#f2f2f2", linewidth=0, zorder=0)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        locator, formats=["%Y", "%Y-%m", "%m-%d", "%m-%d %H:%M", "%H:%M", "%S"],
        zero_formats=["", "%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M"],
        offset_formats=["", "", "%Y", "%Y", "%Y-%m-%d", "%Y-%m-%d"]))  # fmt: skip


def _stacked_bars(axes, xs: list, series: dict[str, list[int]], colours: dict, width: float, chart: str,
                  **options) -> tuple[list[int], list[Key]]:  # fmt: skip
    """One bar per x and series, stacked in the series' order; a series of zeros draws nothing (and has no key).
    Returns the stacks' heights and the legend's keys."""
    bottom = [0] * len(xs)
    keys = []
    for number, (name, heights) in enumerate(series.items()):
        if any(heights):
            bars = axes.bar(xs, heights, width, bottom=bottom, color=colours[name], linewidth=0, **options)
            for n, bar in enumerate(bars):
                bar.set_gid(f"{chart}-bar-{number}-{n}")
            bottom = [a + b for a, b in zip(bottom, heights)]
            keys.append(Key(name, _hex(colours[name])))
    return bottom, keys


def _site_colours(sites: list[str]) -> dict[str, tuple]:
    palette = matplotlib.colormaps["tab20" if len(sites) > 10 else "tab10"]
    return {site: palette(n % palette.N) for n, site in enumerate(sites)}


def _bar_width(unit: str) -> float:
    """Days: a day's bar (or a week's) leaves a gap to the next."""
    return 0.8 if unit == "day" else 5.6


def _centres(xs: list, unit: str) -> list:
    """Where a day's (week's) bar or point goes: the middle of its day (week), not its first midnight."""
    if unit == "run":
        return xs
    half = timedelta(days=0.5 if unit == "day" else 3.5)
    return [datetime.combine(x, datetime.min.time()) + half for x in xs]


def stored_chart(data: dict) -> Chart | None:
    """Articles first stored per site per day (or week), stacked; a day with none is a gap. None: none stored."""
    if not data["articles"]:
        return None
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _figure(3.2)
        buckets = data["stored"]
        by = data["period"]["by"]
        starts = _centres([_day(b["start"]) for b in buckets], by)
        series = {site: [b["sites"].get(site, 0) for b in buckets] for site in data["sites"]}
        _, keys = _stacked_bars(axes, starts, series, _site_colours(data["sites"]), _bar_width(by), "stored")
        axes.set_ylabel(f"articles stored per {by}")
        axes.yaxis.get_major_locator().set_params(integer=True)
        _date_axis(axes, data)
        return Chart(_svg(figure, "articles stored per site"), keys)


def _run_time(run: dict) -> datetime:
    return datetime.fromisoformat(run["started_at"]).replace(tzinfo=None)


def _run_bar_width(runs: list[dict]) -> float:
    """Days: a run's bar, 0.7 of the mean time between runs (of a day, for one run)."""
    if len(runs) < 2:
        return 0.7
    return (_run_time(runs[-1]) - _run_time(runs[0])).total_seconds() / 86400 / (len(runs) - 1) * 0.7


def run_unit(data: dict) -> str:
    """What a bar of the runs chart is: "run" when there are at most RUN_BARS_UP_TO runs and a bar each is at
    least MIN_BAR_SHARE of the axis wide, else the period's "day" or "week"."""
    runs = data["runs"]
    start, end = _axis_span(data)
    if len(runs) <= RUN_BARS_UP_TO and _run_bar_width(runs) / (end - start).days >= MIN_BAR_SHARE:
        return "run"
    return data["period"]["by"]


def _run_groups(runs: list[dict], by: str, unit: str | None = None) -> tuple[list, list[list[dict]], str]:
    """(x positions, runs at each, what a bar is): one run each when few (or `unit` says "run"), else per day or
    week of their start (the day or week itself as x)."""
    if unit == "run" or (unit is None and len(runs) <= RUN_BARS_UP_TO):
        # China time as shown (the record's offset), naive: matplotlib would draw aware times in UTC
        return [_run_time(r) for r in runs], [[r] for r in runs], "run"
    groups: dict[date, list[dict]] = {}
    for run in runs:
        day = _day(run["started_at"])
        groups.setdefault(day if by == "day" else week_start(day), []).append(run)
    return list(groups), list(groups.values()), by


def _top_reasons(runs: Iterable[dict]) -> list[str]:
    totals: dict[str, int] = {}
    for run in runs:
        for reason, count in run["failed_by_reason"].items():
            totals[reason] = totals.get(reason, 0) + count
    return [reason for reason, count in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if count][:FAILURE_REASONS_SHOWN]


def _failed_segments(run: dict, reasons: list[str], by_reason: bool) -> dict[str, int]:
    if not by_reason:
        return {"failed": run["outcomes"]["failed"]}
    segments = {f"failed: {reason}": run["failed_by_reason"].get(reason, 0) for reason in reasons}
    other = run["outcomes"]["failed"] - sum(segments.values())
    segments["failed: other"] = max(other, 0)
    return segments


def runs_chart(data: dict) -> Chart | None:
    """Per run (or per day/week of runs, run_unit): pages by outcome, failures by reason; below, duration and
    marks for banned runs and runs that exited with an error. None: no runs."""
    runs = data["runs"]
    if not runs:
        return None
    with matplotlib.rc_context(STYLE):
        figure, (pages, timing) = _figure(4.6, 2, 1, sharex=True, height_ratios=(3, 1.4))
        xs, groups, unit = _run_groups(runs, data["period"]["by"], run_unit(data))
        xs = _centres(xs, unit)
        by_reason = not data["period"]["site"]  # the stats keep failure reasons per run, not per site
        reasons = _top_reasons(runs) if by_reason else []
        names = [name for name, _ in OUTCOMES] + ([f"failed: {r}" for r in reasons] + ["failed: other"] if by_reason else ["failed"])
        colours = {**OUTCOME_COLOURS, **dict(zip(names[len(OUTCOMES):], FAILURE_COLOURS)), "failed": FAILURE_COLOURS[0]}
        colours["failed: other"] = "#444444"
        series = {name: [0] * len(groups) for name in names}
        for n, group in enumerate(groups):
            for run in group:
                for name, count in {**run["outcomes"], **_failed_segments(run, reasons, by_reason)}.items():
                    if name in series:
                        series[name][n] += count
        width = _run_bar_width(runs) if unit == "run" else _bar_width(unit)
        _, keys = _stacked_bars(pages, xs, series, colours, width, "runs")
        pages.set_ylabel("pages per run" if unit == "run" else f"pages per {unit}")
        pages.yaxis.get_major_locator().set_params(integer=True)
        seconds = [max((r["seconds"] or 0) for r in group) for group in groups]
        timing.plot(xs, seconds, color="#555555", linewidth=1, marker="." if len(xs) <= MARKERS_UP_TO else None)
        keys.append(Key("how long a run took" if unit == "run" else f"the longest run of the {unit}", "#555555", "line"))
        timing.set_ylabel("seconds" if unit == "run" else f"longest run\nof the {unit} (s)")
        top = max(seconds + [1])
        banned = [(x, top) for x, group in zip(xs, groups) if any(r["banned"] for r in group)]
        failed = [(x, top) for x, group in zip(xs, groups) if any(r["exit_status"] not in (0, 3) for r in group)]
        if banned:
            timing.scatter(*zip(*banned), marker="v", s=40, color="#d62728", zorder=3, gid="banned-runs")
            keys.append(Key("banned", "#d62728", "▼"))
        if failed:
            timing.scatter(*zip(*failed), marker="x", s=30, color="#ff7f0e", zorder=3, gid="failed-runs")
            keys.append(Key("exited with another error", "#ff7f0e", "×"))
        timing.set_ylim(0, top * 1.25)
        _date_axis(timing, data)
        return Chart(_svg(figure, "crawl runs"), keys)


def thresholds_of(runs: list[dict]) -> dict[str, float]:
    """The coverage thresholds of the newest run that recorded them, else the crawler's defaults."""
    for run in reversed(runs):
        if run["thresholds"]:
            return {k: float(v) for k, v in run["thresholds"].items() if k in COVERAGE_FIELDS}
    return dict(DEFAULT_COVERAGE_THRESHOLDS)


def coverage_chart(data: dict) -> Chart | None:
    """One panel per field (title, body, time, source): each site's share of its runs' articles with the field,
    the field's threshold dashed, a share under it circled. Past RUN_BARS_UP_TO runs, each day's (week's) lowest.
    None: no run recorded coverage."""
    runs = [run for run in data["runs"] if run["coverage"]]
    sites = sorted({site for run in runs for site in run["coverage"]})
    if not sites:
        return None
    thresholds = thresholds_of(data["runs"])
    colours = _site_colours(sites)
    with matplotlib.rc_context(STYLE):
        figure, panels = _figure(5.2, 2, 2, sharex=True, sharey=True)
        below_marks = 0
        lines = {}
        for site in sites:  # each site's groups and records once, for every field
            site_runs = [run for run in runs if site in run["coverage"]]
            xs, groups, unit = _run_groups(site_runs, data["period"]["by"])
            lines[site] = (_centres(xs, unit), [[r["coverage"][site] for r in group] for group in groups])
        for axes, field in zip(panels, COVERAGE_FIELDS):
            for site in sites:
                xs, records = lines[site]
                shares = [min(float(record.get(field, 1.0)) for record in group) for group in records]
                axes.plot(xs, shares, color=colours[site], linewidth=1.2, marker="o" if len(xs) <= MARKERS_UP_TO else None,
                          markersize=3 if len(xs) > 1 else 5)  # fmt: skip
                below = [(x, share) for x, share in zip(xs, shares) if field in thresholds and share < thresholds[field]]
                if below:
                    below_marks += len(below)
                    axes.scatter(*zip(*below), s=36, facecolors="none", edgecolors="#d62728", linewidths=1.5, zorder=3)
            if field in thresholds:
                axes.axhline(thresholds[field], color="#d62728", linestyle="--", linewidth=0.8, gid=f"threshold-{field}")
            axes.set_title(field + (f" (threshold {thresholds[field]:.0%})" if field in thresholds else ""), loc="left", fontsize=10)
            axes.label_outer()  # dates under the bottom row only, shares left of the first column
            axes.set_ylim(-0.05, 1.08)
            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            _date_axis(axes, data)
        keys = [Key(site, _hex(colours[site]), "line") for site in sites]
        if thresholds:
            keys.append(Key("threshold", "#d62728", "dashed"))
        if below_marks:  # a key with an id naming the shortfalls for readers of the page
            keys.append(Key(f"under its threshold ({below_marks})", "#d62728", "ring", "coverage-below"))
        return Chart(_svg(figure, "field coverage per site"), keys)


def duplicates_chart(data: dict) -> Chart | None:
    """Per site and week, the share of the articles stored that are linked to an earlier one as duplicates.
    None: no article stored in the period is a duplicate."""
    weeks = data["duplicates"]
    if not any(entry["duplicates"] for week in weeks for entry in week["sites"].values()):
        return None
    first = _day(data["period"]["first"])
    # the middle of the week's first day in the period (the first week may begin before it)
    xs = [datetime.combine(max(_day(w["week"]), first), datetime.min.time()) + timedelta(hours=12) for w in weeks]
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _figure(2.8)
        keys = []
        for site, colour in _site_colours(data["sites"]).items():
            shares = [
                (w["sites"][site]["duplicates"] / w["sites"][site]["articles"]) if w["sites"].get(site, {}).get("articles") else None
                for w in weeks
            ]
            points = [(x, s) for x, s in zip(xs, shares) if s is not None]
            if points:
                axes.plot(*zip(*points), color=colour, marker=".", linewidth=1.2)
                keys.append(Key(site, _hex(colour), "line"))
        axes.set_ylabel("duplicates per week")
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_ylim(bottom=0)
        _date_axis(axes, data)
        return Chart(_svg(figure, "duplicates per site and week"), keys)
