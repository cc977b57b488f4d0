"""Command line: ``python -m benchmarks.run [--suite corpus|fixtures|aeb|holdout|all] [--split dev|test|all] [--generic] [--site X] [--limit N] [--json PATH] [--check]``.

Runs caixun and plain trafilatura on the same pages, prints one table per
suite (development split: corpus, fixtures, aeb; test split: holdout), and
writes every figure (per page too) as JSON. Exits 0 unless the harness itself
fails; with --check, exits 1 when a development target is missed (the test
split's figures are printed against the issue's targets, never enforced).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import platform
import sys
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import trafilatura

from benchmarks import report
from benchmarks.scoring import PageResult, Row, score_case, suite_rows, timing_groups
from benchmarks.suites import (
    FIXTURES_DIR,
    HOLDOUT_DIR,
    SHARED_DIR,
    SPLITS,
    SUITES,
    Case,
    load_cases,
    not_article_pages,
    split_of,
)
from benchmarks.systems import RUNNERS, run_caixun, run_trafilatura, warm_up
from extractors import NotAnArticle, Page, extract

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
TOKENIZATION_NOTE = {"corpus": "cjk", "fixtures": "cjk", "aeb": "aeb", "holdout": "cjk"}
SPLIT_NAMES = {"dev": "development split", "test": "test split"}


GENERIC_RUNNERS = {"caixun": partial(run_caixun, generic_only=True), "trafilatura": run_trafilatura}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[1])
    parser.add_argument("--suite", choices=(*SUITES, "all"), default="all", help="page set to run (default: all)")
    parser.add_argument(
        "--split", choices=(*SPLITS, "all"), default="all", help="dev (corpus, fixtures, aeb), test (holdout) or all (default)"
    )
    parser.add_argument(
        "--generic", action="store_true", help="force the generic path on every page (site rules off); targets printed only"
    )
    parser.add_argument("--site", help="only pages of this site key (fixture folder, manifest site, or 'aeb')")
    parser.add_argument("--limit", type=int, help="at most N pages per suite (quick runs)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default: {DEFAULT_JSON})")
    parser.add_argument("--repeat", type=int, default=3, help="time each page N times and keep the fastest (default: 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--with-bodies", action="store_true", help="also write every predicted body into the JSON")
    parser.add_argument("--shared", type=Path, default=SHARED_DIR, help=f"shared data directory (default: {SHARED_DIR})")
    parser.add_argument("--holdout", type=Path, default=HOLDOUT_DIR, help=f"test-split pages (default: {HOLDOUT_DIR})")
    return parser.parse_args(argv)


def select(cases: list[Case], site: str | None, limit: int | None) -> list[Case]:
    if site:
        cases = [c for c in cases if c.site == site]
    if limit is not None:
        cases = cases[: max(limit, 0)]
    return cases


def run_suite(cases: list[Case], repeat: int = 1, runners=RUNNERS) -> list[PageResult]:
    """Both systems on every page, alternating; with repeat > 1 a page's time is its fastest run."""
    warm_up(cases[0])
    if runners is not RUNNERS:
        runners["caixun"](cases[0])
    results = []
    for n, case in enumerate(cases, 1):
        predictions = {name: runner(case) for name, runner in runners.items()}
        for _ in range(repeat - 1):
            for name, runner in runners.items():
                predictions[name].ms = min(predictions[name].ms, runner(case).ms)
        results.append(score_case(case, predictions))
        if sys.stderr.isatty():
            print(f"\r  {n}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r" + " " * 20 + "\r", end="", file=sys.stderr, flush=True)
    return results


def _stored_as_article(url: str, html: bytes) -> bool:
    """Whether caixun would store the page as an article (video-only pages, galleries… must not be)."""
    try:
        extract(Page(url, html))
    except NotAnArticle:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    suites = SUITES if args.suite == "all" else (args.suite,)
    if args.split != "all":
        suites = tuple(suite for suite in suites if suite in SPLITS[args.split])
    runners = GENERIC_RUNNERS if args.generic else RUNNERS
    started = time.perf_counter()
    output: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "environment": {"python": platform.python_version(), "trafilatura": trafilatura.__version__, "machine": platform.machine()},
        "shared_dir": str(args.shared),
        "timing": f"ms per page = fastest of {max(args.repeat, 1)} runs, bytes to body (decoding included for both systems)",
        "caixun": "generic path forced on every page (--generic)" if args.generic else "extract(): site rule, else generic path",
        "suites": {},
    }
    all_checks: list[report.Check] = []
    summary: list[Row] = []  # the rows by kind of page of every suite, under one header
    for suite in suites:
        try:
            cases = load_cases(suite, shared_dir=args.shared, fixtures_dir=FIXTURES_DIR, holdout_dir=args.holdout)
        except FileNotFoundError as exc:
            print(f"\n== {suite}: skipped, data not found ({exc.filename})")
            output["suites"][suite] = {"skipped": f"data not found: {exc.filename}", "split": split_of(suite)}
            continue
        cases = select(cases, args.site, args.limit)
        if not cases:
            print(f"\n== {suite}: no pages")
            continue
        pages = run_suite(cases, max(args.repeat, 1), runners)
        rows = suite_rows(suite, pages)
        groups = timing_groups(pages)
        suite_checks = report.checks(suite, rows, groups, enforced=not args.generic)
        all_checks.extend(suite_checks)
        summary += [
            dataclasses.replace(row, label=f"{split_of(suite)} {suite} {row.label}")
            for row in rows
            if row.label.startswith("[") or (suite == "aeb" and row.label == "overall")
        ]
        mode = ", generic path forced" if args.generic else ""
        print(
            f"\n== {suite} ({SPLIT_NAMES[split_of(suite)]}{mode}): {len(pages)} pages, "
            f"body tokenisation {TOKENIZATION_NOTE[suite]} =="
        )
        print(report.table(rows))
        print("time per page by how caixun handled the page (ms mean/median):")
        print(report.timing_lines(groups))
        print("leaks (page, system: matched strings):")
        print(report.leak_lines(pages))
        if errors := report.error_lines(pages):
            print("no body (NotAnArticle) or errors:")
            print(errors)
        if suite in ("fixtures", "holdout") and not args.generic:
            folder = FIXTURES_DIR if suite == "fixtures" else args.holdout
            labelled = not_article_pages(folder)
            kept = [page_id for page_id, url, html in labelled if _stored_as_article(url, html)]
            if labelled:
                print(f"pages labelled not an article: {len(labelled) - len(kept)} of {len(labelled)} refused (NotAnArticle)")
                print("".join(f"  stored as an article: {page_id}\n" for page_id in kept), end="")
        output["suites"][suite] = {
            "split": split_of(suite),
            "tokenization": TOKENIZATION_NOTE[suite],
            "rows": [row.as_dict() for row in rows],
            "timing": {
                label: {name: {"pages": t.pages, "mean": t.mean, "median": t.median} for name, t in timings.items()}
                for label, timings in groups.items()
            },
            "checks": [check.as_dict() for check in suite_checks],
            "pages": [page.as_dict(with_body=args.with_bodies) for page in pages],
        }
    if summary:
        print("\ndevelopment and test split, by kind of page:")
        print(report.table(summary))
    print("\ntargets (--check; PASS/FAIL enforced, meets/MISSES printed only):")
    print("\n".join(check.line() for check in all_checks) if all_checks else "  nothing to check")
    output["checks_ok"] = all(check.ok for check in all_checks if check.enforced)
    output["seconds"] = round(time.perf_counter() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nresults: {args.json}  ({output['seconds']} s)")
    return 1 if args.check and not output["checks_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
