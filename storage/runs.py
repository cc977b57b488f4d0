"""What a crawl run's stored record says: its outcome counts, sites, bans, coverage and summary lines.

A run (storage.models.CrawlRun) keeps the crawl's Scrapy stats as they were at its end. The counts the
crawler writes there (crawler.pipelines, crawler.middlewares.ban) are read here, so that `python -m crawler
run` prints the same summary lines as the health report (storage.health) shows for a stored run:

  caixun/storage/<outcome>                inserted, updated, unchanged, not_modified, not_article, removed, …
  caixun/incremental/skipped              listed pages not fetched again (unchanged since the last run)
  caixun/fetch/failed[/<reason>]          failed fetches and extractions, by reason
  caixun/site/<site>/…                    the same counts for one site
  caixun/ban/sites, caixun/ban/<site>/reason, caixun/ban/detected
"""

from __future__ import annotations

from collections.abc import Mapping

# Field coverage below which a run fails (crawler.coverage; CAIXUN_COVERAGE_THRESHOLDS overrides it per run)
DEFAULT_COVERAGE_THRESHOLDS = {"title": 0.99, "body": 0.99, "published_at": 0.95}
COVERAGE_FIELDS = ("title", "body", "published_at", "source")

# The outcomes of a run's pages, in the order charts stack them: (name, the stats keys summed)
OUTCOMES = (
    ("inserted", ("storage/inserted",)),
    ("updated", ("storage/updated",)),
    ("unchanged", ("storage/unchanged",)),
    ("not fetched again", ("incremental/skipped",)),
    ("not modified", ("storage/not_modified",)),
    ("not an article", ("storage/not_article",)),
    ("removed", ("storage/removed", "storage/gone")),
    ("spooled", ("storage/spooled",)),
)
FAILED_PREFIX = "caixun/fetch/failed/"


def _number(stats: Mapping, key: str) -> int:
    value = stats.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def outcome_counts(stats: Mapping, site: str | None = None) -> dict[str, int]:
    """{outcome: pages} of the run (OUTCOMES' names), or of one of its sites; "failed" is every failed page."""
    prefix = f"caixun/site/{site}/" if site else "caixun/"
    counts = {name: sum(_number(stats, prefix + key) for key in keys) for name, keys in OUTCOMES}
    counts["failed"] = _number(stats, prefix + "fetch/failed")
    return counts


def failure_reasons(stats: Mapping) -> dict[str, int]:
    """{reason: failed pages} of the whole run (the stats keep reasons per run, not per site)."""
    if not _number(stats, "caixun/fetch/failed"):  # most runs: no need to look through every key
        return {}
    found = {key[len(FAILED_PREFIX):]: _number(stats, key) for key in stats if key.startswith(FAILED_PREFIX)}
    return dict(sorted(found.items()))


def banned_sites(stats: Mapping) -> dict[str, str]:
    """{site: reason} of the sites that banned the run; {"": reason} for a ban no site is named for."""
    sites = stats.get("caixun/ban/sites") or []
    found = {site: str(stats.get(f"caixun/ban/{site}/reason") or "banned") for site in sites if isinstance(site, str)}
    if not found and (stats.get("caixun/ban/detected") or stats.get("finish_reason") == "banned"):
        found[""] = str(stats.get("caixun/ban/reason") or "banned")
    return found


def summary_sites(stats: Mapping) -> list[str]:
    """The sites a run's stats count anything for (caixun/site/<site>/…) or banned, sorted."""
    sites = {key.split("/")[2] for key in stats if key.startswith("caixun/site/")}
    return sorted(sites | {site for site in banned_sites(stats) if site})


def site_coverage(coverage: Mapping | None, stats: Mapping, spider: str) -> dict[str, dict]:
    """{site: {"articles": n, field: share}} of a run's coverage record: the record's "sites", or the record
    itself for a run of one site (records before the health report kept "sites" only when there were several)."""
    if not isinstance(coverage, Mapping) or not coverage.get("articles"):
        return {}
    sites = coverage.get("sites")
    if isinstance(sites, Mapping):
        return {site: dict(record) for site, record in sites.items() if isinstance(record, Mapping)}
    named = summary_sites(stats)
    return {named[0] if len(named) == 1 else spider: dict(coverage)}


def _counts_text(stats: Mapping, prefix: str, banned: str) -> str:
    """The outcome counts under `prefix` ("caixun/" or "caixun/site/<site>/") and what was read."""

    def n(key: str) -> int:
        return _number(stats, prefix + key)

    skipped, not_modified = n("incremental/skipped"), n("storage/not_modified")
    lost = n("storage/lost")
    unchanged = n("storage/unchanged") + skipped + not_modified
    parts = [
        f"new {n('storage/inserted')}",
        f"updated {n('storage/updated')}",
        f"unchanged {unchanged} ({skipped} not fetched again, {not_modified} not modified)",
        f"removed {n('storage/removed')}",
        f"not articles {n('storage/not_article')}",
        f"failed {n('fetch/failed')}",
        f"spooled {n('storage/spooled')}" + (f" ({lost} could not be spooled)" if lost else ""),
        f"banned {banned}",
    ]
    lists = [f"{n('roll/pages')} roll-API pages"] if n("roll/pages") else []
    lists += [f"{n('list/pages')} list pages"] if n("list/pages") or not lists else []  # a site a feed named: 0
    return f"{', '.join(parts)}; {n('fetch/article_pages')} article pages fetched, {' and '.join(lists)} read"


def summary_lines(spider: str, stats: Mapping, code: int | None, seconds: float | None) -> list[str]:
    """One line per site when the run crawled several, then the run's line (its totals)."""
    run = stats.get("caixun/crawl_run_id")
    head = f"{spider} run {run if run is not None else '-'}"
    banned_by = {site: reason for site, reason in banned_sites(stats).items() if site}
    lines = []
    sites = summary_sites(stats)
    if len(sites) > 1:
        for site in sites:
            banned = f"yes ({banned_by[site]})" if site in banned_by else "no"
            lines.append(f"{head} site {site}: {_counts_text(stats, f'caixun/site/{site}/', banned)}")
    if banned_by:
        banned = f"yes ({', '.join(sorted(banned_by))})"
    else:
        banned = "yes" if stats.get("finish_reason") == "banned" else "no"
    counts = _counts_text(stats, "caixun/", banned)
    malformed = sum(_number(stats, k) for k in ("caixun/discover/skipped/bad_item", "caixun/discover/bad_time",
                                                 "caixun/discover/capped"))  # fmt: skip
    if malformed:  # the details are in the warning lines and the stats
        counts += f" ({malformed} malformed or excess list entries)"
    failure = stats.get("caixun/run_failed")
    took = f"{seconds:.1f} s" if seconds is not None else "? s"
    ended = f"exit {code}" if code is not None else "exit unknown"
    lines.append(f"{head}: {counts}; {took}; {ended}" + (f" ({failure})" if failure else ""))
    return lines
