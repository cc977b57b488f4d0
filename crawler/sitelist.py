"""`python -m crawler sites`: every site the registry knows, its sources, its rule and its recorded pages.

One row per site rule (extractors/sites/), then one for `generic`: pages no rule handles, extracted
by the generic path and stored (and counted in run summaries) under that name. Columns:

  site      the name `-a sites=`, `query --site` and the summaries use
  rule      how many templates (layouts) the rule has, or "generic path" for a rule without any
            (its pages are read by the generic extractor, stored under the site's name)
  sources   how the site lists its articles (extractors/sources.py): the kind and its key or URL;
            "-" for a site that is not crawled by itself (its pages come through feeds or URLs)
  recorded  the recorded pages of tests/fixtures/ (the test corpus) by the site they belong to,
            rule_for(the page's URL), not the fixture folder (163/ holds netease's pages): how
            many article pages, the years they were published, and recorded list answers.
            An installation without tests/fixtures/ says so.

--format json gives the same as a list of objects.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from extractors.article import GENERIC_SITE
from extractors.registry import all_rules, rule_for
from extractors.rules import SiteRule
from extractors.sources import Feed, HtmlList, JsonList, RollApi, Sitemap, Source

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
NOT_INSTALLED = "recorded pages: not in this installation"
SOURCE_KINDS = {RollApi: "roll API", JsonList: "JSON list", Feed: "feed", Sitemap: "sitemap", HtmlList: "HTML list"}


@dataclass
class Recorded:
    """The recorded pages of one site."""

    articles: int = 0
    years: Counter = field(default_factory=Counter)  # year published → article pages ("undated": none shown)
    lists: int = 0  # recorded list answers (kind list_source, list, index)

    def text(self) -> str:
        if not self.articles and not self.lists:
            return "none"
        parts = []
        if self.articles:
            years = ", ".join(f"{year} ({n})" if n > 1 else year for year, n in sorted(self.years.items()))
            parts.append(f"{self.articles} article page{'s' if self.articles != 1 else ''}: {years}")
        if self.lists:
            parts.append(f"{self.lists} list answer{'s' if self.lists != 1 else ''}")
        return "; ".join(parts)

    def as_json(self) -> dict:
        return {"articles": self.articles, "years": dict(sorted(self.years.items())), "lists": self.lists}


def recorded_pages(root: Path = FIXTURES) -> dict[str, Recorded] | None:
    """{site: its recorded pages} from the fixture sidecars (<folder>/<stem>.json); None without the folder."""
    if not root.is_dir():
        return None
    found: dict[str, Recorded] = defaultdict(Recorded)
    for sidecar in sorted(root.glob("*/*.json")):
        try:
            meta = json.loads(sidecar.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        url = meta.get("url") if isinstance(meta, dict) else None
        if not isinstance(url, str) or not url:
            continue
        rule = rule_for(url)
        recorded = found[rule.name if rule else GENERIC_SITE]
        if meta.get("kind") == "article":
            recorded.articles += 1
            published = (meta.get("expected") or {}).get("published_at")
            recorded.years[published[:4] if isinstance(published, str) and published[:4].isdigit() else "undated"] += 1
        else:
            recorded.lists += 1
    return dict(found)


def source_text(source: Source) -> str:
    kind = SOURCE_KINDS.get(type(source), type(source).__name__)
    if isinstance(source, RollApi):
        channels = ", ".join(f"{pageid}:{lid}" for pageid, lid in source.channels)
        return f"{kind} {source.key} (channels {channels})"
    if isinstance(source, JsonList):
        return f"{kind} {source.key} ({urlsplit(source.first_url or source.url).hostname})"
    return f"{kind} {source.key}"


def rule_text(rule: SiteRule | None) -> str:
    if rule is None:
        return "none: generic path"
    if not rule.layouts:
        return "generic path"
    return f"{len(rule.layouts)} template{'s' if len(rule.layouts) != 1 else ''}"


def site_rows(recorded: dict[str, Recorded] | None) -> list[dict]:
    """One dict per site (every rule, then generic): name, rule, domains, sources, recorded."""
    rows = []
    for rule in [*all_rules(), None]:
        name = rule.name if rule else GENERIC_SITE
        rows.append({
            "site": name,
            "rule": rule_text(rule),
            "domains": list(rule.domains) if rule else [],
            "sources": [source_text(s) for s in rule.sources] if rule else [],
            "recorded": None if recorded is None else recorded.get(name, Recorded()),
        })  # fmt: skip
    return rows


def table(rows: list[dict], recorded_here: bool, width: int = 60) -> str:
    heads = ("site", "rule", "sources", "recorded pages" if recorded_here else "")
    cells = []
    for row in rows:
        sources = [line for s in row["sources"] for line in textwrap.wrap(s, width, subsequent_indent="  ")] or ["-"]
        recorded = textwrap.wrap(row["recorded"].text(), width) if recorded_here else [""]
        cells.append((row["site"], row["rule"], sources, recorded))
    widths = [max(len(heads[0]), *(len(c[0]) for c in cells)), max(len(heads[1]), *(len(c[1]) for c in cells)),
              max(len(heads[2]), *(len(line) for c in cells for line in c[2]))]  # fmt: skip
    lines = [f"{heads[0]:<{widths[0]}}  {heads[1]:<{widths[1]}}  {heads[2]:<{widths[2]}}  {heads[3]}".rstrip()]
    for site, rule, sources, recorded in cells:
        for n in range(max(len(sources), len(recorded))):
            first = (site, rule) if n == 0 else ("", "")
            source = sources[n] if n < len(sources) else ""
            record = recorded[n] if n < len(recorded) else ""
            lines.append(f"{first[0]:<{widths[0]}}  {first[1]:<{widths[1]}}  {source:<{widths[2]}}  {record}".rstrip())
    if not recorded_here:
        lines += ["", NOT_INSTALLED]
    return "\n".join(lines)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")


def main(args: argparse.Namespace) -> int:
    recorded = recorded_pages()
    rows = site_rows(recorded)
    if args.format == "json":
        for row in rows:
            row["recorded"] = row["recorded"].as_json() if row["recorded"] is not None else NOT_INSTALLED
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(table(rows, recorded is not None))
    return 0
