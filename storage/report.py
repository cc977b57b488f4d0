"""The crawl health report: one self-contained HTML file (`python -m storage report`, CAIXUN_REPORT).

The page holds its charts as inline SVG (storage.charts), its styles inline and no scripts: it needs no
network to be viewed. It reads as a phone page too: charts scale to the width, but no narrower than their
labels stay legible (then they scroll sideways in their own box, as tables do, showing the newest days
first: the box is right-to-left); their legends are HTML lists below them, which wrap. A panel with nothing
to show says so in a sentence (<p class="none">None: …</p>) instead of an empty chart or table. Chinese needs a CJK font on the viewer's machine (the page and the charts
name the common ones; without any, Chinese shows as boxes). At the top, the alarms an operator acts on: bans,
field coverage under a threshold, runs that exited with an error, sites that stopped yielding articles. The
data is storage.health's; this module only lays it out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path

from sqlalchemy import Engine

from storage import charts
from storage.export import atomic_output
from storage.health import LAST_RUN_LINES, health
from storage.query import DISPLAY_TZ

LAST_RUNS_SHOWN = LAST_RUN_LINES
ALARMS_SHOWN = 12  # lines per kind of alarm; the rest are counted
QUIET_DAYS = 2  # a site that stored nothing in its last this many days of the period is named
COVERAGE_MIN_ARTICLES = 10  # a run's share under a threshold is an alarm from this many articles (or when it failed)

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Zen Hei",
"Microsoft YaHei","PingFang SC","Hiragino Sans GB",sans-serif;
margin:0 auto;max-width:70rem;padding:0.5rem 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem;margin:0.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 0.5rem;border-bottom:1px solid #ddd}
figure{margin:0.5rem 0 1rem}.plot{overflow-x:auto;direction:rtl}
.plot svg{direction:ltr;width:100%;min-width:36rem;max-width:62rem;height:auto;display:block}
ul.legend{list-style:none;margin:0.25rem 0;padding:0;display:flex;flex-wrap:wrap;gap:0.1rem 1.1rem;font-size:0.85rem}
ul.legend li{display:flex;align-items:center;gap:0.35rem;min-width:0;overflow-wrap:anywhere}
.key{flex:none;display:inline-block;width:0.8rem;height:0.8rem}.key.line,.key.dashed{height:0;border-top:2px solid}
.key.dashed{border-top-style:dashed}.key.ring{width:0.5rem;height:0.5rem;border:2px solid;border-radius:50%}
.key.mark{width:auto;height:auto;font-weight:bold;line-height:1}
figcaption{font-size:0.85rem;color:#555}p.none{color:#555}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:0.85rem}
th,td{padding:0.2rem 0.5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.alarm{color:#b00}.ok{color:#070}pre{white-space:pre-wrap;margin:0;font-size:0.8rem}
.columns{display:flex;flex-wrap:wrap;gap:2rem}
"""


def _run_time(run: dict) -> str:
    return run["started_at"][:16].replace("T", " ")


def alarms(data: dict) -> dict[str, list[str]]:
    """{kind: lines} of what needs the operator: banned runs, coverage under a threshold, runs that exited
    with an error, sites that stopped storing articles. Newest first."""
    runs = data["runs"]
    newest_thresholds = charts.thresholds_of(runs)
    found: dict[str, list[str]] = {"banned": [], "coverage": [], "failed": [], "quiet": []}
    for run in reversed(runs):
        when = f"run {run['id']} ({run['spider']}, {_run_time(run)})"
        if run["banned"]:
            sites = ", ".join(f"{site or 'a site'}: {reason}" for site, reason in sorted(run["banned"].items()))
            found["banned"].append(f"{when} was banned ({sites})")
        thresholds = charts.thresholds_of([run]) if run["thresholds"] else newest_thresholds  # what it was judged by
        for site, shares in sorted(run["coverage"].items()):
            articles = int(shares.get("articles") or 0)
            if articles < COVERAGE_MIN_ARTICLES and run["exit_status"] != 4:
                continue
            low = [f"{field} {float(shares[field]):.0%} < {limit:.0%}" for field, limit in thresholds.items()
                   if field in shares and float(shares[field]) < limit]  # fmt: skip
            if low:
                found["coverage"].append(f"{when} on {site}, {articles} articles: {', '.join(low)}")
        if run["exit_status"] not in (0, 3):
            status = "did not record its end" if run["exit_status"] is None else f"exited {run['exit_status']}"
            found["failed"].append(f"{when} {status} ({run['finish_reason'] or 'no finish reason'})")
    last = date.fromisoformat(data["period"]["last"])
    for site, day in data["last_stored"].items():
        if date.fromisoformat(day) < last - timedelta(days=QUIET_DAYS - 1):
            found["quiet"].append(f"{site} stored nothing after {day}")
    return found


def _alarms_html(found: dict[str, list[str]]) -> str:
    titles = {
        "banned": "Banned runs", "coverage": "Field coverage under a threshold (a template change?)",
        "failed": "Runs that exited with an error", "quiet": "Sites that stopped storing articles",
    }  # fmt: skip
    parts = []
    for kind, lines in found.items():
        if not lines:
            continue
        items = "".join(f"<li>{escape(line)}</li>" for line in lines[:ALARMS_SHOWN])
        more = f"<li>… and {len(lines) - ALARMS_SHOWN} more</li>" if len(lines) > ALARMS_SHOWN else ""
        parts.append(f'<h3 class="alarm">{titles[kind]}: {len(lines)}</h3><ul id="alarms-{kind}">{items}{more}</ul>')
    if not parts:
        return '<p class="ok" id="alarms-none">No bans, coverage drops, failed runs or quiet sites in this period.</p>'
    return "".join(parts)


def _none(name: str, sentence: str) -> str:
    """What a panel with nothing to show says instead."""
    return f'<p class="none" id="none-{name}">None: {escape(sentence)}</p>'


def _legend(keys: list[charts.Key]) -> str:
    items = []
    for key in keys:
        ident = f' id="{escape(key.ident)}"' if key.ident else ""
        if key.kind == "bar":
            swatch = f'<span class="key" style="background:{key.colour}"></span>'
        elif key.kind in ("line", "dashed", "ring"):
            swatch = f'<span class="key {key.kind}" style="border-color:{key.colour}"></span>'
        else:  # a mark drawn as a character
            swatch = f'<span class="key mark" style="color:{key.colour}">{escape(key.kind)}</span>'
        items.append(f"<li{ident}>{swatch}<span>{escape(key.label)}</span></li>")
    return f'<ul class="legend">{"".join(items)}</ul>' if items else ""


def _figure(name: str, chart: charts.Chart | None, caption: str, none: str) -> str:
    """The chart, its legend and caption; the `none` sentence when there is no chart."""
    if chart is None:
        return _none(name, none)
    return (f'<figure class="chart" id="chart-{name}"><div class="plot">{chart.svg}</div>{_legend(chart.legend)}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")  # fmt: skip


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), table_id: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    ident = f' id="{table_id}"' if table_id else ""
    return f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _runs_table(runs: list[dict]) -> str:
    rows = []
    for run in reversed(runs[-LAST_RUNS_SHOWN:]):
        status = "-" if run["exit_status"] is None else str(run["exit_status"])
        if run["banned"]:
            status += " banned"
        seconds = "-" if run["seconds"] is None else f"{run['seconds']:.0f} s"
        *sites, total = run["summary"] or ["-"]
        summary = f"<pre>{escape(total)}</pre>"
        if sites:  # one line per site: folded, the run's line says enough at a glance
            summary += f"<details><summary>{len(sites)} sites</summary><pre>{escape(chr(10).join(sites))}</pre></details>"
        rows.append([str(run["id"]), escape(run["spider"]), escape(_run_time(run)), seconds,
                     f'<span class="{"alarm" if status != "0" else "ok"}">{escape(status)}</span>', summary])  # fmt: skip
    if not rows:
        return _none("last-runs", "no crawl runs in this period.")
    return _table(["run", "spider", "started (China time)", "took", "exit", "summary"], rows, {0, 3}, "last-runs")


def _newest_html(newest: dict[str, list[dict]]) -> str:
    if not newest:
        return _none("newest", "no articles published up to the end of this period.")
    parts = []
    for site, records in newest.items():
        items = "".join(
            f'<li><a href="{escape(r["url"])}" rel="noreferrer">{escape(r["title"] or r["url"])}</a> '
            f'<small>{escape((r["published_at"] or "")[:16].replace("T", " "))} {escape(r["source"] or "")}</small></li>'
            for r in records
        )
        parts.append(f"<h3>{escape(site)}</h3><ul>{items}</ul>")
    return '<div id="newest">' + "".join(parts) + "</div>"


def render(data: dict, *, generated: datetime | None = None, store: str = "") -> str:
    """The report page for storage.health's data."""
    generated = generated or datetime.now(DISPLAY_TZ)
    period = data["period"]
    scope = f" · site {period['site']}" if period["site"] else ""
    runs = data["runs"]
    by = period["by"]
    banned_runs = sum(1 for run in runs if run["banned"])
    facts = (
        f"{period['first']} to {period['last']} (China time){scope} · {data['articles']:,} articles stored · "
        f"{len(runs):,} crawl runs, {banned_runs:,} banned"
    )
    sources = _none("top-sources", "no article names its source.")
    if data["top_sources"]:
        sources = _table(["source (来源)", "articles"], [[escape(r["source"]), f"{r['articles']:,}"] for r in data["top_sources"]],
                         {1}, "top-sources")  # fmt: skip
    symbols = _none("top-symbols", "no article is marked up with a symbol.")
    if data["top_symbols"]:
        symbols = _table(["symbol", "articles"], [[escape(r["symbol"]), f"{r['articles']:,}"] for r in data["top_symbols"]],
                         {1}, "top-symbols")  # fmt: skip
    unit = charts.run_unit(data)
    per_run = "one bar per run" if unit == "run" else f"runs added up per {unit}"
    coverage_note = "per run" if len(runs) <= charts.RUN_BARS_UP_TO else f"the lowest of each {by}'s runs"
    no_runs = "no crawl runs in this period."
    no_articles = "no articles stored in this period."
    body = [
        "<header><h1>caixun crawl health</h1>",
        f'<p id="facts">{escape(facts)}</p>',
        f"<p><small>{escape(store + ' · ' if store else '')}generated {generated.isoformat(timespec='seconds')}</small></p></header>",
        '<section id="alarms"><h2>Alarms</h2>' + _alarms_html(alarms(data)) + "</section>",
        "<h2>Articles stored</h2>",
        _figure("stored", charts.stored_chart(data),
                f"Articles first stored per site and {by} (by when they were stored, not published); a gap is a "
                f"{by} with none; shaded: before the period.", no_articles),
        "<h2>Crawl runs</h2>",
        _figure("runs", charts.runs_chart(data),
                f"Pages by outcome ({per_run}) and, below, how long runs took.", no_runs),
        "<h2>Field coverage</h2>",
        _figure("coverage", charts.coverage_chart(data),
                f"Share of the articles with each field ({coverage_note}), a line per site; a run with a share under "
                "the threshold fails (exit 4).",
                "no run in this period recorded field coverage." if runs else no_runs),
        "<h2>Duplicates</h2>",
        _figure("duplicates", charts.duplicates_chart(data),
                "Share of the articles stored each week that are linked to an earlier article as duplicates.",
                "no article stored in this period duplicates an earlier one." if data["articles"] else no_articles),
        "<h2>Last runs</h2>",
        _runs_table(runs),
        '<div class="columns"><section><h2>Top sources</h2><p><small>of the articles stored in the period</small></p>',
        sources,
        "</section><section><h2>Top symbols</h2><p><small>of the articles published in the period</small></p>",
        symbols,
        "</section></div>",
        "<h2>Newest articles</h2>",
        _newest_html(data["newest"]),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>caixun crawl health {escape(period['first'])} – {escape(period['last'])}</title>"
        f"<style>{STYLE}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )


def write_report(
    engine: Engine,
    out: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    site: str | None = None,
    store: str = "",
) -> dict:
    """The report of the period, written to `out` atomically (a hidden part file renamed over it when complete,
    so a web server serving `out` never sends half a page). Returns storage.health's data."""
    data = health(engine, since=since, until=until, site=site)
    page = render(data, store=store)
    with atomic_output(Path(out), text=True, what="the report") as text:
        text.write(page)
    return data
