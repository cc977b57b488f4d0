"""Command line: ``python -m benchmarks.upgrade [--articles N] [--databases sqlite,postgresql] [--from REV] [--json PATH]``.

Times ``python -m storage upgrade`` from revision REV (default 0011) to the head on a store of N synthetic articles
(benchmarks.synthetic, bulk-filled as benchmarks.storage does, then taken down to REV by Alembic), as a new process,
on SQLite (a temporary file) and PostgreSQL (a fresh database, dropped afterwards). It says how long an operator's
upgrade holds the store, which the README's upgrade notes quote.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

from benchmarks.bulk_fill import bulk_fill, cache_key
from benchmarks.storage import DEFAULT_POSTGRES_URL, DATABASES, postgresql_database, sqlite_database
from benchmarks.synthetic import SEED, Synthesizer, load_sources, symbol_pool
from storage import make_engine, mask_url
from storage.migrate import downgrade

logger = logging.getLogger(__name__)
PROJECT_DIR = Path(__file__).resolve().parent.parent


def measure(url: str, articles: int, revision: str) -> dict:
    engine = make_engine(url)
    try:
        sources = load_sources()
        filled = bulk_fill(engine, Synthesizer(sources, SEED, symbol_pool(seed=SEED)), articles,
                           workers=os.cpu_count() or 1, key=cache_key(sources, SEED))  # fmt: skip
        clock = time.perf_counter()
        downgrade(engine, revision)
        down = time.perf_counter() - clock
    finally:
        engine.dispose()
    clock = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "storage", "upgrade", "--database-url", url], cwd=PROJECT_DIR,
                          capture_output=True, text=True)  # fmt: skip
    up = time.perf_counter() - clock
    if done.returncode != 0:
        raise SystemExit(f"python -m storage upgrade failed on {mask_url(url)}: {done.stderr.strip()}")
    return {"articles": articles, "fill_seconds": round(filled.seconds, 1), "downgrade_seconds": round(down, 1),
            "upgrade_seconds": round(up, 1), "upgrade_said": done.stdout.strip()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upgrade", description=__doc__.split("\n\n")[1])
    parser.add_argument("--articles", type=int, default=100_000, help="articles in the store (default 100,000)")
    parser.add_argument("--databases", default=",".join(DATABASES), help="comma-separated: sqlite, postgresql")
    parser.add_argument("--from", dest="revision", default="0011", help="the revision upgraded from (default 0011)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.articles < 1:
        parser.error("--articles must be at least 1")
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(databases) - set(DATABASES):
        parser.error(f"unknown database(s) {', '.join(sorted(unknown))}; choose from {', '.join(DATABASES)}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = {}
    for name in databases:
        store: AbstractContextManager[str] = (
            sqlite_database() if name == "sqlite" else postgresql_database(args.postgres_url)
        )
        with store as url:
            results[name] = measure(url, args.articles, args.revision)
        figures = results[name]
        print(f"{name}: {figures['articles']:,} articles, upgrade {args.revision} → head "
              f"{figures['upgrade_seconds']} s (downgrade {figures['downgrade_seconds']} s, fill {figures['fill_seconds']} s): "
              f"{figures['upgrade_said']}", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"from": args.revision, "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
