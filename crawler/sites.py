"""The crawler's view of the site registry: which site a URL belongs to, which sites can be crawled.

A site is a SiteRule (extractors/sites/); the crawler never names one. A URL no rule
handles belongs to its host name inside the crawl (site_of, request meta caixun_site), so
bans, download slots and run locks stay per host for such pages; what a user reads (the
per-site stats, summary lines and coverage records of a run) names them all `generic`
(reported_site), as the store does (articles.site, extractors.generic), so that
`python -m storage query --site generic` finds what a summary counted under generic.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from extractors import rule_named
from extractors import registry
from extractors.registry import all_rules, rule_for
from extractors.rules import SiteRule

SITE_META = "caixun_site"  # request meta: the site a request belongs to (site_of: a rule's name, else the host)


def reported_site(site: str | None) -> str | None:
    """The name stats and summaries give a crawl's site (site_of): a rule's name as it is, a host `generic`."""
    return registry.reported_site(site) if site else None


def site_of(url: str) -> str:
    """The name of the rule handling `url`, else its host name (lower case), else ""."""
    rule = rule_for(url)
    if rule is not None:
        return rule.name
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def crawlable_sites() -> list[SiteRule]:
    """Every site that declares discovery sources, by name."""
    return [rule for rule in all_rules() if rule.sources]


def sites_named(names: str | None) -> list[SiteRule]:
    """The sites of a comma-separated list (None or "": every crawlable site); ValueError names unknown ones."""
    wanted = [n.strip() for n in (names or "").split(",") if n.strip()]
    if not wanted:
        return crawlable_sites()
    known = {rule.name: rule for rule in crawlable_sites()}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(
            f"no site with discovery sources named {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
        )
    return [known[n] for n in dict.fromkeys(wanted)]


def download_slots(rules: list[SiteRule], given: dict | None = None) -> dict[str, dict]:
    """DOWNLOAD_SLOTS entries for the sites' declared delay and concurrency (slot = site name);
    a slot in `given` (the user's DOWNLOAD_SLOTS) replaces the site's entry."""
    slots = {}
    for rule in rules:
        entry = {}
        if rule.politeness.delay is not None:
            entry["delay"] = rule.politeness.delay
        if rule.politeness.concurrency is not None:
            entry["concurrency"] = rule.politeness.concurrency
        if entry:
            slots[rule.name] = entry
    return {**slots, **(given or {})}


__all__ = ["SITE_META", "crawlable_sites", "download_slots", "reported_site", "rule_named", "site_of", "sites_named"]
