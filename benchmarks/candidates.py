"""Command line: ``python -m benchmarks.candidates [--limit N]``.

The generic path's body candidates and the final choice, on DEVELOPMENT pages
only: every Chinese article fixture with a body (tests/fixtures, the generic
path forced: site rules bypassed) and the AEB pages. Never the holdout.

Per candidate: body F1/P/R (AEB metric; cjk tokens on fixtures, aeb tokens on
AEB) and ms per page of the body step, next to plain trafilatura
(``trafilatura.extract`` with defaults on the decoded page; the candidates'
times exclude decoding and parsing, which they share with extract()).
readability-lxml is shown as a reference when it is installed
(``.venv/bin/pip install readability-lxml``; not a requirement).
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
import time
from collections.abc import Callable

import trafilatura
from parsel import Selector

from benchmarks.metric import aggregate, score_page
from benchmarks.suites import Case, aeb_cases, fixture_cases
from extractors import generic
from extractors.clean import clean_lines
from extractors.container import best_container
from extractors.decoding import decode_html
from extractors.parsing import parse_html
from extractors.prune import prune_link_lists


def _tree(text: str) -> Selector:
    """The page parsed as extract() parses it."""
    return Selector(root=parse_html(text))


def _body(lines: list[str]) -> str:
    return clean_lines(lines).body


def trafilatura_tables(page: Selector, url: str) -> str:
    return _body(generic.trafilatura_lines(page, url, tables=True, fast=False))


def trafilatura_no_tables(page: Selector, url: str) -> str:
    return _body(generic.trafilatura_lines(page, url, tables=False, fast=False))


def trafilatura_fast(page: Selector, url: str) -> str:
    return _body(generic.trafilatura_lines(page, url, fast=True))


def pruned_trafilatura(page: Selector, url: str) -> str:
    prune_link_lists(page.root)
    return _body(generic.trafilatura_lines(page, url, fast=True))


def container(page: Selector, url: str) -> str:
    found = best_container(page.root)
    return _body(found.lines if found else [])


def readability_lxml(page: Selector, url: str) -> str:
    from readability import Document

    from extractors.rules import element_lines

    try:
        html = Document(page.root).summary(html_partial=True)
    except Exception:
        return ""
    return _body(element_lines(Selector(text=html).root))


def chosen(page: Selector, url: str) -> str:
    return generic.generic_body(page, url, None).body.body


CANDIDATES: dict[str, Callable[[Selector, str], str]] = {
    "trafilatura, tables (the old generic path)": trafilatura_tables,
    "trafilatura, no tables": trafilatura_no_tables,
    "trafilatura fast": trafilatura_fast,
    "link lists pruned + trafilatura fast": pruned_trafilatura,
    "best container (extractors.container)": container,
    "CHOSEN: extractors.generic.generic_body": chosen,
}
try:  # a reference only, not a dependency: pip 23's resolver fails on its lxml extras next to trafilatura's
    import readability  # noqa: F401

    CANDIDATES["readability-lxml (reference)"] = readability_lxml
except ImportError:
    pass


def run(cases: list[Case]) -> dict[str, tuple]:
    scores: dict[str, list] = {name: [] for name in CANDIDATES}
    ms: dict[str, float] = {name: 0.0 for name in CANDIDATES}
    plain_ms = 0.0
    picked = 0
    for case in cases:
        text = decode_html(case.html).text
        start = time.perf_counter()
        trafilatura.extract(text, url=case.url)
        plain_ms += (time.perf_counter() - start) * 1000
        parsed = _tree(text)
        for name, candidate in CANDIDATES.items():
            page = Selector(root=copy.deepcopy(parsed.root))
            start = time.perf_counter()
            body = candidate(page, case.url)
            ms[name] += (time.perf_counter() - start) * 1000
            scores[name].append(score_page(case.truth.body or "", body, case.tokenization))
        if generic.generic_body(Selector(root=copy.deepcopy(parsed.root)), case.url, None).from_container:
            picked += 1
    n = len(cases)
    return {name: (aggregate(scores[name]), ms[name] / n, plain_ms / n) for name in CANDIDATES} | {"_picked": (picked, n)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.candidates", description=__doc__.split("\n\n")[1])
    parser.add_argument("--limit", type=int, help="at most N pages per set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for noisy in ("trafilatura", "htmldate", "readability", "readability.readability"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    sets = {
        "Chinese fixtures, generic path forced": [c for c in fixture_cases() if c.truth.body],
        "AEB (181 pages, aeb tokens)": list(aeb_cases()),
    }
    for label, cases in sets.items():
        cases = cases[: args.limit] if args.limit else cases
        results = run(cases)
        picked, n = results.pop("_picked")
        print(f"\n== {label}: {n} pages; the container was chosen on {picked}")
        print(f"{'candidate':45s} {'F1':>6s} {'P':>6s} {'R':>6s} {'ms/page':>8s} {'x plain':>8s}")
        for name, (scores, ms, plain) in results.items():
            print(f"{name:45s} {scores.f1:6.3f} {scores.precision:6.3f} {scores.recall:6.3f} {ms:8.1f} {ms / plain:8.2f}")
        print(f"{'plain trafilatura.extract (decoded text)':45s} {'':6s} {'':6s} {'':6s} {plain:8.1f} {1.0:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
