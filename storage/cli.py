"""python -m storage: export and count what the crawler stored."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy.exc import OperationalError

from storage.db import DatabaseURLError, make_engine, mask_url, resolve_database_url
from storage.query import count_articles, iter_articles


def _parser() -> argparse.ArgumentParser:
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database-url", help="SQLAlchemy URL (default: $DATABASE_URL, else sqlite:///data/caixun.db)"
    )
    parser = argparse.ArgumentParser(prog="python -m storage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", parents=[database], help="print every stored article")
    export.add_argument("--format", choices=["jsonl"], default="jsonl", help="output format (default jsonl)")
    export.add_argument("--site", help="only articles of this site key, e.g. sina")
    commands.add_parser("count", parents=[database], help="print the number of stored articles")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        url = resolve_database_url(args.database_url)
        engine = make_engine(url)
        if args.command == "count":
            print(count_articles(engine))
        else:
            out = sys.stdout
            for record in iter_articles(engine, site=args.site):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    except DatabaseURLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"error: cannot use the database {mask_url(url)}: {exc.orig}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0
