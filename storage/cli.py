"""python -m storage: read what the crawler stored, and upgrade the schema.

  query    articles by site, China-time dates, symbol and full-text search (table, jsonl or csv)
  stats    articles per site and per day, the last crawl run, field coverage (table or json)
  export   every stored article (or a site's, a period's): JSON lines or CSV (to stdout or --out), Parquet
           (--out FILE); --bom starts a CSV with a byte order mark for spreadsheet programs
  report   the crawl health report: one self-contained HTML page with charts (--out FILE)
  count    the number of stored articles
  upgrade  create or upgrade the schema (Alembic), printing "schema at <rev> (was <rev>)"

Every command takes --database-url (default: $DATABASE_URL, else data/caixun.db).
query, stats, export, report and count take --timeout SECONDS (default 30, 0: none): the
longest one database statement may run; export runs one statement per batch of
500 articles, so the limit is per batch, however long the whole export takes.
export --out FILE and report --out FILE write a hidden part file next to FILE and
rename it to FILE when complete; Parquet (pip install -r requirements-readers.txt) needs --out.
Connecting to PostgreSQL gives up after 10 s (or the timeout, if shorter).

--site is a site rule's name, "generic" (pages no rule handles) or a site the store
holds; another is refused (exit 2) with the known sites listed. --symbol is written
as stored (sh600519, sz000001, hk00700, usAAPL; any case, or 600519.SH); a bare
A-share code (600519) finds the code on any of sh, sz and bj.

Limits on input: --search at most 16 words of at most 64 characters; --since and
--until from 1900-01-01 to 2999-12-31; query --limit at most 1,000,000 (default
100; export gives everything); stats --days at most 3660.

Exit status: 0 done; 1 the database is unreachable, did not answer in time, or
cannot do what was asked (outdated schema, no search support); 2 bad input,
including a database URL that cannot work (the message names the wrong part) and
a PostgreSQL database or role that does not exist (the message says what to create).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.db import (
    DatabaseURLError, MissingDatabase, make_engine, mask_url, missing_database, reader_engine, resolve_database_url,
)
from storage.export import BOM, ExportError, atomic_output, check_output, write_parquet
from storage.extras import MissingExtra, require
from storage.migrate import OutdatedSchema, upgrade
from storage.query import (
    DEFAULT_LIMIT,
    EXPORT_FIELDS,
    MAX_LIMIT,
    MAX_STATS_DAYS,
    BadSearch,
    BadSymbol,
    DateOutOfRange,
    SearchUnavailable,
    UnknownSite,
    check_site,
    check_day,
    count_articles,
    iter_articles,
    query,
    parse_search,
    stats,
    symbol_candidates,
)
from storage.scope import CHINA, rule_sites, unknown_site
from storage.timeouts import READER_TIMEOUT, StatementTimeout

DEFAULT_COLUMNS = 100  # table width when the output is not a terminal and $COLUMNS is unset
SITE_HELP = "only this site, e.g. sina (a site rule's name, generic, or one the store holds)"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- arguments ---------------------------------------------------------------------------------------------------


def _date(value: str) -> date:
    """A YYYY-MM-DD argument, as a date within storage.query's FIRST_DAY … LAST_DAY."""
    try:
        day = date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return check_day(day)
    except DateOutOfRange as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole_number(value: str, most: int, what: str, advice: str = "") -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    if number > most:
        raise argparse.ArgumentTypeError(f"at most {most:,} {what}, got {value}{advice}")
    return number


def _limit(value: str) -> int:
    return _whole_number(value, MAX_LIMIT, "articles", ": use  python -m storage export  for everything")


def _days(value: str) -> int:
    return _whole_number(value, MAX_STATS_DAYS, "days (ten years)")


def _checked_by(check: Callable[[str], object], error: type[ValueError]) -> Callable[[str], str]:
    """An argparse type: the value as given, once `check` accepts it; `check`'s error as argparse's."""

    def checked(value: str) -> str:
        try:
            check(value)
        except error as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    return checked


_search = _checked_by(parse_search, BadSearch)
_symbol = _checked_by(symbol_candidates, BadSymbol)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected seconds from 0 (no limit) to 86400, got {value!r}")
    return seconds


def _parser() -> argparse.ArgumentParser:
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database-url", help="SQLAlchemy URL (default: $DATABASE_URL, else sqlite:///data/caixun.db)"
    )
    reading = argparse.ArgumentParser(add_help=False, parents=[database])
    reading.add_argument(
        "--timeout", type=_seconds, default=READER_TIMEOUT, metavar="SECONDS",
        help=f"longest one database statement may run (default {READER_TIMEOUT:g}; 0: no limit)",
    )  # fmt: skip
    parser = argparse.ArgumentParser(
        prog="python -m storage", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    found = commands.add_parser("query", parents=[reading], help="list articles, newest published first")
    found.add_argument("--site", help=SITE_HELP)
    found.add_argument("--since", type=_date, help="published on or after this day (YYYY-MM-DD, China time)")
    found.add_argument("--until", type=_date, help="published on or before this day (YYYY-MM-DD, China time)")
    found.add_argument(
        "--symbol", type=_symbol,
        help="only articles marking up this security, e.g. sh600519 (600519: on any of sh, sz, bj)",
    )  # fmt: skip
    found.add_argument(
        "--search", type=_search, help="words that must all be in the title or body, e.g. '宁德时代 电池' (16 at most)"
    )
    found.add_argument(
        "--limit", type=_limit, default=DEFAULT_LIMIT,
        help=f"at most this many articles (default {DEFAULT_LIMIT}, at most {MAX_LIMIT:,}; export gives all)",
    )  # fmt: skip
    found.add_argument("--format", choices=["table", "jsonl", "csv"], default="table", help="default table")

    summary = commands.add_parser("stats", parents=[reading], help="what the store holds")
    summary.add_argument("--days", type=_days, default=7, help="days counted per day (default 7, at most 3660)")
    summary.add_argument("--format", choices=["table", "json"], default="table", help="default table")

    export = commands.add_parser("export", parents=[reading], help="every stored article, streamed")
    export.add_argument(
        "--format", choices=["jsonl", "csv", "parquet"], default="jsonl",
        help="output format (default jsonl); parquet needs --out and pyarrow (requirements-readers.txt)",
    )  # fmt: skip
    export.add_argument(
        "--out", type=Path, metavar="FILE",
        help="write to this file (complete, or not at all) instead of stdout; required for parquet",
    )  # fmt: skip
    export.add_argument("--site", help=SITE_HELP)
    export.add_argument(
        "--since", type=_date, help="only articles published on or after this day (YYYY-MM-DD, China time)"
    )
    export.add_argument(
        "--until", type=_date, help="only articles published on or before this day (YYYY-MM-DD, China time)"
    )
    export.add_argument(
        "--bom", action="store_true",
        help="csv only: start with a UTF-8 byte order mark, so that spreadsheet programs (Excel) read the "
        "Chinese text right",
    )  # fmt: skip
    report = commands.add_parser(
        "report", parents=[reading], help="the crawl health report: one HTML page with charts",
        description="Articles stored per site and day, crawl runs (outcomes, bans, duration), field coverage per "
        "site with the alarm thresholds, duplicates per week, the last runs, top sources and symbols, the newest "
        "articles: one self-contained HTML file (no network needed to view it), written atomically.",
    )  # fmt: skip
    report.add_argument("--out", type=Path, required=True, metavar="FILE", help="the HTML file to write")
    report.add_argument("--since", type=_date, help="first day (YYYY-MM-DD, China time; default: a year before --until, "
                        "or the store's first day)")  # fmt: skip
    report.add_argument("--until", type=_date, help="last day (YYYY-MM-DD, China time; default: today)")
    report.add_argument("--site", help=SITE_HELP)
    commands.add_parser("count", parents=[reading], help="print the number of stored articles")
    commands.add_parser("upgrade", parents=[database], help="create or upgrade the database schema")
    return parser


# --- text layout -------------------------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Terminal columns: wide and full-width characters (Chinese) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def fit(text: str, width: int) -> str:
    """The text on one line, cut with '…' to at most `width` columns, padded to exactly `width`."""
    text = " ".join(text.split())
    if display_width(text) > width:
        kept, used = [], 1  # room for the ellipsis
        for char in text:
            used += display_width(char)
            if used > width:
                break
            kept.append(char)
        text = "".join(kept) + "…"
    return text + " " * (width - display_width(text))


def fit_middle(text: str, width: int) -> str:
    """The text, cut evenly at both ends (marked …) to fit in `width` columns: a snippet keeps its middle."""
    while display_width(text) > width and len(text) > 2:
        text = "…" + text.strip("…")[1:-1] + "…"
    return text


def _clamp(values: list[str], low: int, high: int) -> int:
    return max(low, min(high, max((display_width(v) for v in values), default=low)))


# --- output ------------------------------------------------------------------------------------------------------


def write_table(records: list[dict], out: TextIO, columns: int) -> None:
    """published_at (China time), site, title cut to fit, source; one article a line."""
    sites = [r["site"] or "" for r in records]
    sources = [r["source"] or "" for r in records]
    widths = [16, _clamp(sites + ["site"], 4, 12), 0, _clamp(sources + ["source"], 6, 16)]
    widths[2] = max(columns - sum(widths) - 2 * (len(widths) - 1), 20)
    def write(cells) -> None:
        out.write("  ".join(fit(cell, width) for cell, width in zip(cells, widths)).rstrip() + "\n")

    write(("published_at", "site", "title", "source"))
    write(tuple("-" * w for w in widths))
    for record, site, source in zip(records, sites, sources):
        published = (record["published_at"] or "-")[:16].replace("T", " ")
        write((published, site, record["title"] or "", source))
        if record.get("snippet"):  # a search: where the first hit is, in the middle of the snippet
            out.write(" " * (widths[0] + 2) + fit_middle(record["snippet"], max(columns - widths[0] - 2, 20)) + "\n")
    out.write(f"({len(records)} article{'' if len(records) == 1 else 's'})\n")


def write_jsonl(records: Iterable[dict], out: TextIO) -> None:
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_csv(records: Iterable[dict], out: TextIO, *, bom: bool = False) -> None:
    """A header row of the export's fields; lists (authors, images, symbols) as JSON. bom: a byte order mark
    first, for spreadsheet programs."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for record in records:
        writer.writerow(
            [json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for v in record.values()]
        )


def _percent(share: float) -> str:
    return f"{share:.0%}"


def write_stats_table(summary: dict, out: TextIO) -> None:
    sites = list(summary["per_site"])
    out.write(f"articles: {summary['articles']}\n")
    for site, count in summary["per_site"].items():
        out.write(f"  {site:<16}{count:>10}\n")
    run = summary["last_run"]
    if run is None:
        out.write("last crawl run: none recorded\n")
    else:
        out.write(
            f"last crawl run: {run['spider']}, started {run['started_at']}, finished {run['finished_at'] or '-'}, "
            f"finish_reason {run['finish_reason'] or '-'}, exit_status {run['exit_status']}\n"
        )
    days = summary["days"]
    out.write(f"\nper day of publication (China time), {days['first']} to {days['last']}:\n")
    rows = [["day", *sites, "total"]]
    for day, counts in summary["per_day"].items():
        rows.append([day, *(str(counts.get(site, 0)) for site in sites), str(sum(counts.values()))])
    _write_grid(rows, out)
    out.write("\nfield coverage (share of each site's articles with the field):\n")
    fields = ["articles", "title", "body", "published_at", "source", "editor", "authors"]
    rows = [["site", *fields]]
    for site, coverage in summary["coverage"].items():
        rows.append([site, str(coverage["articles"]), *(_percent(coverage[f]) for f in fields[1:])])
    _write_grid(rows, out)


def _write_grid(rows: list[list[str]], out: TextIO) -> None:
    """Left-aligned first column, right-aligned numbers."""
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [fit(row[0], widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        out.write("  " + "  ".join(cells).rstrip() + "\n")


# --- commands ----------------------------------------------------------------------------------------------------


def _query(url: str, args: argparse.Namespace, out: TextIO) -> None:
    records = query(
        reader_engine(url, timeout=args.timeout), site=args.site, since=args.since, until=args.until,
        symbol=args.symbol, search=args.search, limit=args.limit,
    )  # fmt: skip
    if args.format == "jsonl":
        write_jsonl(records, out)
    elif args.format == "csv":
        write_csv(records, out)
    else:
        write_table(records, out, shutil.get_terminal_size((DEFAULT_COLUMNS, 24)).columns)


def _stats(url: str, args: argparse.Namespace, out: TextIO) -> None:
    summary = stats(reader_engine(url, timeout=args.timeout), days=args.days)
    if args.format == "json":
        out.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    else:
        write_stats_table(summary, out)


def _export(url: str, args: argparse.Namespace, out: TextIO) -> None:
    """Streams iter_articles to stdout or, through storage.export.atomic_output, to --out."""
    if args.format == "parquet":
        require("pyarrow")  # before the database is touched
    if args.out is not None:
        check_output(args.out)
    engine = reader_engine(url, timeout=args.timeout)
    if args.site:  # before any output file is begun
        with Session(engine) as session:
            check_site(session, args.site)
    records = iter_articles(engine, site=args.site, since=args.since, until=args.until)
    if args.format == "parquet":
        with atomic_output(args.out) as binary:
            write_parquet(records, binary)
        return
    if args.format == "jsonl":
        write = write_jsonl
    else:
        def write(records: Iterable[dict], out: TextIO) -> None:
            write_csv(records, out, bom=args.bom)

    if args.out is None:
        write(records, out)
        return
    with atomic_output(args.out, text=True) as text:
        write(records, text)


def _report(url: str, args: argparse.Namespace, out: TextIO) -> None:
    from storage.report import write_report  # matplotlib: imported by this command only

    check_output(args.out, "the report")  # before the database is touched
    engine = reader_engine(url, timeout=args.timeout)
    if args.site:
        with Session(engine) as session:
            check_site(session, args.site)
    data = write_report(
        engine, args.out, since=args.since, until=args.until, site=args.site, store=mask_url(url)
    )  # fmt: skip
    period = data["period"]
    out.write(f"wrote {args.out}: {period['first']} to {period['last']}, {data['articles']} articles stored, "
              f"{len(data['runs'])} crawl runs\n")  # fmt: skip


def _count(url: str, args: argparse.Namespace, out: TextIO) -> None:
    out.write(f"{count_articles(reader_engine(url, timeout=args.timeout))}\n")


def _upgrade(url: str, _args: argparse.Namespace, out: TextIO) -> None:
    before, after = upgrade(make_engine(url, create=False))
    out.write(f"schema at {after} (was {before or 'none'})\n")


COMMANDS: dict[str, Callable[[str, argparse.Namespace, TextIO], None]] = {
    "query": _query, "stats": _stats, "export": _export, "report": _report, "count": _count, "upgrade": _upgrade,
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 on bad input
    if getattr(args, "since", None) and getattr(args, "until", None) and args.since > args.until:
        parser.error(f"--since {args.since} is after --until {args.until}")
    if args.command == "report" and args.since and not args.until and args.since > (today := datetime.now(CHINA).date()):
        parser.error(f"--since {args.since} is after today, {today}")
    if args.command == "export" and args.format == "parquet" and args.out is None:
        parser.error("export --format parquet needs --out FILE (Parquet is binary: it is never written to stdout)")
    if args.command == "export" and args.bom and args.format != "csv":
        parser.error(f"export --bom is for --format csv (a byte order mark is for spreadsheets), not {args.format}")
    url = args.database_url or ""
    try:
        url = resolve_database_url(args.database_url)
        COMMANDS[args.command](url, args, sys.stdout)
    except DatabaseURLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (UnknownSite, BadSymbol) as exc:  # the site needs the store to tell: checked after parsing
        option = "--site" if isinstance(exc, UnknownSite) else "--symbol"
        print(f"{parser.prog} {args.command}: error: argument {option}: {exc}", file=sys.stderr)
        return 2
    except MissingDatabase as exc:
        site = getattr(args, "site", None)
        if site and site not in rule_sites():  # no store to hold an older site: the name is unknown anyway
            print(f"{parser.prog} {args.command}: error: argument --site: {unknown_site(site, rule_sites())}",
                  file=sys.stderr)  # fmt: skip
            return 2
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OutdatedSchema, SearchUnavailable, CommandError, ExportError, MissingExtra) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except StatementTimeout as exc:
        print(f"error: {exc.orig}: give --timeout SECONDS for more time (0: no limit)", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        if missing := missing_database(exc, url):  # a configuration error, not an outage
            print(f"error: {missing}", file=sys.stderr)
            return 2
        print(f"error: cannot use the database {mask_url(url)}: {str(exc.orig).strip()}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. a SQLite file in a directory that cannot be made
        print(f"error: cannot use the database {mask_url(url)}: {exc}", file=sys.stderr)
        return 1
    return 0
