"""The health report's charts: matplotlib figures written as SVG with text kept as text.

Each function takes storage.health's data and returns one <svg> element for inline use. Text stays text
(svg.fonttype "none"), so the browser draws labels in its own fonts, Chinese included. Marks a test or a
reader may look for carry ids (matplotlib's gid): "banned-runs", "failed-runs", "coverage-below",
"threshold-<field>". Past RUN_BARS_UP_TO runs, runs are drawn per day (per week past storage.health's
BY_DAY_UP_TO days), not a bar each.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import matplotlib

matplotlib.use("Agg")  # no screen: render to files only

import matplotlib.dates as mdates  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from storage.health import week_start  # noqa: E402
from storage.runs import COVERAGE_FIELDS, DEFAULT_COVERAGE_THRESHOLDS, OUTCOMES  # noqa: E402

RUN_BARS_UP_TO = 120  # runs drawn one bar each; more are drawn per day or week
MARKERS_UP_TO = 40  # points per line drawn with a marker each; more make a plain line
FAILURE_REASONS_SHOWN = 4  # the most frequent failure reasons get a colour each; the rest are "failed: other"
WIDTH_INCHES = 10.0
OUTCOME_COLOURS = {
    "inserted": "#2ca02c", "updated": "#98df8a", "unchanged": "#c7c7c7", "not fetched again": "#e0e0e0",
    "not modified": "#aec7e8", "not an article": "#bcbd22", "removed": "#7f7f7f", "spooled": "#17becf",
}  # fmt: skip
FAILURE_COLOURS = ("#d62728", "#ff9896", "#e377c2", "#ff7f0e", "#8c0000")
STYLE = {
    "svg.fonttype": "none",  # text as text (svg.hashsalt, which keeps ids the same from run to run, is per chart: _svg)
    "font.size": 9,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "sans-serif"],
    "axes.spines.top": False,
    "axes.spines.right": False,
}


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
    """A figure WIDTH_INCHES wide with fixed margins (inches): room for the y label on the left, the legend on
    the right, the dates below and `top` above."""
    figure = Figure(figsize=(WIDTH_INCHES, height))  # not pyplot: no figure manager to keep or close, a lighter import
    axes = figure.subplots(rows, columns, squeeze=False, **options)
    right = 1 - 1.9 / WIDTH_INCHES
    figure.subplots_adjust(left=0.85 / WIDTH_INCHES, right=right, bottom=0.45 / height, top=1 - top / height,
                           hspace=0.45 if rows > 1 else None)  # fmt: skip
    return figure, [a for row in axes for a in row]


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _date_axis(axes, data: dict) -> None:
    """Dates on the x axis, spanning the whole period (every chart the same span, an empty end shown as such)."""
    period = data["period"]
    axes.set_xlim(_day(period["first"]), _day(period["last"]) + timedelta(days=1))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _legend_right(axes) -> None:
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)


def _stacked_bars(axes, xs: list, series: dict[str, list[int]], colours: dict, width: float, **options) -> list[int]:
    """One bar per x and series, stacked in the series' order; a series of zeros draws nothing (and no legend
    entry). Returns the stacks' heights."""
    bottom = [0] * len(xs)
    for name, heights in series.items():
        if any(heights):
            axes.bar(xs, heights, width, bottom=bottom, color=colours[name], label=name, linewidth=0, **options)
            bottom = [a + b for a, b in zip(bottom, heights)]
    return bottom


def _site_colours(sites: list[str]) -> dict[str, tuple]:
    palette = matplotlib.colormaps["tab20" if len(sites) > 10 else "tab10"]
    return {site: palette(n % palette.N) for n, site in enumerate(sites)}


def stored_chart(data: dict) -> str:
    """Articles first stored per site per day (or week), stacked; a day with none is a gap."""
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _figure(3.2)
        buckets = data["stored"]
        starts = [_day(b["start"]) for b in buckets]
        width = 0.8 if data["period"]["by"] == "day" else 5.6
        series = {site: [b["sites"].get(site, 0) for b in buckets] for site in data["sites"]}
        bottom = _stacked_bars(axes, starts, series, _site_colours(data["sites"]), width, align="edge")
        axes.set_ylabel(f"articles stored per {data['period']['by']}")
        _date_axis(axes, data)
        if any(bottom):
            _legend_right(axes)
        else:
            axes.text(0.5, 0.5, "no articles stored in this period", transform=axes.transAxes, ha="center")
        return _svg(figure, "articles stored per site")


def _run_groups(runs: list[dict], by: str) -> tuple[list, list[list[dict]], str]:
    """(x positions, runs at each, what a bar is): one run each when few, else per day or week of their start."""
    if len(runs) <= RUN_BARS_UP_TO:
        # China time as shown (the record's offset), naive: matplotlib would draw aware times in UTC
        return [datetime.fromisoformat(r["started_at"]).replace(tzinfo=None) for r in runs], [[r] for r in runs], "run"
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


def runs_chart(data: dict) -> str:
    """Per run (or per day/week of runs): pages by outcome, failures by reason; below, duration and marks for
    banned runs and runs that exited with an error."""
    runs = data["runs"]
    with matplotlib.rc_context(STYLE):
        figure, (pages, timing) = _figure(4.6, 2, 1, sharex=True, height_ratios=(3, 1.4))
        if not runs:
            pages.text(0.5, 0.5, "no crawl runs in this period", transform=pages.transAxes, ha="center")
            timing.set_axis_off()
            return _svg(figure, "crawl runs")
        xs, groups, unit = _run_groups(runs, data["period"]["by"])
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
        if unit == "run":
            span = (xs[-1] - xs[0]).total_seconds() / 86400 if len(xs) > 1 else 1.0
            width = max(span / max(len(xs), 1) * 0.7, 1 / 1440)
        else:
            width = 0.8 if unit == "day" else 5.6
        _stacked_bars(pages, xs, series, colours, width)
        pages.set_ylabel("pages per run" if unit == "run" else f"pages per {unit}")
        _legend_right(pages)
        seconds = [max((r["seconds"] or 0) for r in group) for group in groups]
        timing.plot(xs, seconds, color="#555555", linewidth=1, marker="." if unit == "run" else None, label="duration")
        timing.set_ylabel("seconds" if unit == "run" else f"longest run\nof the {unit} (s)")
        top = max(seconds + [1])
        banned = [(x, top) for x, group in zip(xs, groups) if any(r["banned"] for r in group)]
        failed = [(x, top) for x, group in zip(xs, groups) if any(r["exit_status"] not in (0, 3) for r in group)]
        if banned:
            timing.scatter(*zip(*banned), marker="v", s=40, color="#d62728", label="banned", zorder=3, gid="banned-runs")
        if failed:
            timing.scatter(*zip(*failed), marker="x", s=30, color="#ff7f0e", label="exit ≠ 0", zorder=3, gid="failed-runs")
        _legend_right(timing)
        timing.set_ylim(0, top * 1.25)
        _date_axis(timing, data)
        return _svg(figure, "crawl runs")


def thresholds_of(runs: list[dict]) -> dict[str, float]:
    """The coverage thresholds of the newest run that recorded them, else the crawler's defaults."""
    for run in reversed(runs):
        if run["thresholds"]:
            return {k: float(v) for k, v in run["thresholds"].items() if k in COVERAGE_FIELDS}
    return dict(DEFAULT_COVERAGE_THRESHOLDS)


def coverage_chart(data: dict) -> str:
    """One panel per field (title, body, time, source): each site's share of its runs' articles with the field,
    the field's threshold dashed, a share under it circled. Past RUN_BARS_UP_TO runs, each day's (week's) lowest."""
    runs = [run for run in data["runs"] if run["coverage"]]
    sites = sorted({site for run in runs for site in run["coverage"]})
    thresholds = thresholds_of(data["runs"])
    colours = _site_colours(sites)
    with matplotlib.rc_context(STYLE):
        figure, panels = _figure(5.2, 2, 2, sharex=True, sharey=True)
        below_marks = 0
        lines = {}
        for site in sites:  # each site's groups and records once, for every field
            site_runs = [run for run in runs if site in run["coverage"]]
            xs, groups, _unit = _run_groups(site_runs, data["period"]["by"])
            lines[site] = (xs, [[r["coverage"][site] for r in group] for group in groups])
        for axes, field in zip(panels, COVERAGE_FIELDS):
            for site in sites:
                xs, records = lines[site]
                shares = [min(float(record.get(field, 1.0)) for record in group) for group in records]
                axes.plot(xs, shares, color=colours[site], linewidth=1.2, label=site,
                          marker="." if len(xs) <= MARKERS_UP_TO else None, markersize=3)  # fmt: skip
                below = [(x, share) for x, share in zip(xs, shares) if field in thresholds and share < thresholds[field]]
                if below:
                    below_marks += len(below)
                    axes.scatter(*zip(*below), s=36, facecolors="none", edgecolors="#d62728", linewidths=1.5, zorder=3)
            if field in thresholds:
                axes.axhline(thresholds[field], color="#d62728", linestyle="--", linewidth=0.8, gid=f"threshold-{field}")
            axes.set_title(field + (f" (threshold {thresholds[field]:.0%})" if field in thresholds else ""), loc="left", fontsize=9)
            axes.label_outer()  # dates under the bottom row only, shares left of the first column
            axes.set_ylim(-0.05, 1.08)
            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            _date_axis(axes, data)
        if not sites:
            panels[0].text(0.5, 0.5, "no run recorded field coverage in this period", transform=panels[0].transAxes, ha="center")
        if below_marks:  # a legend entry, and an id naming the shortfalls for readers of the SVG
            panels[0].scatter([], [], gid="coverage-below", label=f"under its threshold ({below_marks})", s=36,
                              facecolors="none", edgecolors="#d62728")  # fmt: skip
        if sites:
            handles, labels = panels[0].get_legend_handles_labels()
            figure.legend(handles, labels, loc="upper left", bbox_to_anchor=(1 - 1.85 / WIDTH_INCHES, 0.95), frameon=False,
                          fontsize=8)  # fmt: skip
        return _svg(figure, "field coverage per site")


def duplicates_chart(data: dict) -> str:
    """Per site and week, the share of the articles stored that are linked to an earlier one as duplicates."""
    weeks = data["duplicates"]
    first = _day(data["period"]["first"])
    xs = [max(_day(w["week"]), first) for w in weeks]  # the first week may begin before the period
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _figure(2.8)
        drawn = False
        for site, colour in _site_colours(data["sites"]).items():
            shares = [
                (w["sites"][site]["duplicates"] / w["sites"][site]["articles"]) if w["sites"].get(site, {}).get("articles") else None
                for w in weeks
            ]
            points = [(x, s) for x, s in zip(xs, shares) if s is not None]
            if points:
                axes.plot(*zip(*points), color=colour, marker=".", linewidth=1.2, label=site)
                drawn = True
        axes.set_ylabel("duplicates per week")
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_ylim(bottom=0)
        _date_axis(axes, data)
        if drawn:
            _legend_right(axes)
        else:
            axes.text(0.5, 0.5, "no articles stored in this period", transform=axes.transAxes, ha="center")
        return _svg(figure, "duplicates per site and week")
