"""Command line: ``python -m benchmarks.run [--suite corpus|fixtures|aeb|all] [--site X] [--limit N] [--json PATH] [--check]``.

Runs caixun and plain trafilatura on the same pages, prints one table per
suite, and writes every figure (per page too) as JSON. Exits 0 unless the
harness itself fails; with --check, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import trafilatura

from benchmarks import report
from benchmarks.scoring import PageResult, score_case, suite_rows, timing_groups
from benchmarks.suites import FIXTURES_DIR, SHARED_DIR, SUITES, Case, load_cases
from benchmarks.systems import RUNNERS, warm_up

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
TOKENIZATION_NOTE = {"corpus": "cjk", "fixtures": "cjk", "aeb": "aeb"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[1])
    parser.add_argument("--suite", choices=(*SUITES, "all"), default="all", help="page set to run (default: all)")
    parser.add_argument("--site", help="only pages of this site key (fixture folder, manifest site, or 'aeb')")
    parser.add_argument("--limit", type=int, help="at most N pages per suite (quick runs)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default: {DEFAULT_JSON})")
    parser.add_argument("--repeat", type=int, default=3, help="time each page N times and keep the fastest (default: 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--with-bodies", action="store_true", help="also write every predicted body into the JSON")
    parser.add_argument("--shared", type=Path, default=SHARED_DIR, help=f"shared data directory (default: {SHARED_DIR})")
    return parser.parse_args(argv)


def select(cases: list[Case], site: str | None, limit: int | None) -> list[Case]:
    if site:
        cases = [c for c in cases if c.site == site]
    if limit is not None:
        cases = cases[: max(limit, 0)]
    return cases


def run_suite(cases: list[Case], repeat: int = 1) -> list[PageResult]:
    """Both systems on every page, alternating; with repeat > 1 a page's time is its fastest run."""
    warm_up(cases[0])
    results = []
    for n, case in enumerate(cases, 1):
        predictions = {name: runner(case) for name, runner in RUNNERS.items()}
        for _ in range(repeat - 1):
            for name, runner in RUNNERS.items():
                predictions[name].ms = min(predictions[name].ms, runner(case).ms)
        results.append(score_case(case, predictions))
        if sys.stderr.isatty():
            print(f"\r  {n}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r" + " " * 20 + "\r", end="", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    suites = SUITES if args.suite == "all" else (args.suite,)
    started = time.perf_counter()
    output: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "environment": {"python": platform.python_version(), "trafilatura": trafilatura.__version__, "machine": platform.machine()},
        "shared_dir": str(args.shared),
        "timing": f"ms per page = fastest of {max(args.repeat, 1)} runs, bytes to body (decoding included for both systems)",
        "suites": {},
    }
    all_checks: list[report.Check] = []
    for suite in suites:
        try:
            cases = load_cases(suite, shared_dir=args.shared, fixtures_dir=FIXTURES_DIR)
        except FileNotFoundError as exc:
            print(f"\n== {suite}: skipped, data not found ({exc.filename})")
            output["suites"][suite] = {"skipped": f"data not found: {exc.filename}"}
            continue
        cases = select(cases, args.site, args.limit)
        if not cases:
            print(f"\n== {suite}: no pages")
            continue
        pages = run_suite(cases, max(args.repeat, 1))
        rows = suite_rows(suite, pages)
        groups = timing_groups(pages)
        suite_checks = report.checks(suite, rows, groups)
        all_checks.extend(suite_checks)
        print(f"\n== {suite}: {len(pages)} pages, body tokenisation {TOKENIZATION_NOTE[suite]} ==")
        print(report.table(rows))
        print("time per page by how caixun handled the page (ms mean/median):")
        print(report.timing_lines(groups))
        print("leaks (page, system: matched strings):")
        print(report.leak_lines(pages))
        if errors := report.error_lines(pages):
            print("no body (NotAnArticle) or errors:")
            print(errors)
        output["suites"][suite] = {
            "tokenization": TOKENIZATION_NOTE[suite],
            "rows": [row.as_dict() for row in rows],
            "timing": {
                label: {name: {"pages": t.pages, "mean": t.mean, "median": t.median} for name, t in timings.items()}
                for label, timings in groups.items()
            },
            "checks": [check.as_dict() for check in suite_checks],
            "pages": [page.as_dict(with_body=args.with_bodies) for page in pages],
        }
    print("\ntargets (--check):")
    print("\n".join(check.line() for check in all_checks) if all_checks else "  nothing to check")
    output["checks_ok"] = all(check.ok for check in all_checks)
    output["seconds"] = round(time.perf_counter() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nresults: {args.json}  ({output['seconds']} s)")
    return 1 if args.check and not output["checks_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
