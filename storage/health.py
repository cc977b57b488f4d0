"""The crawl health report's data: what was stored, how the runs went, field coverage, duplicates.

``health(engine, since=, until=, site=)`` returns plain dicts for one period of China-time days:

- stored: articles first stored per site, per day (per week past BY_DAY_UP_TO days), empty ones included;
  last_stored: per site, the last day it stored an article on;
- duplicates: per site and week, the articles stored and those linked to an earlier one (duplicate_of);
- runs: every crawl run started in the period, oldest first, as storage.runs reads its record;
- top_sources, top_symbols: the most common sources (来源) of the articles stored in the period, and the
  symbols most often marked up in the articles published in it;
- newest: per site, the newest articles published up to the period's last day (crawls store old ones too).

A site is a site rule (extractors.registry) or "generic": the pages no rule handles. Runs recorded such pages
under their host names (caixun/site/www.xinhuanet.com/…); their counts and coverage are added up as
"generic" here (site_name), so that a chart draws one series for them, not one per host. Bans keep the host.

Articles are counted by when they were first stored (first_seen_at), which is what a crawl's health shows:
a site that stops yielding stops adding articles, whatever their publication dates. The counts read the
index ix_articles_first_seen_at alone (revision 0011), runs the crawl_runs table; at a million articles and
a year of hourly runs that takes a few seconds (benchmarks/health.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, Engine, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from extractors.article import GENERIC_SITE
from storage.models import ArticleSymbol, CrawlRun, StoredArticle
from storage.query import DISPLAY_TZ, MAX_STATS_DAYS, check_day, query
from storage.runs import (
    banned_sites,
    failure_reasons,
    outcome_counts,
    site_coverage,
    summary_lines,
    summary_sites,
)
from storage.scope import day_keys, midnight

DEFAULT_DAYS = 365  # the period when no --since is given, cut to the store's first day
BY_DAY_UP_TO = 120  # days; a longer period counts stored articles per week
TOP = 15  # rows of the top sources and symbols
NEWEST = 5  # newest articles per site
LAST_RUN_LINES = 30  # runs whose summary lines are given (the newest)
SITE_PREFIX = "caixun/site/"


def site_name(name: str) -> str:
    """The site a recorded name is counted under: a site rule's name as it is, anything else "generic" (runs
    recorded the pages no rule handles under their host names, "www.xinhuanet.com")."""
    from extractors.registry import reported_site  # imports every site rule: when a report reads runs

    return reported_site(name)


def _added(a, b):
    number = (int, float)
    if isinstance(a, number) and isinstance(b, number) and not isinstance(a, bool) and not isinstance(b, bool):
        return a + b
    return a


def fold_stats(stats: Mapping) -> Mapping:
    """The run's stats with the per-site counts of names that are no site rule (caixun/site/<host>/…) added up
    under caixun/site/generic/…; the stats themselves when every site is a rule."""
    hosts = {}
    for key in stats:
        if key.startswith(SITE_PREFIX):
            name, _, rest = key[len(SITE_PREFIX):].partition("/")
            if site_name(name) != name:
                hosts[key] = f"{SITE_PREFIX}{GENERIC_SITE}/{rest}"
    if not hosts:
        return stats
    folded = {key: value for key, value in stats.items() if key not in hosts}
    for key, generic in sorted(hosts.items()):
        folded[generic] = _added(folded[generic], stats[key]) if generic in folded else stats[key]
    return folded


def fold_coverage(by_site: Mapping[str, Mapping], spider: str) -> dict[str, dict]:
    """{site: coverage record} with the records of names that are no site rule merged into one "generic" record:
    articles added up, each field's share weighted by articles. A record named for the spider (an old record of a
    run of several sites, storage.runs.site_coverage) keeps its name."""
    merged: dict[str, list[tuple[str, Mapping]]] = {}
    for name, record in by_site.items():
        merged.setdefault(name if name == spider else site_name(name), []).append((name, record))
    folded = {}
    for site, records in merged.items():
        if len(records) == 1:
            folded[site] = dict(records[0][1])
            continue
        articles = {name: float(record.get("articles") or 0) for name, record in records}
        record: dict = {"articles": int(sum(articles.values()))}
        fields = sorted({key for _, r in records for key, value in r.items()
                         if key != "articles" and isinstance(value, (int, float))})  # fmt: skip
        for field in fields:
            weighted = [(float(r[field]), articles[name]) for name, r in records if isinstance(r.get(field), (int, float))]
            total = sum(weight for _, weight in weighted)
            shares = [share for share, _ in weighted]
            record[field] = sum(share * weight for share, weight in weighted) / total if total else min(shares)
        folded[site] = record
    return folded


def _china_time(value: datetime | None) -> str | None:
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


def week_start(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


def _first_day(session: Session) -> date | None:
    """The China-time day of the first crawl run or stored article, or None for an empty store (each from an index)."""
    times = [
        session.scalar(select(func.min(CrawlRun.started_at))),
        session.scalar(select(func.min(StoredArticle.first_seen_at))),
    ]
    found = [value.astimezone(DISPLAY_TZ).date() for value in times if value is not None]
    return min(found) if found else None


def period(session: Session, since: date | None, until: date | None) -> tuple[date, date]:
    """since … until (inclusive), defaulting to the DEFAULT_DAYS days to today, cut to the store's first day."""
    last = check_day(until or datetime.now(DISPLAY_TZ).date(), "until")
    if since is None:
        store_first = _first_day(session)  # an empty store: today alone
        first = min(max(last - timedelta(days=DEFAULT_DAYS - 1), store_first or last), last)
    else:
        first = check_day(since, "since")
    if first > last:
        raise ValueError(f"since {first} is after until {last}")
    if (last - first).days + 1 > MAX_STATS_DAYS:
        raise ValueError(f"the period has {(last - first).days + 1} days: at most {MAX_STATS_DAYS} (ten years)")
    return first, last


def _site_within(site: str) -> ColumnElement[bool]:
    """articles.site = site as an expression no index serves: SQLite, without statistics, would otherwise read the
    site's index and every row of the site from the table, bodies and all, instead of ix_articles_first_seen_at."""
    return (StoredArticle.site + "") == site


def _stored_per_day(session: Session, first: date, last: date, site: str | None) -> dict[tuple[str, str], tuple[int, int]]:
    """{(day, site): (articles, duplicates)} of the articles first stored in the period."""
    seen = StoredArticle.first_seen_at
    counts = [StoredArticle.site, func.count(), func.count(StoredArticle.duplicate_of)]
    within = [_site_within(site)] if site else []
    if session.get_bind().dialect.name == "postgresql":  # one statement; the day computed by the server, as a date
        day = cast(func.timezone("UTC", seen) + timedelta(hours=8), Date).label("day")
        statement = (
            select(day, *counts)
            .where(seen >= midnight(first), seen < midnight(last + timedelta(days=1)), *within)
            .group_by(day, StoredArticle.site)
        )
        return {(str(d), s): (n, duplicates) for d, s, n, duplicates in session.execute(statement)}
    # SQLite: a statement per day. Grouping a year at once by a computed day sorted every row in a temporary
    # B-tree; a day's rows group by site in a small one, three times faster at a million articles.
    start, end = bindparam("start", type_=seen.type), bindparam("end", type_=seen.type)
    statement = select(*counts).where(seen >= start, seen < end, *within).group_by(StoredArticle.site)
    found = {}
    day = first
    while day <= last:
        rows = session.execute(statement, {"start": midnight(day), "end": midnight(day + timedelta(days=1))})
        found.update({(day.isoformat(), s): (n, duplicates) for s, n, duplicates in rows})
        day += timedelta(days=1)
    return found


def _buckets(first: date, last: date, by: str) -> list[date]:
    start = first if by == "day" else week_start(first)
    step = timedelta(days=1 if by == "day" else 7)
    found = []
    while start <= last:
        found.append(start)
        start += step
    return found


def _stored(counts: Mapping[tuple[str, str], tuple[int, int]], first: date, last: date, by: str) -> list[dict]:
    """[{"start": day, "sites": {site: articles}}] for every bucket, oldest first (an empty bucket: {})."""
    buckets = {start: {} for start in _buckets(first, last, by)}
    for (day_text, site), (articles, _) in counts.items():
        day = date.fromisoformat(day_text)
        sites = buckets[day if by == "day" else week_start(day)]
        sites[site] = sites.get(site, 0) + articles
    return [{"start": start.isoformat(), "sites": dict(sorted(sites.items()))} for start, sites in buckets.items()]


def _last_stored(counts: Mapping[tuple[str, str], tuple[int, int]]) -> dict[str, str]:
    """{site: the last day of the period it stored an article on}."""
    last: dict[str, str] = {}
    for (day_text, site), (articles, _) in counts.items():
        if articles and day_text > last.get(site, ""):
            last[site] = day_text
    return dict(sorted(last.items()))


def _duplicates(counts: Mapping[tuple[str, str], tuple[int, int]], first: date, last: date) -> list[dict]:
    """[{"week": Monday, "sites": {site: {"articles": n, "duplicates": d}}}] for every week, oldest first."""
    weeks: dict[date, dict[str, dict[str, int]]] = {start: {} for start in _buckets(first, last, "week")}
    for (day_text, site), (articles, duplicates) in counts.items():
        entry = weeks[week_start(date.fromisoformat(day_text))].setdefault(site, {"articles": 0, "duplicates": 0})
        entry["articles"] += articles
        entry["duplicates"] += duplicates
    return [{"week": week.isoformat(), "sites": dict(sorted(sites.items()))} for week, sites in weeks.items()]


# Not arguments: a year of runs is read. stats and coverage come as text, parsed here: psycopg's own parsing of
# a year of runs' JSON took twice as long (1.1 s for 9,000 runs of ten sites).
RUN_COLUMNS = (CrawlRun.id, CrawlRun.spider, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.finish_reason,
               CrawlRun.exit_status, cast(CrawlRun.stats, Text).label("stats"),
               cast(CrawlRun.coverage, Text).label("coverage"))  # fmt: skip


def _json_object(value) -> Mapping:
    """A stored JSON object, parsed if it comes as text; {} for anything else (null, a list, bad text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


def run_record(run, site: str | None = None, *, lines: bool = True) -> dict:
    """One crawl run (a CrawlRun, or a row of RUN_COLUMNS) as the report shows it; with `site`, that site's
    counts and coverage only."""
    stats, coverage = fold_stats(_json_object(run.stats)), _json_object(run.coverage)
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    by_site = fold_coverage(site_coverage(coverage, stats, run.spider), run.spider)
    banned = banned_sites(stats)  # a host's ban keeps its host name: the alarm names it
    if run.exit_status == 3 and not banned:
        banned = {"": run.finish_reason or "banned"}
    if site:
        by_site = {name: value for name, value in by_site.items() if name == site}
        banned = {name: reason for name, reason in banned.items() if name == "" or site_name(name) == site}
    return {
        "id": run.id,
        "spider": run.spider,
        "started_at": _china_time(run.started_at),
        "finished_at": _china_time(run.finished_at),
        "seconds": seconds,
        "finish_reason": run.finish_reason,
        "exit_status": run.exit_status,
        "banned": banned,
        "outcomes": outcome_counts(stats, site),
        "failed_by_reason": failure_reasons(stats),
        "coverage": {name: {k: v for k, v in value.items() if k != "missing_samples"} for name, value in by_site.items()},
        "thresholds": dict(coverage.get("thresholds") or {}),
        "summary": summary_lines(run.spider, stats, run.exit_status, seconds) if lines else [],
    }


def _runs(session: Session, first: date, last: date, site: str | None) -> list[dict]:
    rows = session.execute(
        select(*RUN_COLUMNS)
        .where(CrawlRun.started_at >= midnight(first), CrawlRun.started_at < midnight(last + timedelta(days=1)))
        .order_by(CrawlRun.started_at, CrawlRun.id)
    ).all()
    if site:
        rows = [run for run in rows if site in _run_sites(run)]
    newest_lines = len(rows) - LAST_RUN_LINES
    return [run_record(run, site, lines=n >= newest_lines) for n, run in enumerate(rows)]


def _run_sites(run) -> set[str]:
    stats = fold_stats(_json_object(run.stats))
    coverage = fold_coverage(site_coverage(_json_object(run.coverage), stats, run.spider), run.spider)
    return {site_name(name) for name in summary_sites(stats)} | set(coverage)


def _top_sources(session: Session, first: date, last: date, site: str | None) -> list[dict]:
    seen, source = StoredArticle.first_seen_at, StoredArticle.source
    count = func.count().label("articles")
    statement = (
        select(source, count)
        .where(seen >= midnight(first), seen < midnight(last + timedelta(days=1)), source.is_not(None), source != "")
        .group_by(source)
        .order_by(count.desc(), source)
        .limit(TOP)
    )
    if site:
        statement = statement.where(_site_within(site))
    return [{"source": name, "articles": n} for name, n in session.execute(statement)]


def _top_symbols(session: Session, first: date, last: date, site: str | None) -> list[dict]:
    low, high = day_keys(first, last)
    key = ArticleSymbol.order_key
    count = func.count().label("articles")
    statement = (
        select(ArticleSymbol.symbol, count)
        .where(key >= low, key < high)
        .group_by(ArticleSymbol.symbol)
        .order_by(count.desc(), ArticleSymbol.symbol)
        .limit(TOP)
    )
    if site:
        statement = statement.join(StoredArticle, StoredArticle.id == ArticleSymbol.article_id).where(
            StoredArticle.site == site
        )
    return [{"symbol": symbol, "articles": n} for symbol, n in session.execute(statement)]


def _newest(engine: Engine, sites: list[str], last: date) -> dict[str, list[dict]]:
    newest = {}
    for name in sites:
        records = query(engine, site=name, until=last, limit=NEWEST)
        if records:
            newest[name] = [
                {key: record[key] for key in ("title", "url", "published_at", "source")} for record in records
            ]
    return newest


def _read_runs(engine: Engine, first: date, last: date, site: str | None) -> list[dict]:
    with Session(engine) as session:
        return _runs(session, first, last, site)


def _article_counts(engine: Engine, first: date, last: date, site: str | None) -> tuple:
    with Session(engine) as session:
        return (_folded_counts(_stored_per_day(session, first, last, site)), _top_sources(session, first, last, site),
                _top_symbols(session, first, last, site))  # fmt: skip


def _folded_counts(counts: Mapping[tuple[str, str], tuple[int, int]]) -> dict[tuple[str, str], tuple[int, int]]:
    """The per-day counts with the sites that are no site rule counted as "generic" (articles keep "generic"
    already; a store may hold older names)."""
    folded: dict[tuple[str, str], tuple[int, int]] = {}
    for (day, site), (articles, duplicates) in counts.items():
        key = (day, site_name(site))
        before = folded.get(key, (0, 0))
        folded[key] = (before[0] + articles, before[1] + duplicates)
    return folded


def health(engine: Engine, *, since: date | None = None, until: date | None = None, site: str | None = None) -> dict:
    """The report's data for the China-time days since … until (see the module docstring); plain dicts.

    Defaults: until today, since DEFAULT_DAYS days before it or the store's first day, whichever is later.
    ValueError (DateOutOfRange among them) for a period that is reversed, past MAX_STATS_DAYS days or outside
    storage.query's FIRST_DAY … LAST_DAY.
    """
    with Session(engine) as session:
        first, last = period(session, since, until)
    by = "day" if (last - first).days + 1 <= BY_DAY_UP_TO else "week"
    if engine.dialect.name == "postgresql":
        # The server counts the articles while this thread reads and parses the runs. Not on SQLite: its
        # statement timeout is a Python progress handler (storage.timeouts), which would wait for the GIL.
        with ThreadPoolExecutor(max_workers=1) as pool:
            articles = pool.submit(_article_counts, engine, first, last, site)
            runs = _read_runs(engine, first, last, site)
            counts, sources, symbols = articles.result()
    else:
        counts, sources, symbols = _article_counts(engine, first, last, site)
        runs = _read_runs(engine, first, last, site)
    sites = sorted({name for _, name in counts} | {name for run in runs for name in run["coverage"]} - {"-"})
    if site:
        sites = [site]
    return {
        "period": {"first": first.isoformat(), "last": last.isoformat(), "by": by, "site": site},
        "sites": sites,
        "articles": sum(articles for articles, _ in counts.values()),
        "stored": _stored(counts, first, last, by),
        "last_stored": _last_stored(counts),
        "duplicates": _duplicates(counts, first, last),
        "runs": runs,
        "top_sources": sources,
        "top_symbols": symbols,
        "newest": _newest(engine, sites, last),
    }
